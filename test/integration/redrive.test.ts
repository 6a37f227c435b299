/**
 * The README's redrive procedure, end to end: a batch whose Comprehend Medical jobs fail ends
 * FAILED with its inputs kept; once the cause is gone, a new execution with the original input
 * (through the real SFN client) finishes it with new jobs, and no document is lost or duplicated.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { collectFiles } from '../../local/cli.js';
import { parseFaults } from '../../local/faults.js';
import { LocalRuntime } from '../../local/runtime/runtime.js';
import { summarize } from '../../local/runtime/summary.js';

test('a failed batch is redriven with a new execution and completes', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-redrive-'));
  const faults = parseFaults('cm.job=FAILED');
  const runtime = await LocalRuntime.start({ dataDir, faults });
  try {
    const files = collectFiles(['samples/clinic-south']);
    const s3 = runtime.s3Client();
    await runtime.scheduler.track((async () => {
      for (const { file, key } of files) await s3.send(new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: readFileSync(file) }));
    })());
    await runtime.settled();
    const failed = await summarize(runtime);
    expect(failed.batches.map((b) => [b.status, b.error])).toEqual([['FAILED', 'JobFailed']]);
    const { batchId, documents } = failed.batches[0]!;

    faults.cmJobOutcome = 'COMPLETED'; // the cause is gone (the emulator reads faults on every call)
    const sfn = new SFNClient({ endpoint: runtime.endpoints.stepfunctions, region: 'us-east-1', credentials: runtime.credentials });
    await sfn.send(new StartExecutionCommand({
      stateMachineArn: runtime.stateMachineArn,
      name: `${batchId}-redrive-1`,
      input: JSON.stringify({ batchId, documentCount: documents }),
    }));
    await runtime.settled();
    const done = await summarize(runtime);
    expect(done.batches.map((b) => [b.batchId, b.status])).toEqual([[batchId, 'COMPLETED']]);
    expect(done.documents.processed).toBe(files.length);
    expect(done.comprehendJobs).toBe(4); // the two failed jobs, and two new ones — never more
    expect(done.events['Batch Failed']).toBe(1);
    expect(done.events['Batch Completed']).toBe(1);
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
