/**
 * Payloads between the batch state machine and its Lambda tasks, and the error names that the
 * definition's Retry/Catch rules reference. The state machine passes ids only — never text.
 */

/** Errors thrown by Lambda cores (as `error.name`) and matched by Retry/Catch. */
export const WorkflowError = {
  /** Comprehend Medical answered TooManyRequests (TPS or the 10-active-jobs limit): retry later. */
  DetectionJobsThrottled: 'DetectionJobsThrottled',
  /** Comprehend Medical answered a transient server error (InternalServerException, ServiceUnavailableException): retry later. */
  DetectionJobsUnavailable: 'DetectionJobsUnavailable',
  /** Another caller holds the job-start lease of this batch: retry shortly. */
  JobStartInProgress: 'JobStartInProgress',
  /** A batch referenced by the workflow does not exist or is in an unexpected state. */
  BatchStateError: 'BatchStateError',
  /** The job outputs are missing or malformed. */
  OutputsUnreadable: 'OutputsUnreadable',
} as const;

/**
 * Job-start failures that a later attempt can get past: ingest defers the jobs to the workflow on
 * them, and the workflow's Start Jobs step retries them with backoff.
 */
export const JOB_START_RETRYABLE = [
  WorkflowError.DetectionJobsThrottled,
  WorkflowError.DetectionJobsUnavailable,
  WorkflowError.JobStartInProgress,
] as const;

/** Errors raised by the state machine itself (Fail states). */
export const FailError = {
  JobFailed: 'JobFailed',
  JobStopped: 'JobStopped',
  DeadlineExceeded: 'DeadlineExceeded',
  UnknownJobStatus: 'UnknownJobStatus',
  MatchingFailed: 'MatchingFailed',
} as const;

export interface DetectionJobIds {
  entitiesJobId: string;
  snomedJobId: string;
}

/** Input of the batch state machine (execution name = batchId). */
export interface BatchExecutionInput {
  batchId: string;
  documentCount: number;
  /** Present when the ingest Lambda started the jobs itself; otherwise the workflow starts them. */
  jobs?: DetectionJobIds;
}

/** start-jobs Lambda. */
export interface StartJobsInput {
  batchId: string;
}
export type StartJobsOutput = DetectionJobIds;

/** What a detection poller branch outputs (the ResultSelector of Describe*Job). */
export interface DetectionJobResult {
  jobId: string;
  status: 'COMPLETED' | 'PARTIAL_SUCCESS';
  /** The job's output folder, e.g. s3://bucket/batches/<id>/output/entities/ (from OutputDataConfig). */
  outputS3Bucket: string;
  outputS3Key: string;
  manifestFilePath?: string;
  message?: string;
  /** When the job ended (Describe*Job's EndTime, as the aws-sdk integration returns it). */
  endTime?: string;
}

/** collect-results Lambda. */
export interface CollectResultsInput {
  batchId: string;
  entities: DetectionJobResult;
  snomed: DetectionJobResult;
}
export interface CollectResultsOutput {
  processedCount: number;
  unprocessedCount: number;
  entityCount: number;
  snomedConceptCount: number;
  identityRecordCount: number;
  recordsS3Uri: string;
  outcome: 'COMPLETED' | 'PARTIAL_SUCCESS';
}

/** matching Lambda, action `begin`: take the matching lock or learn that the batch is covered. */
export interface BeginMatchingInput {
  action: 'begin';
  batchId: string;
  /** The execution's name, used as the lock owner. */
  owner: string;
}
export type BeginMatchingOutput =
  /** This batch was covered by a finished run: go on. */
  | { state: 'MATCHED'; runId: string; jobId: string }
  /** The lock is ours: start a matching job covering `batchIds`. */
  | { state: 'ACQUIRED'; runId: string; batchIds: string[] }
  /** Another run holds the lock: wait, then ask again. */
  | { state: 'BUSY' };

/** matching Lambda, action `started`: record the job id of the run. */
export interface MatchingStartedInput {
  action: 'started';
  runId: string;
  jobId: string;
}

/** matching Lambda, action `finish`: record GetMatchingJob's result against the run and its batches. */
export interface FinishMatchingInput {
  action: 'finish';
  runId: string;
  owner: string;
  /** GetMatchingJob's output as the aws-sdk integration returns it (PascalCase members). */
  job: {
    JobId: string;
    Status: 'SUCCEEDED' | 'FAILED' | 'RUNNING' | 'QUEUED';
    StartTime?: string;
    EndTime?: string;
    Metrics?: { InputRecords?: number; TotalRecordsProcessed?: number; RecordsNotProcessed?: number; MatchIDs?: number };
    ErrorDetails?: { ErrorMessage?: string };
  };
}
export interface FinishMatchingOutput {
  status: 'SUCCEEDED' | 'FAILED';
  errorMessage?: string;
}

/** matching Lambda, action `release`: give the lock back without a run (e.g. ConflictException). */
export interface ReleaseMatchingInput {
  action: 'release';
  runId: string;
  owner: string;
}

export type MatchingInput = BeginMatchingInput | MatchingStartedInput | FinishMatchingInput | ReleaseMatchingInput;

/** finalize Lambda: the terminal record and event of a batch. */
export interface CompleteBatchInput {
  action: 'complete';
  batchId: string;
  results: CollectResultsOutput;
  matching: { runId: string; jobId: string };
}
export interface FailBatchInput {
  action: 'fail';
  batchId: string;
  /** Step Functions' error output: { Error, Cause }. Cause may be a JSON string from a Lambda. */
  error: { Error?: string; Cause?: string };
}
export type FinalizeInput = CompleteBatchInput | FailBatchInput;
