/**
 * The local S3: s3rver 3.7.1 on loopback, run in a worker thread (local/emulators/s3-server.ts) so
 * that its request handling and file store work on a second core. Its known problems (see
 * shared/reference/toolchain.md) are handled so that nobody else has to:
 *
 * 1. Checksummed `aws-chunked` uploads are stored with their chunk framing: every client handed
 *    out by `client()` (and the environment from `s3ClientEnvironment()`) asks for checksums only
 *    when an operation requires them.
 * 2. Truncated ListObjectsV2 pages fail on Node ≥ 17 (single DES): fixed in the server.
 * 3. CopyObject with a correctly URL-encoded `+` in its source answers NoSuchKey: fixed in the server.
 * 4. Listings with a Delimiter miss nested prefixes: not fixed; the pipeline lists by prefix only.
 *
 * Notifications are re-shaped into the real S3 event record (URL-encoded key, eTag for copies,
 * monotonic sequencer, CompleteMultipartUpload) and delivered to `onEvent` listeners before the
 * client's request completes: the server answers a write only once they have run.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { CreateBucketCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { systemClock, type Clock } from '../clock.js';
import type { Ack, FilterSet, NotificationFilter, RawRecord, RecordsMessage, RequestInfo, S3ServerOptions } from './s3-server.js';
import { startServerWorker } from './worker.js';

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
  /**
   * Gives `bucket` a notification configuration: from now on only writes under `prefixes` make
   * records (until then, and in other buckets, every write does).
   */
  notifyOnly(bucket: string, prefixes: string[]): Promise<void>;
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

export async function startS3(options: StartS3Options): Promise<LocalS3> {
  if (!options.directory) throw new Error('startS3: directory is required');
  await mkdir(options.directory, { recursive: true });
  const clock = options.clock ?? systemClock;
  const server = await startServerWorker(new URL('./s3-server.ts', import.meta.url), { directory: options.directory, port: options.port ?? 0 } satisfies S3ServerOptions, 'local S3');
  const { worker } = server;

  const listeners = new Set<(record: S3EventRecord) => void>();
  let lastSequencer = 0;
  const filtersSet = new Map<number, () => void>();
  let nextFilterId = 0;
  worker.on('message', (message: RecordsMessage | FilterSet | { type: 'other' }) => {
    if (message.type === 'filter-set') {
      filtersSet.get(message.id)?.();
      filtersSet.delete(message.id);
    }
    if (message.type !== 'records') return;
    for (const raw of message.records) {
      // Strictly increasing, like S3's sequencer for one key; 16 hex digits, upper case.
      lastSequencer = Math.max(lastSequencer + 1, clock.now() * 1000);
      const record = toAwsRecord(raw, message.request, clock, lastSequencer);
      for (const listener of listeners) {
        try {
          listener(record);
        } catch {
          // A consumer's failure is the consumer's: S3 itself never fails the write for it.
        }
      }
    }
    worker.postMessage({ type: 'ack', id: message.id } satisfies Ack);
  });

  const endpoint = `http://127.0.0.1:${server.port}`;
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
    notifyOnly(bucket, prefixes) {
      const id = nextFilterId++;
      return new Promise<void>((resolve) => {
        filtersSet.set(id, resolve);
        worker.postMessage({ type: 'filter', id, bucket, prefixes: [...prefixes] } satisfies NotificationFilter);
      });
    },
    async stop() {
      listeners.clear();
      for (const c of clients.splice(0)) c.destroy();
      await server.stop();
    },
  };
}

function toAwsRecord(raw: RawRecord, request: RequestInfo | undefined, clock: Clock, sequencer: number): S3EventRecord {
  const { bucket, key } = raw;
  const removed = raw.eventName.startsWith('ObjectRemoved:');
  let eventName = raw.eventName;
  if (eventName === 'ObjectCreated:Post' && request?.multipartCompletion) eventName = 'ObjectCreated:CompleteMultipartUpload';

  const object: Partial<S3EventRecord['s3']['object']> & { key: string; sequencer: string } = {
    key: encodeEventKey(key),
    sequencer: sequencer.toString(16).toUpperCase().padStart(16, '0'),
  };
  if (!removed) {
    object.size = raw.size ?? 0;
    object.eTag = raw.eTag ?? '';
  }
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: S3_REGION,
    eventTime: new Date(clock.now()).toISOString(),
    eventName,
    userIdentity: { principalId: `AWS:${S3_ACCESS_KEY_ID}` },
    requestParameters: { sourceIPAddress: raw.sourceIPAddress || '127.0.0.1' },
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
