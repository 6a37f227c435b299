/**
 * Faults of the offline runtime, each ending in its documented outcome with no document lost:
 * the same stack and samples as `npm start`, one clinic's notes per scenario.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { collectFiles } from '../../local/cli.js';
import { parseFaults } from '../../local/faults.js';
import { LocalRuntime } from '../../local/runtime/runtime.js';
import { summarize, type RunSummary } from '../../local/runtime/summary.js';

const files = collectFiles(['samples/clinic-north']);

async function run(faults: string): Promise<RunSummary> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-faults-'));
  const runtime = await LocalRuntime.start({ dataDir, faults: parseFaults(faults) });
  try {
    const s3 = runtime.s3Client();
    await runtime.scheduler.track((async () => {
      for (const { file, key } of files) await s3.send(new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: readFileSync(file) }));
    })());
    await runtime.settled();
    return await summarize(runtime);
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every document is in exactly one batch; the batches account for all of them. */
function expectNothingLost(s: RunSummary) {
  expect(s.documents.dropped).toBe(files.length);
  expect(s.batches.reduce((n, b) => n + b.documents, 0)).toBe(files.length);
  expect(s.deadLetters).toBe(0);
}

test.each([
  ['cm.throttle=0.3,seed=3'],
  ['cm.internal=0.2,seed=5'],
  ['crash=ingest:after-claim'],
  ['crash=ingest:after-start-jobs'],
  ['crash=collect-results:records-written'],
  ['cm.jobMinutes=180'],
])('%s: retried and done', async (faults) => {
  const s = await run(faults);
  expectNothingLost(s);
  expect(s.batches.map((b) => b.status)).toEqual(s.batches.map(() => 'COMPLETED'));
  expect(s.documents.processed).toBe(files.length);
  expect(s.comprehendJobs).toBe(2 * s.batches.length); // never a second job for the same documents
}, 120_000);

test('a long job is followed with few transitions: 3 virtual hours of polling', async () => {
  const s = await run('cm.jobMinutes=180');
  expect(s.virtualMinutes).toBeGreaterThan(180);
  // Fixed 30-second polling of two jobs for 180 minutes is 2 × 360 polls × 3 transitions = 2,160.
  for (const b of s.batches) expect(b.transitions).toBeLessThan(2160 / 5);
}, 120_000);

test.each([
  ['cm.job=FAILED', 'JobFailed'],
  ['cm.job=STOPPED', 'JobStopped'],
  ['er.job=FAILED', 'MatchingFailed'],
])('%s: the batch fails with a Batch Failed event and its inputs kept', async (faults, error) => {
  const s = await run(faults);
  expectNothingLost(s);
  expect(s.batches.map((b) => [b.status, b.error])).toEqual(s.batches.map(() => ['FAILED', error]));
  expect(s.events['Batch Failed']).toBe(s.batches.length);
}, 120_000);

test('cm.job=PARTIAL_SUCCESS: the batch completes, the unprocessed documents are recorded', async () => {
  const s = await run('cm.job=PARTIAL_SUCCESS');
  expectNothingLost(s);
  expect(s.documents.unprocessed).toBeGreaterThan(0);
  expect(s.documents.processed + s.documents.unprocessed).toBe(files.length);
  expect(s.batches.every((b) => b.status === 'COMPLETED')).toBe(true);
}, 120_000);
