/**
 * Document versions: their id, where their bytes are, and how to read their items back.
 */
import { createHash } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

const READ_CONCURRENCY = 16;

/**
 * Reads document items by id (strongly consistent); ids without an item are absent from the map.
 * GetItem rather than BatchGetItem: this is a rare (resume) path, and it needs no extra IAM action
 * nor UnprocessedKeys handling.
 */
export async function getDocuments(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  ids: readonly string[],
): Promise<Map<string, DocumentItem>> {
  const found = new Map<string, DocumentItem>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: Keys.document(id), ConsistentRead: true }));
      if (Item) found.set(id, Item as DocumentItem);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker));
  return found;
}
