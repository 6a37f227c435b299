/**
 * Thousands of tiny files at once: each processed exactly once, in a few large batches (never one
 * job per file), with the accounting audit clean. (About two minutes on two busy cores: a soak
 * test; `npm test` runs the same with 600 files in test/integration/guarantees/tiny-files.test.ts.)
 */
import { auditRun } from '../support/accounting.js';
import { dropAndSettle, startScenario, syntheticDrops } from '../integration/guarantees/harness.js';

test('3,000 tiny files at once: every one processed once, in full batches', async () => {
  const tiny = await startScenario();
  try {
    const drops = syntheticDrops(3000, 'tiny').map((d, i) => ({ key: d.key, body: `Visit ${i}: cough, prescribed amoxicillin 500 mg.` }));
    await dropAndSettle(tiny.runtime, drops, 16);
    const { counts, violations } = await auditRun(tiny.runtime, { dropped: drops.map((d) => d.key) });
    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ documents: 3000, processed: 3000, lost: 0, duplicated: 0, duplicateJobs: 0 });
    expect(counts.batches).toBeLessThanOrEqual(8); // batches of up to 500, never one per file
  } finally {
    await tiny.stop();
  }
}, 300_000);
