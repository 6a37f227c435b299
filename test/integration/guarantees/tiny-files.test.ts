/**
 * Many tiny files at once: each processed exactly once, in large batches (never one job per
 * file), with the accounting audit clean. 600 files here (two batches of at most 500); the
 * 3,000-file run is test/soak/tiny-files.soak.ts.
 */
import { auditRun } from '../../support/accounting.js';
import { dropAndSettle, startScenario, syntheticDrops } from './harness.js';

test('600 tiny files at once: every one processed once, in batches of up to 500', async () => {
  const tiny = await startScenario();
  try {
    const drops = syntheticDrops(600, 'tiny').map((d, i) => ({ key: d.key, body: `Visit ${i}: cough, prescribed amoxicillin 500 mg.` }));
    await dropAndSettle(tiny.runtime, drops, 16);
    const { counts, violations } = await auditRun(tiny.runtime, { dropped: drops.map((d) => d.key) });
    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ documents: 600, processed: 600, lost: 0, duplicated: 0, duplicateJobs: 0 });
    expect(counts.batches).toBeGreaterThanOrEqual(2);
    expect(counts.batches).toBeLessThanOrEqual(4); // batches of up to 500, never one per file
  } finally {
    await tiny.stop();
  }
}, 120_000);
