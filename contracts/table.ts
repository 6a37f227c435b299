/**
 * The one DynamoDB table: item shapes and key builders. Single-table design:
 *
 * | item           | pk                | sk      | gsi1pk (status index)   | gsi1sk        |
 * |----------------|-------------------|---------|-------------------------|---------------|
 * | document       | DOC#<documentId>  | DOC     | DOC#<status>            | updatedAt ISO |
 * | batch          | BATCH#<batchId>   | BATCH   | BATCH#<status>          | updatedAt ISO |
 * | matching run   | RUN#<runId>       | RUN     | RUN#<status>            | updatedAt ISO |
 * | matching lock  | LOCK#matching     | LOCK    | —                       | —             |
 *
 * The document item is the claim: it is created with a conditional write keyed on
 * bucket/key/versionId (through the document id), so a document version belongs to at most one
 * batch. It later carries that document's outcome (counts, or the reason it was rejected).
 */
export const STATUS_INDEX = 'byStatus';

/** The table's key schema — one definition for the stack (lib/constructs/metrics-table.ts) and the tests. */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  statusIndex: { name: STATUS_INDEX, partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
} as const;

export const Keys = {
  document: (documentId: string) => ({ pk: `DOC#${documentId}`, sk: 'DOC' }),
  batch: (batchId: string) => ({ pk: `BATCH#${batchId}`, sk: 'BATCH' }),
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  matchingLock: () => ({ pk: 'LOCK#matching', sk: 'LOCK' }),
} as const;

export const statusKey = (entity: 'DOC' | 'BATCH' | 'RUN', status: string) => `${entity}#${status}`;

export type DocumentStatus = 'CLAIMED' | 'REJECTED' | 'PROCESSED' | 'UNPROCESSED';

export interface DocumentItem {
  pk: string;
  sk: 'DOC';
  entity: 'DOCUMENT';
  documentId: string;
  bucket: string;
  key: string;
  versionId: string;
  size?: number;
  status: DocumentStatus;
  batchId?: string;
  /** Set for REJECTED (validation) and UNPROCESSED (a job's failed manifest). */
  reason?: string;
  /** Set once the rejected object was copied to `rejected/` and the event was put. */
  rejectionDone?: boolean;
  entityCount?: number;
  entitiesByCategory?: Record<string, number>;
  snomedConceptCount?: number;
  createdAt: string;
  updatedAt: string;
  gsi1pk: string;
  gsi1sk: string;
}

/**
 * Batch lifecycle: OPEN (claims being written) -> SEALED (document set fixed) -> SUBMITTED (jobs and
 * execution started) -> AWAITING_MATCH (outputs read, identity records written) -> COMPLETED, or
 * FAILED from any state after SEALED (redrive resumes it).
 */
export type BatchStatus = 'OPEN' | 'SEALED' | 'SUBMITTED' | 'AWAITING_MATCH' | 'COMPLETED' | 'FAILED';

export interface JobRecord {
  jobId: string;
  status: string;
  submitTime?: string;
  endTime?: string;
  message?: string;
}

export interface BatchItem {
  pk: string;
  sk: 'BATCH';
  entity: 'BATCH';
  batchId: string;
  status: BatchStatus;
  /** The sealed document set (document ids). */
  documentIds?: string[];
  documentCount?: number;
  entitiesJob?: JobRecord;
  snomedJob?: JobRecord;
  /** Lease that serializes job starts between concurrent ingest retries and the state machine. */
  jobStartLease?: { owner: string; expiresAt: string };
  executionArn?: string;
  processedCount?: number;
  unprocessedCount?: number;
  entityCount?: number;
  snomedConceptCount?: number;
  identityRecordCount?: number;
  outcome?: 'COMPLETED' | 'PARTIAL_SUCCESS';
  matchingRunId?: string;
  matchingJobId?: string;
  matchingMetrics?: MatchingMetrics;
  error?: string;
  cause?: string;
  createdAt: string;
  updatedAt: string;
  submittedAt?: string;
  completedAt?: string;
  gsi1pk: string;
  gsi1sk: string;
}

export interface MatchingMetrics {
  inputRecords: number;
  totalRecordsProcessed: number;
  recordsNotProcessed: number;
  matchIDs: number;
}

export type RunStatus = 'STARTING' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface MatchingRunItem {
  pk: string;
  sk: 'RUN';
  entity: 'MATCHING_RUN';
  runId: string;
  jobId?: string;
  status: RunStatus;
  /** The batches this run covers: every batch AWAITING_MATCH when it started. */
  batchIds: string[];
  metrics?: MatchingMetrics;
  errorMessage?: string;
  startedAt: string;
  endedAt?: string;
  updatedAt: string;
  gsi1pk: string;
  gsi1sk: string;
}

export interface MatchingLockItem {
  pk: string;
  sk: 'LOCK';
  entity: 'LOCK';
  owner: string;
  runId: string;
  expiresAt: string;
}
