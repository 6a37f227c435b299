/**
 * The public interface of Chartflow: the events it puts on its EventBridge bus.
 * Defined once here and imported by the CDK code (rules, schema registry) and by the Lambdas
 * (publishers). Every detail carries ids, counts and S3 locations — never document text.
 */
export const EVENT_SOURCE = 'chartflow';
export const EVENT_VERSION = '1';

export const DetailType = {
  BatchSubmitted: 'Batch Submitted',
  BatchCompleted: 'Batch Completed',
  BatchFailed: 'Batch Failed',
  DocumentRejected: 'Document Rejected',
  MatchingCompleted: 'Matching Completed',
} as const;
export type DetailTypeName = (typeof DetailType)[keyof typeof DetailType];

/** Why a document was not processed. */
export const RejectReason = {
  Empty: 'EMPTY',
  NotUtf8: 'NOT_UTF8',
  TooLarge: 'TOO_LARGE',
  UnreadableKey: 'UNREADABLE_KEY',
  NotFound: 'NOT_FOUND',
  Unprocessed: 'UNPROCESSED',
} as const;
export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

export interface BatchSubmittedDetail {
  version: typeof EVENT_VERSION;
  batchId: string;
  documentCount: number;
  inputS3Uri: string;
  entitiesJobId?: string;
  snomedJobId?: string;
  submittedAt: string;
}

export interface BatchCompletedDetail {
  version: typeof EVENT_VERSION;
  batchId: string;
  /** PARTIAL_SUCCESS when a job left documents unprocessed (they are listed in DynamoDB). */
  status: 'COMPLETED' | 'PARTIAL_SUCCESS';
  documentCount: number;
  processedCount: number;
  unprocessedCount: number;
  entityCount: number;
  snomedConceptCount: number;
  identityRecordCount: number;
  matchingRunId: string;
  matchingJobId: string;
  outputs: {
    entitiesS3Uri: string;
    snomedS3Uri: string;
    recordsS3Uri: string;
    matchesS3Uri: string;
  };
  completedAt: string;
}

export interface BatchFailedDetail {
  version: typeof EVENT_VERSION;
  batchId: string;
  /** The error name, e.g. `JobFailed`, `DeadlineExceeded`, `States.TaskFailed`. */
  error: string;
  /** A service message (e.g. Comprehend Medical's job `Message`), never document text. */
  cause: string;
  inputS3Uri: string;
  failedAt: string;
}

export interface DocumentRejectedDetail {
  version: typeof EVENT_VERSION;
  documentId: string;
  bucket: string;
  key: string;
  versionId: string;
  reason: RejectReasonCode;
  rejectedS3Uri: string;
  rejectedAt: string;
}

export interface MatchingCompletedDetail {
  version: typeof EVENT_VERSION;
  runId: string;
  jobId: string;
  status: 'SUCCEEDED' | 'FAILED';
  batchIds: string[];
  inputRecords: number;
  totalRecordsProcessed: number;
  recordsNotProcessed: number;
  matchIDs: number;
  errorMessage?: string;
  outputS3Uri: string;
  completedAt: string;
}

export interface DetailByType {
  'Batch Submitted': BatchSubmittedDetail;
  'Batch Completed': BatchCompletedDetail;
  'Batch Failed': BatchFailedDetail;
  'Document Rejected': DocumentRejectedDetail;
  'Matching Completed': MatchingCompletedDetail;
}
