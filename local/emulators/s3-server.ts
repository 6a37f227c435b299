/**
 * The local S3's server side, run in a worker thread (see s3.ts): s3rver 3.7.1 on loopback, with
 * its known problems handled here (see shared/reference/toolchain.md):
 *
 * - Truncated ListObjectsV2 pages fail on Node ≥ 17 because s3rver encrypts continuation tokens
 *   with single DES, which OpenSSL 3 disables: `enableSingleDes()` maps single DES to the same
 *   cipher under OpenSSL's two-key triple DES (`des-ede-cbc` with K1 = K2 is single DES).
 * - CopyObject decodes `x-amz-copy-source` with `decodeURI`, which leaves `%2B` (and the other
 *   reserved characters) encoded, so a correctly URL-encoded source with `+` answers NoSuchKey: a
 *   middleware in front of s3rver re-encodes the header so that s3rver decodes it exactly.
 *
 * Notification records go to the parent with the request they came from; the request is answered
 * only once the parent has acknowledged them, so that its listeners have run before the writer
 * gets its answer, as with an in-process server.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, type BinaryLike, type CipherKey } from 'node:crypto';
import type { TransformOptions } from 'node:stream';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { serveFromWorker } from './worker.js';

export interface S3ServerOptions {
  directory: string;
  port: number;
}

/** What the request that wrote an object looked like (for the AWS-shaped record). */
export interface RequestInfo {
  method: string;
  multipartCompletion: boolean;
  requestId: string;
}

/** One s3rver notification record, with the MD5 of a copied object (s3rver leaves it out). */
export interface RawRecord {
  eventName: string;
  sourceIPAddress: string;
  bucket: string;
  key: string;
  size?: number;
  eTag?: string;
}

/** A write's notification records; the parent answers with an `Ack` of the same id once its listeners ran. */
export interface RecordsMessage {
  type: 'records';
  id: number;
  request?: RequestInfo;
  records: RawRecord[];
}
export interface Ack {
  type: 'ack';
  id: number;
}
/** The bucket's notification configuration: records only for keys under these prefixes; answered by a `FilterSet` of the same id. */
export interface NotificationFilter {
  type: 'filter';
  id: number;
  bucket: string;
  prefixes: string[];
}
export interface FilterSet {
  type: 'filter-set';
  id: number;
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
 * throw are changed; the patch is installed once per thread (the worker's own `crypto`).
 */
function enableSingleDes(): void {
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

async function serve(options: S3ServerOptions, port: NonNullable<typeof parentPort>): Promise<{ port: number; close(): Promise<void> }> {
  enableSingleDes();
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    // Path-style only: "127.0.0.1" must never be read as a bucket host.
    vhostBuckets: false,
  });

  // Request context for notification records, which s3rver emits synchronously mid-request.
  const requestContext = new AsyncLocalStorage<{ info: RequestInfo; acks: Array<Promise<void>> }>();
  const frontMiddleware: KoaMiddleware = async (ctx, next) => {
    normalizeCopySource(ctx.headers);
    const info: RequestInfo = {
      method: ctx.method,
      multipartCompletion: ctx.method === 'POST' && typeof ctx.query.uploadId === 'string',
      requestId: randomBytes(8).toString('hex').toUpperCase(),
    };
    const acks: Array<Promise<void>> = [];
    await requestContext.run({ info, acks }, next);
    await Promise.all(acks);
  };
  // koa-logger formats every request even when silent (s3rver's own logger stays for errors).
  server.middleware = server.middleware.filter((fn) => fn.name !== 'logger');
  server.middleware.unshift(frontMiddleware);
  copyFilesPlainly(server.store);
  cacheStoreLookups(server.store);

  const pending = new Map<number, () => void>();
  let nextId = 0;
  // As on S3, a bucket with a notification configuration notifies only the keys it names: a write
  // elsewhere is answered without the round trip to the parent (without a filter: every record).
  const filters = new Map<string, string[]>();
  const notified = (raw: S3rverRecord) => {
    const prefixes = filters.get(raw.s3.bucket.name);
    return !prefixes || prefixes.some((prefix) => raw.s3.object.key.startsWith(prefix));
  };
  server.on('event', (event) => {
    const context = requestContext.getStore();
    const wanted = event.Records.filter(notified);
    if (wanted.length === 0) return;
    const records = wanted.map((raw): RawRecord => {
      const bucket = raw.s3.bucket.name;
      const key = raw.s3.object.key;
      const created = raw.eventName.startsWith('ObjectCreated:');
      return {
        eventName: raw.eventName,
        sourceIPAddress: raw.requestParameters.sourceIPAddress,
        bucket,
        key,
        size: created ? (raw.s3.object.size ?? 0) : undefined,
        // s3rver leaves the eTag out of Copy records; the copy's MD5 is on disk by now.
        eTag: created ? (raw.s3.object.eTag ?? readStoredMd5(server, bucket, key)) : undefined,
      };
    });
    const id = nextId++;
    context?.acks.push(new Promise<void>((resolve) => pending.set(id, resolve)));
    port.postMessage({ type: 'records', id, request: context?.info, records } satisfies RecordsMessage);
  });

  port.on('message', (message: Ack | NotificationFilter | { type: 'stop' }) => {
    if (message.type === 'filter') {
      filters.set(message.bucket, message.prefixes);
      port.postMessage({ type: 'filter-set', id: message.id } satisfies FilterSet);
    }
    if (message.type !== 'ack') return;
    pending.get(message.id)?.();
    pending.delete(message.id);
  });

  const address = await server.run();
  return {
    port: address.port,
    close: () => {
      const closing = server.close();
      server.httpServer?.closeIdleConnections();
      return closing;
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

/**
 * s3rver's CopyObject copies the object's three files (content, metadata, MD5) with fs-extra's
 * `copy`, which for each file stats the source, the destination and every parent folder of the
 * destination, then copies and sets mode and times: ~15 system calls a file, a third of the local
 * S3's work in a pipeline run (each batch input is a copy). A copy between two keys is the same
 * three files copied with `copyFile` (content byte for byte, a new modification time, which is the
 * copy's LastModified as on S3). Copies onto the same key and copies with replacement metadata go
 * to s3rver as before.
 */
function copyFilesPlainly(store: S3rverStore): void {
  const copyObject = store.copyObject;
  if (typeof copyObject !== 'function') throw new Error("s3rver's store has no copyObject(): update local/emulators/s3-server.ts for this s3rver version");
  const original = (copyObject as StoreMethod).bind(store) as (...args: unknown[]) => Promise<unknown>;
  store.copyObject = async (srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata?: unknown) => {
    const source = (resource: string) => store.getResourcePath(srcBucket, srcKey, resource);
    const destination = (resource: string) => store.getResourcePath(destBucket, destKey, resource);
    if (replacementMetadata || source('object') === destination('object')) {
      return original(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
    }
    await mkdir(path.dirname(destination('object')), { recursive: true });
    await Promise.all(['object', 'metadata.json', 'object.md5'].map((resource) => copyFile(source(resource), destination(resource))));
    // Looked up at call time: cacheStoreLookups wraps getMetadata after this wrapper is installed.
    return (store.getMetadata as (bucket: string, key: string) => Promise<unknown>).call(store, destBucket, destKey);
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

serveFromWorker<S3ServerOptions>((options) => serve(options, parentPort!));
