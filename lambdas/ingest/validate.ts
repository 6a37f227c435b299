/**
 * Decides whether a document version can go to Comprehend Medical, and if not, why.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RejectReason, type RejectReasonCode } from '../../contracts/events.js';
import { s3VersionId, type DocumentRef } from '../shared/documents.js';

export type Validation = { accepted: true; size: number } | { accepted: false; reason: RejectReasonCode; size?: number };

/** NotFound is HeadObject's 404 (no body); NoSuchKey/NoSuchVersion come from GetObject and friends. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof Error &&
  (['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes(error.name) ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

export async function validateDocument(
  ref: DocumentRef,
  deps: { s3: S3Client; maxDocumentBytes: number },
): Promise<Validation> {
  // Comprehend Medical cannot read keys with an empty path segment.
  if (ref.key.includes('//')) return { accepted: false, reason: RejectReason.UnreadableKey };
  const location = { Bucket: ref.bucket, Key: ref.key, VersionId: s3VersionId(ref.versionId) };

  let size: number | undefined;
  try {
    size = (await deps.s3.send(new HeadObjectCommand(location))).ContentLength;
  } catch (error) {
    if (isNotFound(error)) return { accepted: false, reason: RejectReason.NotFound };
    throw error;
  }
  // Judged on the size first, so that a huge object is never downloaded.
  if (size === 0) return { accepted: false, reason: RejectReason.Empty, size };
  if (size !== undefined && size > deps.maxDocumentBytes) return { accepted: false, reason: RejectReason.TooLarge, size };

  let bytes: Uint8Array;
  try {
    const object = await deps.s3.send(new GetObjectCommand(location));
    if (!object.Body) throw new Error('GetObject returned no body');
    bytes = await object.Body.transformToByteArray();
  } catch (error) {
    if (isNotFound(error)) return { accepted: false, reason: RejectReason.NotFound };
    throw error;
  }
  // Without a version id the object may have been replaced since HeadObject: judge what was read.
  size = bytes.length;
  if (size === 0) return { accepted: false, reason: RejectReason.Empty, size };
  if (size > deps.maxDocumentBytes) return { accepted: false, reason: RejectReason.TooLarge, size };
  return isUtf8(bytes) ? { accepted: true, size } : { accepted: false, reason: RejectReason.NotUtf8, size };
}

/** The text exists only inside this function and is dropped at once: never kept, never logged. */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
