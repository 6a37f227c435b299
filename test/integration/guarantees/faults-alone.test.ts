/**
 * Each fault alone, on a few notes, ends in its documented outcome — retried and done, or failed
 * with a `Batch Failed` event and its inputs kept, then finished by the README's redrive — and the
 * accounting audit passes after every scenario. Each scenario also proves that its fault was
 * really injected (the emulators and the runtime count what they inject).
 */
import { CRASH_POINTS } from '../../../lambdas/shared/crash.js';
import { auditRun } from '../../support/accounting.js';
import { batchItems, dropAndSettle, redriveFailed, sampleDrops, startScenario, type Drop } from './harness.js';

// Four notes and one empty file: the rejection path runs in every scenario too.
const drops: Drop[] = [...sampleDrops('clinic-south').slice(0, 4), { key: 'inbox/bad/empty.txt', body: '' }];
const dropped = drops.map((d) => d.key);
/** A one-hour detection deadline, so that a slow job passes it in few polls. */
const shortDeadline = { 'chartflow:detectionPoll': { deadlineSeconds: 3600 } };

async function run(faults: string, context?: Record<string, unknown>) {
  const scenario = await startScenario({ faults, ...(context ? { context } : {}) });
  try {
    await dropAndSettle(scenario.runtime, drops);
    return { scenario, batches: await batchItems(scenario.runtime), injected: scenario.runtime.faultsInjected() };
  } catch (error) {
    await scenario.stop();
    throw error;
  }
}

const total = (counts: Record<string, number>, prefix: string) =>
  Object.entries(counts).filter(([k]) => k === prefix || k.startsWith(`${prefix}:`)).reduce((n, [, c]) => n + c, 0);

describe('retried and done', () => {
  test.each([
    ['cm.throttle=0.3,seed=3', 'cm.throttle'],
    ['cm.activeLimit=0.6,seed=4', 'cm.activeLimit'],
    ['cm.busyStarts=3', 'cm.busyStarts'],
    ['cm.internal=0.2,seed=5', 'cm.internal'],
    ['er.throttle=0.3,er.internal=0.2,seed=6', 'er.throttle'],
    ['er.conflict=0.7,seed=7', 'er.conflict'],
    ['s3.duplicate=1,s3.reorder=90,seed=8', 's3.duplicate'],
    ['sqs.redeliver=1,seed=9', 'sqs.redeliver'],
    ['lambda.serviceError=1,seed=10', 'lambda.serviceError'],
    ['crash=ingest:job-started,crash=start-jobs:job-started', 'crash'],
    // run-released is reached only when a ConflictException gives the matching turn back.
    ['er.conflict=0.7,seed=7,crash=matching:run-released', 'crash:matching:run-released'],
  ])('%s', async (faults, kind) => {
    const { scenario, batches, injected } = await run(faults);
    try {
      expect(total(injected, kind)).toBeGreaterThan(0);
      expect(batches.map((b) => b.status)).toEqual(batches.map(() => 'COMPLETED'));
      const { counts, violations } = await auditRun(scenario.runtime, { dropped });
      expect(violations).toEqual([]);
      expect(counts).toMatchObject({ processed: 4, rejected: 1, lost: 0, duplicated: 0, duplicateJobs: 0 });
    } finally {
      await scenario.stop();
    }
  }, 60_000);

  test('cm.partial=1: PARTIAL_SUCCESS completes, the unprocessed documents recorded with a reason', async () => {
    const { scenario, batches, injected } = await run('cm.partial=1');
    try {
      expect(injected['cm.partial']).toBe(2);
      expect(batches.map((b) => [b.status, b.outcome])).toEqual([['COMPLETED', 'PARTIAL_SUCCESS']]);
      const { counts, violations } = await auditRun(scenario.runtime, { dropped });
      expect(violations).toEqual([]);
      expect(counts.unprocessed).toBeGreaterThan(0);
      expect(counts.processed + counts.unprocessed).toBe(4);
    } finally {
      await scenario.stop();
    }
  }, 60_000);
});

test('cm.partial=1 on a one-document batch: the batch completes with the document recorded UNPROCESSED', async () => {
  // Found by the mixed run: the only document left unprocessed failed the batch for good
  // (OutputsUnreadable), and every redrive reused the same finished jobs and failed again.
  const scenario = await startScenario({ faults: 'cm.partial=1' });
  try {
    const one = drops.slice(0, 1);
    await dropAndSettle(scenario.runtime, one);
    const batches = await batchItems(scenario.runtime);
    expect(batches.map((b) => [b.status, b.outcome, b.processedCount, b.unprocessedCount])).toEqual([['COMPLETED', 'PARTIAL_SUCCESS', 0, 1]]);
    const { counts, violations } = await auditRun(scenario.runtime, { dropped: one.map((d) => d.key) });
    expect(violations).toEqual([]);
    expect(counts).toMatchObject({ unprocessed: 1, lost: 0, duplicated: 0 });
  } finally {
    await scenario.stop();
  }
}, 60_000);

describe('the ingest Lambda crashing at each of its steps', () => {
  test.each(CRASH_POINTS.ingest.filter((p) => p !== 'job-started'))('crash=ingest:%s', async (point) => {
    const { scenario, batches, injected } = await run(`crash=ingest:${point}`);
    try {
      expect(injected[`crash:ingest:${point}`]).toBe(1);
      expect(batches.map((b) => b.status)).toEqual(['COMPLETED']);
      const { counts, violations } = await auditRun(scenario.runtime, { dropped });
      expect(violations).toEqual([]);
      expect(counts).toMatchObject({ processed: 4, rejected: 1, lost: 0, duplicated: 0, duplicateJobs: 0 });
    } finally {
      await scenario.stop();
    }
  }, 60_000);
});

describe('the state machine Lambdas crashing at each of their steps', () => {
  // run-released and batch-failed are reached only on failure paths: see the other groups.
  const points = (['collect-results', 'matching', 'finalize'] as const).flatMap((fn) =>
    CRASH_POINTS[fn].filter((p) => p !== 'run-released' && p !== 'batch-failed').map((p) => `${fn}:${p}`),
  );
  test.each(points)('crash=%s', async (point) => {
    const { scenario, batches, injected } = await run(`crash=${point}`);
    try {
      expect(injected[`crash:${point}`]).toBe(1);
      expect(batches.map((b) => b.status)).toEqual(['COMPLETED']);
      const { counts, violations } = await auditRun(scenario.runtime, { dropped });
      expect(violations).toEqual([]);
      expect(counts).toMatchObject({ processed: 4, rejected: 1, lost: 0, duplicated: 0, duplicateJobs: 0 });
    } finally {
      await scenario.stop();
    }
  }, 60_000);
});

describe('failed with Batch Failed, inputs kept, then redriven', () => {
  test.each([
    ['cm.failed=1', 'cm.failed', 'JobFailed', (f: import('../../../local/faults.js').FaultSpec) => { f.cmJobFailedRate = 0; }],
    ['cm.stopped=1', 'cm.stopped', 'JobStopped', (f: import('../../../local/faults.js').FaultSpec) => { f.cmJobStoppedRate = 0; }],
    ['er.failed=1', 'er.failed', 'MatchingFailed', (f: import('../../../local/faults.js').FaultSpec) => { f.erJobFailedRate = 0; }],
    ['cm.slow=1,cm.slowMinutes=100', 'cm.slow', 'DeadlineExceeded', () => {}],
    // Recording the failure crashes once; the task's retry records it.
    ['cm.failed=1,crash=finalize:batch-failed', 'crash:finalize:batch-failed', 'JobFailed', (f: import('../../../local/faults.js').FaultSpec) => { f.cmJobFailedRate = 0; }],
  ])('%s', async (faults, kind, error, clear) => {
    const { scenario, batches, injected } = await run(faults, kind === 'cm.slow' ? shortDeadline : undefined);
    try {
      expect(injected[kind]).toBeGreaterThan(0);
      expect(batches.map((b) => [b.status, b.error])).toEqual([['FAILED', error]]);
      const failed = await auditRun(scenario.runtime, { dropped, allowFailed: true });
      expect(failed.violations).toEqual([]);
      expect(failed.counts).toMatchObject({ awaitingRedrive: 4, rejected: 1, lost: 0 });

      clear(scenario.faults); // the cause is gone (the emulators read the faults on every call)
      expect(await redriveFailed(scenario.runtime)).toBe(1);
      expect((await batchItems(scenario.runtime)).map((b) => b.status)).toEqual(['COMPLETED']);
      const done = await auditRun(scenario.runtime, { dropped });
      expect(done.violations).toEqual([]);
      expect(done.counts).toMatchObject({ processed: 4, rejected: 1, lost: 0, duplicated: 0, duplicateJobs: 0 });
    } finally {
      await scenario.stop();
    }
  }, 60_000);
});
