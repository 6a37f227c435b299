import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { VirtualClock } from '../clock.js';
import { encodeEventKey, startS3, type LocalS3 } from './s3.js';

const BUCKET = 'documents';

describe('local S3 (s3rver)', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;
  const records: S3EventRecord[] = [];
  const clock = new VirtualClock(Date.UTC(2026, 0, 2, 3, 4, 5));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chartflow-s3-'));
    s3 = await startS3({ directory: dir, clock });
    await s3.createBucket(BUCKET);
    await s3.createBucket(BUCKET); // idempotent
    s3.onEvent((record) => records.push(record));
    client = s3.client();
  });

  afterAll(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    records.length = 0;
  });

  it('listens on loopback and hands out clients configured for s3rver', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(client.config.forcePathStyle).toBe(true);
  });

  it('stores and returns an object byte for byte (no aws-chunked framing)', async () => {
    const body = 'Pt denies chest pain.\nBP 132/84 — é ✓\n';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/a.txt', Body: body, ContentType: 'text/plain' }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/a.txt' }));
    expect(await got.Body?.transformToString('utf8')).toBe(body);
    expect(got.ContentLength).toBe(Buffer.byteLength(body));
  });

  it('pages through 1,500 objects with continuation tokens (single DES on OpenSSL 3)', async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((Key) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))));
    }
    const first = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }));
    expect(first.IsTruncated).toBe(true);
    expect(first.KeyCount).toBe(1000);
    expect(first.NextContinuationToken).toBeTruthy();

    const listed: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client, pageSize: 400 }, { Bucket: BUCKET, Prefix: 'many/' })) {
      pages += 1;
      listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    }
    expect(pages).toBe(4);
    expect(listed).toEqual(keys);
  });

  it('emits AWS-shaped ObjectCreated:Put records with the key URL-encoded', async () => {
    const key = 'inbox/clinic north/note (1)+é.txt';
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'hello' }));
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-01-02T03:04:05.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
        object: { key: 'inbox/clinic+north/note+%281%29%2B%C3%A9.txt', size: 5, eTag: put.ETag?.replace(/"/g, '') },
      },
    });
    expect(record.s3.object.versionId).toBeUndefined();
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16}$/);
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
  });

  it('gives increasing sequencers and delete records without size or eTag', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/seq.txt', Body: 'one' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/seq.txt', Body: 'two!' }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'inbox/seq.txt' }));
    expect(records.map((r) => r.eventName)).toEqual(['ObjectCreated:Put', 'ObjectCreated:Put', 'ObjectRemoved:Delete']);
    const [a, b, c] = records.map((r) => BigInt(`0x${r.s3.object.sequencer}`));
    expect(a! < b! && b! < c!).toBe(true);
    expect(records[2]!.s3.object).not.toHaveProperty('size');
    expect(records[2]!.s3.object).not.toHaveProperty('eTag');
  });

  const copyCases = ['plain.txt', 'with space.txt', 'with+plus.txt', 'mixed é,=&+ (2).txt'].flatMap((name) => [
    { name, encoding: 'per segment', encode: (key: string) => key.split('/').map(encodeURIComponent).join('/') },
    { name, encoding: 'whole key', encode: (key: string) => encodeURIComponent(key) },
  ]);
  it.each(copyCases)('copies $name with a CopySource URL-encoded $encoding and emits ObjectCreated:Copy with an eTag', async ({ name, encode }) => {
    const source = `inbox/${name}`;
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: source, Body: `copy of ${name}` }));
    records.length = 0;
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'batches/b1/input/doc.txt', CopySource: `${BUCKET}/${encode(source)}` }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'batches/b1/input/doc.txt' }));
    expect(await got.Body?.transformToString()).toBe(`copy of ${name}`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:Copy',
      s3: { object: { key: 'batches/b1/input/doc.txt', size: Buffer.byteLength(`copy of ${name}`), eTag: put.ETag?.replace(/"/g, '') } },
    });
  });

  it('a copy carries the bytes, ETag and metadata of its source, replaces an older object and gets its own LastModified', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/src.txt', Body: 'source', ContentType: 'text/plain', Metadata: { origin: 'clinic-a' } }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'batches/c/input/dst.txt', Body: 'older and longer', ContentType: 'application/json' }));
    const before = Date.now();
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'batches/c/input/dst.txt', CopySource: `${BUCKET}/inbox/src.txt` }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'batches/c/input/dst.txt' }));
    expect(await got.Body?.transformToString()).toBe('source');
    expect(got).toMatchObject({ ETag: put.ETag, ContentType: 'text/plain', Metadata: { origin: 'clinic-a' }, ContentLength: 6 });
    expect(got.LastModified!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('does not fail a write when a listener throws', async () => {
    const unsubscribe = s3.onEvent(() => {
      throw new Error('consumer bug');
    });
    await expect(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/ok.txt', Body: 'ok' }))).resolves.toBeDefined();
    unsubscribe();
    expect(records).toHaveLength(1);
  });

  it('keeps objects across a restart on the same directory', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/persist.txt', Body: 'kept' }));
    const second = await startS3({ directory: dir });
    try {
      const got = await second.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/persist.txt' }));
      expect(await got.Body?.transformToString()).toBe('kept');
    } finally {
      await second.stop();
    }
  });

  it('with a notification configuration, notifies only the writes under its prefixes (as S3 does)', async () => {
    await s3.createBucket('other');
    await s3.notifyOnly(BUCKET, ['inbox/', 'drop/']);
    for (const key of ['inbox/in.txt', 'batches/x/input/out.txt', 'drop/in2.txt']) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
    }
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'batches/x/input/copy.txt', CopySource: `${BUCKET}/inbox/in.txt` }));
    await client.send(new PutObjectCommand({ Bucket: 'other', Key: 'anything.txt', Body: 'x' }));
    expect(records.map((r) => `${r.s3.bucket.name}/${r.s3.object.key}`)).toEqual(['documents/inbox/in.txt', 'documents/drop/in2.txt', 'other/anything.txt']);
    // The writes outside the prefixes happened all the same.
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'batches/x/input/copy.txt' }));
    expect(await got.Body?.transformToString()).toBe('x');
  });
});

describe('encodeEventKey', () => {
  it('encodes like S3 event notifications', () => {
    expect(encodeEventKey('inbox/a b.txt')).toBe('inbox/a+b.txt');
    expect(encodeEventKey('inbox/a+b.txt')).toBe('inbox/a%2Bb.txt');
    expect(encodeEventKey("x/it's (1)!~*-_.txt")).toBe('x/it%27s+%281%29%21%7E*-_.txt');
    expect(encodeEventKey('x/é=ü,&')).toBe('x/%C3%A9%3D%C3%BC%2C%26');
  });
});
