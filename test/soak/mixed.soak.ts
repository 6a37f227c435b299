/**
 * Every fault at once, at random with a fixed seed, over 1,000 documents in batches of 100: the
 * accounting audit after the run and the README's redrive of whatever failed. Prints the figures
 * (documents, faults injected per kind, lost, duplicated) that the README's "Guarantees" quotes.
 *
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --testMatch '<rootDir>/test/soak/**\/*.soak.ts'
 */
import { auditRun } from '../support/accounting.js';
import { batchItems, dropAndSettle, redriveFailed, sampleDrops, startScenario, syntheticDrops } from '../integration/guarantees/harness.js';

const DOCUMENTS = 1000;
const FAULTS = [
  'cm.throttle=0.1', 'cm.internal=0.05', 'cm.activeLimit=0.2',
  'cm.failed=0.08', 'cm.stopped=0.05', 'cm.partial=0.1', 'cm.slow=0.05', 'cm.slowMinutes=100',
  'er.throttle=0.1', 'er.internal=0.05', 'er.conflict=0.2', 'er.failed=0.1',
  's3.duplicate=0.3', 's3.reorder=120', 'sqs.redeliver=0.1',
  'crash.rate=0.02', 'lambda.serviceError=0.1',
  'seed=2026',
].join(',');

test(`all faults mixed over ${DOCUMENTS} documents: nothing lost, nothing duplicated`, async () => {
  const scenario = await startScenario({
    faults: FAULTS,
    context: { 'chartflow:batchSize': 100, 'chartflow:detectionPoll': { deadlineSeconds: 3600 } },
  });
  try {
    const started = Date.now();
    const bad = sampleDrops('bad');
    const drops = [...syntheticDrops(DOCUMENTS - bad.length, 'mixed'), ...bad];
    await dropAndSettle(scenario.runtime, drops, 16);
    const failedBeforeRedrive = (await batchItems(scenario.runtime)).filter((b) => b.status === 'FAILED').length;
    const redrives = await redriveFailed(scenario.runtime, 8);
    const batches = await batchItems(scenario.runtime);
    const { counts, violations } = await auditRun(scenario.runtime, { dropped: drops.map((d) => d.key) });
    const injected = scenario.runtime.faultsInjected();
    const crashes = Object.entries(injected).filter(([k]) => k.startsWith('crash:')).reduce((n, [, c]) => n + c, 0);
    const figures = {
      faults: FAULTS,
      documents: counts.documents,
      processed: counts.processed,
      unprocessed: counts.unprocessed,
      rejected: counts.rejected,
      lost: counts.lost,
      duplicated: counts.duplicated,
      duplicateJobs: counts.duplicateJobs,
      orphanCandidates: counts.orphanCandidates,
      batches: batches.length,
      batchesFailedBeforeRedrive: failedBeforeRedrive,
      redrives,
      comprehendJobs: counts.comprehendJobs,
      deadLetters: scenario.runtime.deadLetters.length,
      faultsInjected: { ...injected, 'crash (all points)': crashes },
      realSeconds: Math.round((Date.now() - started) / 1000),
      virtualHours: Math.round((scenario.runtime.scheduler.clock.now() - scenario.runtime.startedAt) / 36_000) / 100,
    };
    process.stdout.write(`\nMixed-fault run:\n${JSON.stringify(figures, null, 2)}\n`);

    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ documents: DOCUMENTS, lost: 0, duplicated: 0, duplicateJobs: 0 });
    expect(counts.processed + counts.unprocessed + counts.rejected).toBe(DOCUMENTS);
    expect(batches.every((b) => b.status === 'COMPLETED')).toBe(true);
    expect(batches.length).toBeGreaterThanOrEqual(DOCUMENTS / 100);
    // Every kind of fault really happened.
    for (const kind of ['cm.throttle', 'cm.internal', 'cm.activeLimit', 'cm.failed', 'cm.stopped', 'cm.partial', 'cm.slow', 'er.throttle', 'er.conflict', 'er.failed', 's3.duplicate', 's3.reorder', 'sqs.redeliver', 'lambda.serviceError']) {
      expect({ kind, injected: injected[kind] ?? 0 }).toEqual({ kind, injected: expect.any(Number) });
      expect(injected[kind]).toBeGreaterThan(0);
    }
    expect(crashes).toBeGreaterThan(0);
  } finally {
    await scenario.stop();
  }
}, 900_000);
