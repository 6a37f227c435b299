/**
 * Test fixture: a local S3 in a temporary folder, the emulator on a virtual clock, and SDK
 * clients pointed at both. Used by the *.test.ts files of this folder only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComprehendMedicalClient } from '@aws-sdk/client-comprehendmedical';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { VirtualClock } from '../../clock.js';
import { defaultFaults, type FaultSpec } from '../../faults.js';
import { startS3, type LocalS3 } from '../s3.js';
import { startComprehendMedicalEmulator, type ComprehendMedicalEmulator, type EmulatorLogger } from './index.js';

export const ACCOUNT = '000000000000';
export const ROLE = 'arn:aws:iam::000000000000:role/ComprehendMedicalData';
export const BUCKET = 'documents';

export interface Fixture {
  clock: VirtualClock;
  faults: FaultSpec;
  s3: LocalS3;
  s3Client: S3Client;
  emulator: ComprehendMedicalEmulator;
  cm: ComprehendMedicalClient;
  close(): Promise<void>;
}

export async function startFixture(faults: Partial<FaultSpec> = {}, logger?: EmulatorLogger): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'chartflow-cm-'));
  const s3 = await startS3({ directory: dir });
  await s3.createBucket(BUCKET);
  const s3Client = s3.client({ maxAttempts: 1 });
  const clock = new VirtualClock();
  const spec: FaultSpec = { ...defaultFaults, crashAt: [], ...faults };
  const emulator = await startComprehendMedicalEmulator({ s3: s3Client, clock, faults: spec, accountId: ACCOUNT, region: 'us-east-1', logger });
  const cm = new ComprehendMedicalClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // Each call is answered once: tests see throttling and internal errors as they happen.
    maxAttempts: 1,
  });
  return {
    clock,
    faults: spec,
    s3,
    s3Client,
    emulator,
    cm,
    async close() {
      cm.destroy();
      await emulator.stop();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const putText = (client: S3Client, key: string, body: string | Uint8Array) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }));

export async function getText(client: S3Client, key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await got.Body?.transformToString('utf8')) ?? '';
}

export async function listKeys(client: S3Client, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((c) => c.Key ?? '').sort();
}

/** A valid Start*Job request reading `input` and writing below `output`. */
export const jobRequest = (input: string, output: string, extra: Record<string, string> = {}) => ({
  InputDataConfig: { S3Bucket: BUCKET, S3Key: input },
  OutputDataConfig: { S3Bucket: BUCKET, S3Key: output },
  DataAccessRoleArn: ROLE,
  LanguageCode: 'en' as const,
  ...extra,
});

/** Raw awsJson1_1 call, for requests the SDK would not send. */
export async function rawCall(endpoint: string, target: string | undefined, body: string | Uint8Array): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-amz-json-1.1' };
  if (target !== undefined) headers['X-Amz-Target'] = target;
  const res = await fetch(endpoint, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Resolves with the error a promise rejects with (fails the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}
