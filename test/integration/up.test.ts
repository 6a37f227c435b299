/**
 * `chartflow up` as a user runs it: a child process printing one line of JSON with the endpoints;
 * a plain SDK client puts a note under inbox/ and sees the batch complete; SIGTERM stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

interface UpLine {
  s3: string; dynamodb: string; stepfunctions: string; events: string; comprehendmedical: string; entityresolution: string;
  region: string; credentials: { accessKeyId: string; secretAccessKey: string }; bucket: string; table: string;
}

test('up prints its endpoints, processes what a client drops, and stops on SIGTERM', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-up-'));
  const child = spawn(path.join('node_modules', '.bin', 'tsx'), ['local/cli.ts', 'up', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`up exited with ${code}`)));
    });
    const up = JSON.parse(first) as UpLine;
    for (const name of ['s3', 'dynamodb', 'stepfunctions', 'events', 'comprehendmedical', 'entityresolution'] as const) {
      expect(up[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
    const client = { region: up.region, credentials: up.credentials };
    const s3 = new S3Client({ ...client, endpoint: up.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await s3.send(new PutObjectCommand({ Bucket: up.bucket, Key: 'inbox/up-test/note.txt', Body: 'Patient: Ada Lovelace. DOB 12/10/1985. MRN: 424242. Denies chest pain. Metformin 500 mg po bid.' }));
    const table = DynamoDBDocumentClient.from(new DynamoDBClient({ ...client, endpoint: up.dynamodb }));
    let status: string | undefined;
    for (let i = 0; i < 120 && status !== 'COMPLETED'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const items = (await table.send(new ScanCommand({ TableName: up.table }))).Items ?? [];
      status = items.find((item) => item.entity === 'BATCH' && item.status !== 'OPEN')?.status as string | undefined;
    }
    expect(status).toBe('COMPLETED');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
