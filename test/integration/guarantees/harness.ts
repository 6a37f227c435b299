/**
 * Scenarios of the guarantees suite: a fresh offline runtime (the synthesized stack on the
 * emulators) with faults, documents dropped through the real S3 client, a run to quiescence, the
 * README's redrive procedure, and the accounting audit.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BatchItem } from '../../../contracts/table.js';
import { collectFiles } from '../../../local/cli.js';
import { parseFaults, type FaultSpec } from '../../../local/faults.js';
import { LocalRuntime } from '../../../local/runtime/runtime.js';
import { scanAll } from '../../../local/runtime/summary.js';

export interface Drop {
  key: string;
  body: Uint8Array | string;
}

export interface Scenario {
  runtime: LocalRuntime;
  faults: FaultSpec;
  stop(): Promise<void>;
}

export async function startScenario(options: { faults?: string; context?: Record<string, unknown> } = {}): Promise<Scenario> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-guarantees-'));
  const faults = parseFaults(options.faults);
  const runtime = await LocalRuntime.start({ dataDir, faults, ...(options.context ? { context: options.context } : {}) });
  return {
    runtime,
    faults,
    async stop() {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Puts the objects (in order, as one upload would) and waits until the pipeline is quiescent. */
export async function dropAndSettle(runtime: LocalRuntime, drops: readonly Drop[], concurrency = 8): Promise<void> {
  const s3 = runtime.s3Client();
  let next = 0;
  const worker = async () => {
    while (next < drops.length) {
      const { key, body } = drops[next++]!;
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      await s3.send(new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: bytes, ContentLength: bytes.length }));
    }
  };
  await runtime.scheduler.track(Promise.all(Array.from({ length: Math.min(concurrency, drops.length) }, worker)));
  await runtime.settled();
}

/** The notes of sample folders, as drops. */
export function sampleDrops(...folders: string[]): Drop[] {
  return collectFiles(folders.map((f) => `samples/${f}`)).map(({ file, key }) => ({ key, body: readFileSync(file) }));
}

/**
 * `count` distinct notes built from the sample notes (each a sample note plus a unique visit
 * line), keyed `inbox/<prefix>/<n>.txt`.
 */
export function syntheticDrops(count: number, prefix: string): Drop[] {
  const notes = sampleDrops('clinic-north', 'clinic-south', 'emergency', 'inpatient').map((d) => Buffer.from(d.body).toString('utf8'));
  return Array.from({ length: count }, (_, i) => ({
    key: `inbox/${prefix}/${String(i).padStart(5, '0')}.txt`,
    body: `${notes[i % notes.length]!}\nVisit reference ${prefix}-${i}.\n`,
  }));
}

export async function batchItems(runtime: LocalRuntime): Promise<BatchItem[]> {
  const dynamo = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, region: 'us-east-1', credentials: runtime.credentials });
  const items = await scanAll(dynamo, runtime.tableName);
  dynamo.destroy();
  return items.filter((i) => i.entity === 'BATCH') as unknown as BatchItem[];
}

/**
 * The README's redrive procedure: every FAILED batch gets a new execution named
 * `<batchId>-redrive-<n>` with its original input, through the real SFN client; repeated while
 * batches fail again (faults may still be on), at most `rounds` times. Returns the redrives started.
 */
export async function redriveFailed(runtime: LocalRuntime, rounds = 5): Promise<number> {
  const sfn = new SFNClient({ endpoint: runtime.endpoints.stepfunctions, region: 'us-east-1', credentials: runtime.credentials });
  const attempts = new Map<string, number>();
  let started = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const failed = (await batchItems(runtime)).filter((b) => b.status === 'FAILED');
      if (failed.length === 0) break;
      for (const batch of failed) {
        const n = (attempts.get(batch.batchId) ?? 0) + 1;
        attempts.set(batch.batchId, n);
        await runtime.scheduler.track(sfn.send(new StartExecutionCommand({
          stateMachineArn: runtime.stateMachineArn,
          name: `${batch.batchId}-redrive-${n}`,
          input: JSON.stringify({ batchId: batch.batchId, documentCount: batch.documentCount ?? batch.documentIds?.length ?? 0 }),
        })));
        started++;
      }
      await runtime.settled();
    }
  } finally {
    sfn.destroy();
  }
  return started;
}
