/**
 * The local S3: s3rver 3.7.1 in-process on loopback, with its known problems handled here
 * (see shared/reference/toolchain.md) so that nobody else has to:
 *
 * 1. Checksummed `aws-chunked` uploads are stored with their chunk framing: every client handed
 *    out by `client()` (and the environment from `s3ClientEnvironment()`) asks for checksums only
 *    when an operation requires them.
 * 2. Truncated ListObjectsV2 pages fail on Node ≥ 17 because s3rver encrypts continuation tokens
 *    with single DES, which OpenSSL 3 disables: `enableSingleDes()` maps single DES to the same
 *    cipher under OpenSSL's two-key triple DES (`des-ede-cbc` with K1 = K2 is single DES).
 * 3. CopyObject decodes `x-amz-copy-source` with `decodeURI`, which leaves `%2B` (and the other
 *    reserved characters) encoded, so a correctly URL-encoded source with `+` answers NoSuchKey: a
 *    middleware in front of s3rver re-encodes the header so that s3rver decodes it exactly.
 * 4. Listings with a Delimiter miss nested prefixes: not fixed; the pipeline lists by prefix only.
 *
 * Notifications are re-shaped into the real S3 event record (URL-encoded key, eTag for copies,
 * monotonic sequencer, CompleteMultipartUpload) and delivered to `onEvent` listeners synchronously,
 * before the client's request completes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, createHash, type BinaryLike, type CipherKey } from 'node:crypto';
import type { TransformOptions } from 'node:stream';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import { CreateBucketCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { systemClock, type Clock } from '../clock.js';

export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';
export const S3_REGION = 'us-east-1';

export interface StartS3Options {
  /** Where s3rver keeps buckets and objects (kept across restarts). */
  directory: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Stamps `eventTime` of notification records; defaults to the system clock. */
  clock?: Clock;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /**
   * A client configured for this server. `overrides` may add settings (e.g. `maxAttempts`); the
   * endpoint, credentials, path style and checksum settings always win.
   */
  client(overrides?: Omit<S3ClientConfig, 'endpoint' | 'credentials'>): S3Client;
  /** Creates the bucket unless it exists already. */
  createBucket(name: string): Promise<void>;
  /**
   * Delivers every notification record (ObjectCreated:Put/Post/Copy/CompleteMultipartUpload,
   * ObjectRemoved:Delete; DeleteObjects emits none). As on AWS, removal records carry no size and
   * no eTag. A throwing listener does not fail the S3 request. Returns an unsubscribe function.
   */
  onEvent(listener: (record: S3EventRecord) => void): () => void;
  /** Closes the server and destroys the clients handed out. */
  stop(): Promise<void>;
}

/** The configuration every S3 client talking to s3rver needs. */
export function s3ClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * The same settings as environment variables honoured by SDK v3, for code that builds its own
 * `new S3Client({})` (the Lambdas). Path style follows from the IP-address endpoint.
 */
export function s3ClientEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

/**
 * Encodes an object key as S3 does in event notifications (form encoding: space as `+`, `/`
 * kept, everything but `A-Za-z0-9 . - _ *` percent-encoded as UTF-8). Consumers decode with
 * `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

// --- the parts of s3rver and Koa used here (neither ships types) ---

interface S3rverRecord {
  eventName: string;
  requestParameters: { sourceIPAddress: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
}
interface KoaContext {
  method: string;
  query: Record<string, string | string[] | undefined>;
  headers: IncomingMessage['headers'];
  ip: string;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
type StoreMethod = (...args: never[]) => Promise<unknown>;
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  [method: string]: unknown;
}
interface S3rverInstance {
  middleware: KoaMiddleware[];
  httpServer?: Server;
  store: S3rverStore;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: { Records: S3rverRecord[] }) => void): void;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

let singleDesEnabled = false;
/**
 * s3rver calls `crypto.createCipheriv('des', key, iv)` for ListObjectsV2 continuation tokens;
 * OpenSSL 3 refuses single DES. Two-key triple DES (EDE) with both keys equal is single DES, so
 * map 'des'/'des-cbc' to 'des-ede-cbc' with the key repeated. Only calls that would otherwise
 * throw are changed; the patch is installed once per process.
 */
export function enableSingleDes(): void {
  if (singleDesEnabled) return;
  singleDesEnabled = true;
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const isSingleDes = (algorithm: string) => ['des', 'des-cbc'].includes(algorithm.toLowerCase());
  const widen = (key: CipherKey): CipherKey => (Buffer.isBuffer(key) && key.length === 8 ? Buffer.concat([key, key]) : key);
  const { createCipheriv, createDecipheriv } = crypto;
  crypto.createCipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: TransformOptions) =>
    isSingleDes(algorithm)
      ? createCipheriv('des-ede-cbc', widen(key), iv, options)
      : createCipheriv(algorithm, key, iv, options)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: TransformOptions) =>
    isSingleDes(algorithm)
      ? createDecipheriv('des-ede-cbc', widen(key), iv, options)
      : createDecipheriv(algorithm, key, iv, options)) as typeof crypto.createDecipheriv;
}

interface RequestInfo {
  method: string;
  multipartCompletion: boolean;
  requestId: string;
}

export async function startS3(options: StartS3Options): Promise<LocalS3> {
  if (!options.directory) throw new Error('startS3: directory is required');
  enableSingleDes();
  await mkdir(options.directory, { recursive: true });
  const clock = options.clock ?? systemClock;
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    // Path-style only: "127.0.0.1" must never be read as a bucket host.
    vhostBuckets: false,
  });

  // Request context for notification records, which s3rver emits synchronously mid-request.
  const requestContext = new AsyncLocalStorage<RequestInfo>();
  const frontMiddleware: KoaMiddleware = (ctx, next) => {
    normalizeCopySource(ctx.headers);
    const info: RequestInfo = {
      method: ctx.method,
      multipartCompletion: ctx.method === 'POST' && typeof ctx.query.uploadId === 'string',
      requestId: randomBytes(8).toString('hex').toUpperCase(),
    };
    return requestContext.run(info, next);
  };
  // koa-logger formats every request even when silent (s3rver's own logger stays for errors).
  server.middleware = server.middleware.filter((fn) => fn.name !== 'logger');
  server.middleware.unshift(frontMiddleware);
  cacheStoreLookups(server.store);

  const listeners = new Set<(record: S3EventRecord) => void>();
  let lastSequencer = 0;
  server.on('event', (event) => {
    for (const raw of event.Records) {
      // Strictly increasing, like S3's sequencer for one key; 16 hex digits, upper case.
      lastSequencer = Math.max(lastSequencer + 1, clock.now() * 1000);
      const record = toAwsRecord(raw, requestContext.getStore(), clock, lastSequencer, server);
      for (const listener of listeners) {
        try {
          listener(record);
        } catch {
          // A consumer's failure is the consumer's: S3 itself never fails the write for it.
        }
      }
    }
  });

  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];

  const client: LocalS3['client'] = (overrides = {}) => {
    const c = new S3Client({ ...overrides, ...s3ClientConfig(endpoint) });
    clients.push(c);
    return c;
  };
  const admin = client({ maxAttempts: 1 });

  return {
    endpoint,
    client,
    async createBucket(name) {
      try {
        await admin.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        if (error instanceof S3ServiceException && ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(error.name)) return;
        throw error;
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      listeners.clear();
      for (const c of clients.splice(0)) c.destroy();
      const closing = server.close();
      server.httpServer?.closeIdleConnections();
      await closing;
    },
  };
}

/**
 * s3rver's filesystem store reads from disk on every request what rarely changes: the bucket
 * (a stat), its CORS and website configurations (two failing reads), and an object's metadata (a
 * stat and two reads per GET/HEAD). Keep those in memory; every mutation through the store
 * invalidates them, and a lookup racing a mutation of the same key is not cached. Objects
 * themselves are still read from and written to disk (the data folder stays the bucket).
 */
function cacheStoreLookups(store: S3rverStore): void {
  const original = <T extends StoreMethod>(name: string) => {
    const fn = store[name];
    if (typeof fn !== 'function') throw new Error(`s3rver's store has no ${name}(): update local/emulators/s3.ts for this s3rver version`);
    return (fn as T).bind(store) as T;
  };
  const buckets = new Map<string, unknown>();
  const subresources = new Map<string, unknown>();
  const metadata = new Map<string, Record<string, unknown>>();
  const generation = new Map<string, number>();
  const busy = new Map<string, number>();
  const objectKey = (bucket: string, key: string) => `${bucket}\u0000${key}`;
  const bump = (k: string) => generation.set(k, (generation.get(k) ?? 0) + 1);

  /** Wraps a mutation of one object: lookups during it are neither served from nor stored in the cache. */
  const mutating = (name: string, keyOf: (args: unknown[]) => string) => {
    const fn = original<(...args: unknown[]) => Promise<unknown>>(name);
    store[name] = async (...args: unknown[]) => {
      const k = keyOf(args);
      busy.set(k, (busy.get(k) ?? 0) + 1);
      bump(k);
      metadata.delete(k);
      try {
        return await fn(...args);
      } finally {
        busy.set(k, busy.get(k)! - 1);
        bump(k);
        metadata.delete(k);
      }
    };
  };
  mutating('putObject', ([object]) => objectKey((object as { bucket: string }).bucket, (object as { key: string }).key));
  mutating('putMetadata', ([bucket, key]) => objectKey(String(bucket), String(key)));
  mutating('copyObject', ([, , destBucket, destKey]) => objectKey(String(destBucket), String(destKey)));
  mutating('deleteObject', ([bucket, key]) => objectKey(String(bucket), String(key)));
  // putObjectMultipart and copyObject with new metadata go through putObject/putMetadata above.
  const reset = original<() => Promise<unknown>>('reset') as unknown as () => void;
  store.reset = () => {
    for (const cache of [buckets, subresources, metadata]) cache.clear();
    reset();
  };

  const getMetadata = original<(bucket: string, key: string) => Promise<Record<string, unknown>>>('getMetadata');
  store.getMetadata = async (bucket: string, key: string) => {
    const k = objectKey(bucket, key);
    const cached = metadata.get(k);
    if (cached && !busy.get(k)) return { ...cached };
    const before = generation.get(k);
    const result = await getMetadata(bucket, key);
    if (generation.get(k) === before && !busy.get(k)) metadata.set(k, { ...result });
    return result;
  };

  const getBucket = original<(bucket: string) => Promise<unknown>>('getBucket');
  store.getBucket = async (bucket: string) => {
    if (buckets.has(bucket)) return buckets.get(bucket);
    const result = await getBucket(bucket);
    buckets.set(bucket, result);
    return result;
  };
  for (const name of ['putBucket', 'deleteBucket']) {
    const fn = original<(bucket: string) => Promise<unknown>>(name);
    store[name] = async (bucket: string) => {
      buckets.delete(bucket);
      for (const k of [...subresources.keys()]) if (k.startsWith(`${bucket}\u0000`)) subresources.delete(k);
      try {
        return await fn(bucket);
      } finally {
        buckets.delete(bucket);
      }
    };
  }

  const subresourceKey = (bucket: string, key: string | undefined, type: string) => `${bucket}\u0000${key ?? ''}\u0000${type}`;
  const getSubresource = original<(bucket: string, key: string | undefined, type: string) => Promise<unknown>>('getSubresource');
  store.getSubresource = async (bucket: string, key: string | undefined, type: string) => {
    const k = subresourceKey(bucket, key, type);
    if (subresources.has(k)) return subresources.get(k);
    const result = await getSubresource(bucket, key, type);
    subresources.set(k, result);
    return result;
  };
  const putSubresource = original<(bucket: string, key: string | undefined, resource: { type: string }) => Promise<unknown>>('putSubresource');
  store.putSubresource = async (bucket: string, key: string | undefined, resource: { type: string }) => {
    subresources.delete(subresourceKey(bucket, key, resource.type));
    try {
      return await putSubresource(bucket, key, resource);
    } finally {
      subresources.delete(subresourceKey(bucket, key, resource.type));
    }
  };
  const deleteSubresource = original<(bucket: string, key: string | undefined, type: string) => Promise<unknown>>('deleteSubresource');
  store.deleteSubresource = async (bucket: string, key: string | undefined, type: string) => {
    subresources.delete(subresourceKey(bucket, key, type));
    try {
      return await deleteSubresource(bucket, key, type);
    } finally {
      subresources.delete(subresourceKey(bucket, key, type));
    }
  };
}

/**
 * s3rver decodes `x-amz-copy-source` with `decodeURI`, which leaves escapes of reserved
 * characters (`%2B`, `%2C`, `%3D`...) in place. Decode it fully and re-encode it with `encodeURI`,
 * whose output `decodeURI` turns back into exactly the key.
 */
function normalizeCopySource(headers: IncomingMessage['headers']): void {
  const raw = headers['x-amz-copy-source'];
  if (typeof raw !== 'string') return;
  // `?versionId=` is meaningless without versioning; s3rver would read it as part of the key.
  const path = raw.split('?')[0] ?? raw;
  try {
    headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(path));
  } catch {
    // Malformed escapes: let s3rver answer as it does.
  }
}

function toAwsRecord(
  raw: S3rverRecord,
  request: RequestInfo | undefined,
  clock: Clock,
  sequencer: number,
  server: S3rverInstance,
): S3EventRecord {
  const bucket = raw.s3.bucket.name;
  const key = raw.s3.object.key;
  const removed = raw.eventName.startsWith('ObjectRemoved:');
  let eventName = raw.eventName;
  if (eventName === 'ObjectCreated:Post' && request?.multipartCompletion) eventName = 'ObjectCreated:CompleteMultipartUpload';

  const object: Partial<S3EventRecord['s3']['object']> & { key: string; sequencer: string } = {
    key: encodeEventKey(key),
    sequencer: sequencer.toString(16).toUpperCase().padStart(16, '0'),
  };
  if (!removed) {
    object.size = raw.s3.object.size ?? 0;
    // s3rver leaves the eTag out of Copy records; the copy's MD5 is on disk by now.
    object.eTag = raw.s3.object.eTag ?? readStoredMd5(server, bucket, key);
  }
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: S3_REGION,
    eventTime: new Date(clock.now()).toISOString(),
    eventName,
    userIdentity: { principalId: `AWS:${S3_ACCESS_KEY_ID}` },
    requestParameters: { sourceIPAddress: raw.requestParameters.sourceIPAddress || '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': request?.requestId ?? randomBytes(8).toString('hex').toUpperCase(),
      'x-amz-id-2': createHash('sha256').update(`${bucket}/${key}/${sequencer}`).digest('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'local-notification',
      bucket: { name: bucket, ownerIdentity: { principalId: S3_ACCESS_KEY_ID }, arn: `arn:aws:s3:::${bucket}` },
      // Removal records have no size/eTag on AWS either; the type declares them anyway.
      object: object as S3EventRecord['s3']['object'],
    },
  };
}

function readStoredMd5(server: S3rverInstance, bucket: string, key: string): string {
  try {
    return readFileSync(server.store.getResourcePath(bucket, key, 'object.md5'), 'utf8').trim();
  } catch {
    return '';
  }
}
