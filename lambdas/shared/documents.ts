/**
 * Document versions: their id, where their bytes are, and how to read their items back.
 */
import { createHash } from 'node:crypto';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Keys, type DocumentItem } from '../../contracts/table.js';

/** S3's own spelling of "no version" (unversioned buckets), also used in the document id. */
export const NULL_VERSION = 'null';

export interface DocumentRef {
  bucket: string;
  key: string;
  /** Absent for an unversioned bucket. */
  versionId?: string;
}

/** One id per object version: 32 hex characters, no file name in it. */
export function documentId({ bucket, key, versionId }: DocumentRef): string {
  return createHash('sha256')
    .update(`${bucket}\n${key}\n${versionId ?? NULL_VERSION}`)
    .digest('hex')
    .slice(0, 32);
}

/** The VersionId to send to S3 for a stored `versionId` (`null` means: the only version). */
export const s3VersionId = (versionId: string | undefined): string | undefined =>
  versionId === undefined || versionId === NULL_VERSION ? undefined : versionId;

/**
 * CopyObject's `x-amz-copy-source`: `bucket/key[?versionId=...]` with the key URL-encoded per path
 * segment (the SDK sends the header as given).
 */
export function copySource({ bucket, key, versionId }: DocumentRef): string {
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  const version = s3VersionId(versionId);
  return `${bucket}/${encodedKey}${version ? `?versionId=${encodeURIComponent(version)}` : ''}`;
}

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100;
/** Rounds for keys the service returns unprocessed (throttling) before giving up. */
const UNPROCESSED_ROUNDS = 8;

/**
 * Reads document items by id (strongly consistent); ids without an item are absent from the map.
 * BatchGetItem, 100 keys a request: ingest reads every document of its SQS batch this way, so one
 * request replaces up to a hundred GetItems. Keys the service leaves unprocessed are asked again
 * with backoff; if some are still unprocessed after that, the call throws (the invocation is
 * retried as a whole).
 */
export async function getDocuments(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  ids: readonly string[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<Map<string, DocumentItem>> {
  const found = new Map<string, DocumentItem>();
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_KEYS) chunks.push(unique.slice(i, i + BATCH_GET_KEYS));
  await Promise.all(chunks.map(async (chunk) => {
    let keys: Array<Record<string, unknown>> = chunk.map((id) => Keys.document(id));
    for (let round = 0; keys.length > 0; round++) {
      if (round >= UNPROCESSED_ROUNDS) throw new Error(`BatchGetItem left ${keys.length} document keys unprocessed after ${round} rounds`);
      if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round) * (0.5 + Math.random() / 2));
      const { Responses, UnprocessedKeys } = await dynamo.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of Responses?.[tableName] ?? []) found.set((item as DocumentItem).documentId, item as DocumentItem);
      keys = UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }));
  return found;
}
