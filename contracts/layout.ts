/**
 * Where things live in the documents bucket. Every prefix is a constant here so that the stack
 * (notification filter, lifecycle rules, Glue location, IAM scopes), the Lambdas and the local
 * runtime agree. Object names under `batches/` are document ids, never the user's file names.
 */
export const Prefix = {
  inbox: 'inbox/',
  batches: 'batches/',
  records: 'records/',
  matches: 'matches/',
  rejected: 'rejected/',
} as const;

export const batchInputPrefix = (batchId: string) => `${Prefix.batches}${batchId}/input/`;
export const batchInputKey = (batchId: string, documentId: string) => `${batchInputPrefix(batchId)}${documentId}.txt`;
export const batchEntitiesOutputPrefix = (batchId: string) => `${Prefix.batches}${batchId}/output/entities/`;
export const batchSnomedOutputPrefix = (batchId: string) => `${Prefix.batches}${batchId}/output/snomedct/`;
/** One CSV file of identity records per batch; the Glue table is the whole `records/` prefix. */
export const batchRecordsKey = (batchId: string) => `${Prefix.records}${batchId}.csv`;
/** A rejected document keeps its path below `inbox/`. */
export const rejectedKey = (inboxKey: string) => `${Prefix.rejected}${inboxKey.slice(Prefix.inbox.length)}`;

export const s3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;

/** The columns of the Entity Resolution input table, in file order (see lambdas/collect-results). */
export const IDENTITY_COLUMNS = [
  'record_id',
  'batch_id',
  'full_name',
  'date_of_birth',
  'phone',
  'email',
  'address',
  'mrn',
] as const;
export type IdentityColumn = (typeof IDENTITY_COLUMNS)[number];
export type IdentityRecord = Record<IdentityColumn, string>;
