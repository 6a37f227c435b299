/**
 * Decides whether a document version can go to Comprehend Medical, and if not, why.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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

  // One GetObject: its headers carry the size, and the body of an object that is too large (or
  // empty) is never read — the stream is dropped unread. (A HeadObject first would cost one more
  // request for every document to spare only the rare huge one its response headers.)
  let bytes: Uint8Array;
  try {
    const object = await deps.s3.send(new GetObjectCommand(location));
    const size = object.ContentLength;
    const sizeRejection = judgeSize(size, deps.maxDocumentBytes);
    if (sizeRejection) {
      discard(object.Body);
      return { accepted: false, reason: sizeRejection, size };
    }
    if (!object.Body) throw new Error('GetObject returned no body');
    bytes = await object.Body.transformToByteArray();
  } catch (error) {
    if (isNotFound(error)) return { accepted: false, reason: RejectReason.NotFound };
    throw error;
  }
  // Judge what was read too: a server may omit the length.
  const size = bytes.length;
  const sizeRejection = judgeSize(size, deps.maxDocumentBytes);
  if (sizeRejection) return { accepted: false, reason: sizeRejection, size };
  return isUtf8(bytes) ? { accepted: true, size } : { accepted: false, reason: RejectReason.NotUtf8, size };
}

function judgeSize(size: number | undefined, maxBytes: number): RejectReasonCode | undefined {
  if (size === 0) return RejectReason.Empty;
  if (size !== undefined && size > maxBytes) return RejectReason.TooLarge;
  return undefined;
}

/** Closes a response body without reading it (the SDK's Node stream; other shapes are left to GC). */
function discard(body: unknown): void {
  if (body && typeof (body as { destroy?: unknown }).destroy === 'function') (body as { destroy: () => void }).destroy();
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
