/**
 * Reads S3 event notifications out of SQS message bodies. Keys arrive form-encoded (`+` for a
 * space, `%XX` for UTF-8 bytes) and are decoded here, once.
 */
import { Prefix } from '../../contracts/layout.js';
import type { DocumentRef } from '../shared/documents.js';

export type IgnoredReason = 'not-object-created' | 'outside-inbox' | 'folder-marker' | 'other-bucket';

export type ParsedMessage =
  /** `s3:TestEvent`, sent once when the notification is configured. */
  | { kind: 'test-event' }
  /** Not an S3 notification we can read: it goes back to the queue and, in the end, to the DLQ. */
  | { kind: 'malformed'; problem: string }
  | { kind: 'records'; documents: DocumentRef[]; ignored: IgnoredReason[] };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const decodeEventKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

/** Parses one message body; `bucket` is the documents bucket (records of any other are ignored). */
export function parseNotification(body: string, bucket: string): ParsedMessage {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { kind: 'malformed', problem: 'body is not JSON' };
  }
  if (!isObject(message)) return { kind: 'malformed', problem: 'body is not a JSON object' };
  if (message.Event === 's3:TestEvent') return { kind: 'test-event' };
  if (!Array.isArray(message.Records)) return { kind: 'malformed', problem: 'no Records array' };

  const documents: DocumentRef[] = [];
  const ignored: IgnoredReason[] = [];
  for (const [index, record] of message.Records.entries()) {
    const s3 = isObject(record) ? record.s3 : undefined;
    const eventName = isObject(record) ? record.eventName : undefined;
    const bucketName = isObject(s3) && isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isObject(s3) ? s3.object : undefined;
    const rawKey = isObject(object) ? object.key : undefined;
    const versionId = isObject(object) ? object.versionId : undefined;
    if (typeof eventName !== 'string' || typeof bucketName !== 'string' || typeof rawKey !== 'string') {
      return { kind: 'malformed', problem: `record ${index} lacks eventName, s3.bucket.name or s3.object.key` };
    }
    if (versionId !== undefined && versionId !== null && typeof versionId !== 'string') {
      return { kind: 'malformed', problem: `record ${index} has a non-string versionId` };
    }
    let key: string;
    try {
      key = decodeEventKey(rawKey);
    } catch {
      return { kind: 'malformed', problem: `record ${index} has a key that is not URL-encoded UTF-8` };
    }

    if (!eventName.startsWith('ObjectCreated:')) ignored.push('not-object-created');
    else if (bucketName !== bucket) ignored.push('other-bucket');
    else if (!key.startsWith(Prefix.inbox)) ignored.push('outside-inbox');
    // The console's "create folder" puts an empty `inbox/` object: not a document.
    else if (key.endsWith('/')) ignored.push('folder-marker');
    else documents.push(typeof versionId === 'string' && versionId ? { bucket: bucketName, key, versionId } : { bucket: bucketName, key });
  }
  return { kind: 'records', documents, ignored };
}
