/**
 * The local S3 keeps bucket, configuration and object metadata lookups in memory (a bench speed-up):
 * every write through the API must be seen by the next read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3, type LocalS3 } from '../../local/emulators/s3.js';

let s3: LocalS3;
let client: S3Client;
let dir: string;
const Bucket = 'cache-bucket';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 's3-cache-'));
  s3 = await startS3({ directory: dir });
  await s3.createBucket(Bucket);
  client = s3.client({ maxAttempts: 1 });
});
afterAll(async () => {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
});

const head = (Key: string) => client.send(new HeadObjectCommand({ Bucket, Key }));
const body = async (Key: string) => (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

test('an overwrite is seen by HEAD and GET at once', async () => {
  await client.send(new PutObjectCommand({ Bucket, Key: 'a.txt', Body: 'one' }));
  const first = await head('a.txt');
  await body('a.txt');
  await client.send(new PutObjectCommand({ Bucket, Key: 'a.txt', Body: 'three' }));
  const second = await head('a.txt');
  expect(second.ContentLength).toBe(5);
  expect(second.ETag).not.toBe(first.ETag);
  expect(await body('a.txt')).toBe('three');
});

test('a copy over a read object and a delete are seen', async () => {
  await client.send(new PutObjectCommand({ Bucket, Key: 'src.txt', Body: 'source body' }));
  await client.send(new PutObjectCommand({ Bucket, Key: 'dst.txt', Body: 'x' }));
  expect((await head('dst.txt')).ContentLength).toBe(1);
  await client.send(new CopyObjectCommand({ Bucket, Key: 'dst.txt', CopySource: `${Bucket}/src.txt` }));
  expect((await head('dst.txt')).ContentLength).toBe(11);
  await client.send(new DeleteObjectCommand({ Bucket, Key: 'dst.txt' }));
  await expect(head('dst.txt')).rejects.toMatchObject({ name: 'NotFound' });
});

test('metadata written with a put is returned, and replaced by the next put', async () => {
  await client.send(new PutObjectCommand({ Bucket, Key: 'm.txt', Body: 'm', Metadata: { reason: 'EMPTY' } }));
  expect((await head('m.txt')).Metadata).toEqual({ reason: 'EMPTY' });
  await client.send(new PutObjectCommand({ Bucket, Key: 'm.txt', Body: 'm', Metadata: { reason: 'TOO_LARGE' } }));
  expect((await head('m.txt')).Metadata).toEqual({ reason: 'TOO_LARGE' });
});
