/**
 * Starts the two Comprehend Medical jobs of a sealed batch, at most once each — shared by the
 * ingest Lambda (first try) and the start-jobs Lambda (the state machine's retry path).
 *
 * Exactly-once without transactions:
 * 1. A job recorded on the batch item (`entitiesJob` / `snomedJob`) whose status is not FAILED,
 *    STOPPED or STOP_REQUESTED is reused as is. When the batch has FAILED (this call is a
 *    redrive), the recorded statuses may be stale — a failing job aborts its sibling's poller —
 *    so they are first refreshed from Describe*Job.
 * 2. Otherwise the caller takes the batch's `jobStartLease` (a conditional update: absent, expired or
 *    already ours), so concurrent callers (a duplicate ingest, the start-jobs task) never start
 *    the same job side by side; a caller that finds the lease taken gets `JobStartInProgress`.
 * 3. Under the lease it first looks the job up by its name (List*Jobs, Filter JobName): a caller
 *    that crashed between Start and recording left a live job there, which is adopted. Only when no
 *    live job exists is one started, with a deterministic ClientRequestToken
 *    `<batchId>-<type>-<attempt>`; attempt = the number of earlier (dead) jobs under that name, so a
 *    retried Start of the same attempt carries the same token.
 * 4. The job is recorded (condition: we still hold the lease) and the lease released.
 *
 * Comprehend Medical's TooManyRequestsException (5 TPS, or 10 active jobs per operation) becomes
 * `DetectionJobsThrottled`, and its transient server errors `DetectionJobsUnavailable`; the state
 * machine retries both with backoff: they delay a batch, never drop it.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeEntitiesDetectionV2JobCommand,
  DescribeSNOMEDCTInferenceJobCommand,
  ListEntitiesDetectionV2JobsCommand,
  ListSNOMEDCTInferenceJobsCommand,
  StartEntitiesDetectionV2JobCommand,
  StartSNOMEDCTInferenceJobCommand,
  type ComprehendMedicalAsyncJobProperties,
  type ComprehendMedicalClient,
  type StartEntitiesDetectionV2JobCommandInput,
} from '@aws-sdk/client-comprehendmedical';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchEntitiesOutputPrefix, batchInputPrefix, batchSnomedOutputPrefix } from '../../contracts/layout.js';
import { Keys, type BatchItem, type JobRecord } from '../../contracts/table.js';
import { WorkflowError, type DetectionJobIds } from '../../contracts/workflow.js';
import type { AppLogger } from './logger.js';
import type { Checkpoint } from './crash.js';
import { isConditionalCheckFailed, namedError } from './errors.js';

export interface DetectionJobsConfig {
  tableName: string;
  /** The documents bucket: job input and output live under `batches/<batchId>/`. */
  bucket: string;
  dataAccessRoleArn: string;
  kmsKeyArn: string;
}

export interface DetectionJobsDeps {
  dynamo: DynamoDBDocumentClient;
  comprehend: ComprehendMedicalClient;
  config: DetectionJobsConfig;
  logger: AppLogger;
  now(): Date;
  /** Lease owner of this caller; a fresh random id per call when absent. */
  leaseOwner?: string;
  /** Crash points for fault injection (`job-started`: a job started, not recorded yet). */
  checkpoint?: Checkpoint;
}

/** Batch ids travel in job names, tokens (≤ 64 chars, `[a-zA-Z0-9-]`) and execution names. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9-]{1,48}$/;

export const JOB_START_LEASE_MS = 2 * 60 * 1000;

export type JobType = 'entities' | 'snomed';
const RECORD_FIELD = { entities: 'entitiesJob', snomed: 'snomedJob' } as const;
const NAME_SUFFIX = { entities: 'entities', snomed: 'snomedct' } as const;
const OUTPUT_PREFIX = { entities: batchEntitiesOutputPrefix, snomed: batchSnomedOutputPrefix } as const;
const DEAD_STATUSES = new Set(['FAILED', 'STOPPED', 'STOP_REQUESTED']);

/** PHI-free and stable: the name is how a crashed caller's job is found again. */
export const detectionJobName = (batchId: string, type: JobType) => `chartflow-${batchId}-${NAME_SUFFIX[type]}`;
export const detectionJobToken = (batchId: string, type: JobType, attempt: number) =>
  `${batchId}-${NAME_SUFFIX[type]}-${attempt}`;

const isThrottled = (error: unknown): boolean => error instanceof Error && error.name === 'TooManyRequestsException';
const isUnavailable = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'InternalServerException' || error.name === 'ServiceUnavailableException');

/** The workflow error a Comprehend Medical failure becomes when a later retry can succeed; else the error itself. */
function retryLater(error: unknown, what: string): unknown {
  if (isThrottled(error)) return namedError(WorkflowError.DetectionJobsThrottled, `Comprehend Medical throttled ${what}`, error);
  if (isUnavailable(error)) return namedError(WorkflowError.DetectionJobsUnavailable, `Comprehend Medical failed ${what} (transient)`, error);
  return error;
}

const isLive = (job: JobRecord | undefined): job is JobRecord => !!job?.jobId && !DEAD_STATUSES.has(job.status);

/**
 * Returns the ids of both detection jobs of `batchId`, starting whichever is missing or dead.
 * Throws `DetectionJobsThrottled`, `DetectionJobsUnavailable`, `JobStartInProgress` or `BatchStateError` (see WorkflowError).
 */
export async function ensureDetectionJobs(batchId: string, deps: DetectionJobsDeps): Promise<DetectionJobIds> {
  if (!BATCH_ID_PATTERN.test(batchId)) {
    throw namedError(WorkflowError.BatchStateError, `Invalid batch id (expected ${BATCH_ID_PATTERN.source})`);
  }
  const batch = await withCurrentStatuses(await readBatch(batchId, deps), deps);
  const known = liveJobIds(batch);
  if (known) return known;

  const owner = deps.leaseOwner ?? randomUUID();
  const taken = await takeLease(batchId, owner, deps);
  if (!taken) {
    // Someone else holds the lease; they may have finished meanwhile.
    const again = liveJobIds(await readBatch(batchId, deps));
    if (again) return again;
    throw namedError(WorkflowError.JobStartInProgress, `Another caller is starting the jobs of batch ${batchId}`);
  }

  let failure: unknown;
  try {
    // Every call made under the lease is inside this try, so that the lease is released on error:
    // a lease left behind blocks every retry of the batch until it expires.
    const leased = await withCurrentStatuses(taken, deps);
    // In turn: when the first start is throttled, the second is not attempted in vain.
    const jobId = async (type: JobType) => {
      const recorded = leased[RECORD_FIELD[type]];
      return isLive(recorded) ? recorded.jobId : startOrAdopt(leased, type, owner, deps);
    };
    const entitiesJobId = await jobId('entities');
    const snomedJobId = await jobId('snomed');
    return { entitiesJobId, snomedJobId };
  } catch (error) {
    failure = retryLater(error, 'the job start');
    throw failure;
  } finally {
    await releaseLease(batchId, owner, deps, failure);
  }
}

async function readBatch(batchId: string, deps: DetectionJobsDeps): Promise<BatchItem> {
  const { Item } = await deps.dynamo.send(
    new GetCommand({ TableName: deps.config.tableName, Key: Keys.batch(batchId), ConsistentRead: true }),
  );
  const batch = Item as BatchItem | undefined;
  if (!batch) throw namedError(WorkflowError.BatchStateError, `Batch ${batchId} does not exist`);
  // Before SEALED the document set (the job input) is not fixed yet.
  if (batch.status === 'OPEN') throw namedError(WorkflowError.BatchStateError, `Batch ${batchId} is not sealed`);
  return batch;
}

/** After a failure, the recorded job statuses are checked against the service (see 1. above). */
async function withCurrentStatuses(batch: BatchItem, deps: DetectionJobsDeps): Promise<BatchItem> {
  if (batch.status !== 'FAILED') return batch;
  const current: BatchItem = { ...batch };
  for (const type of ['entities', 'snomed'] as const) {
    const recorded = batch[RECORD_FIELD[type]];
    if (!isLive(recorded)) continue;
    const status = await describeStatus(type, recorded.jobId, deps);
    if (status !== recorded.status) current[RECORD_FIELD[type]] = { ...recorded, status };
  }
  return current;
}

async function describeStatus(type: JobType, jobId: string, deps: DetectionJobsDeps): Promise<string> {
  try {
    const { ComprehendMedicalAsyncJobProperties: job } =
      type === 'entities'
        ? await deps.comprehend.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: jobId }))
        : await deps.comprehend.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId: jobId }));
    return job?.JobStatus ?? 'FAILED';
  } catch (error) {
    // Job metadata expires (about 120 days): a job the service no longer knows cannot be reused.
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return 'FAILED';
    throw retryLater(error, 'Describe');
  }
}

function liveJobIds(batch: BatchItem): DetectionJobIds | undefined {
  const { entitiesJob, snomedJob } = batch;
  return isLive(entitiesJob) && isLive(snomedJob)
    ? { entitiesJobId: entitiesJob.jobId, snomedJobId: snomedJob.jobId }
    : undefined;
}

/** Returns the batch as it is once the lease is ours, or undefined when someone else holds it. */
async function takeLease(batchId: string, owner: string, deps: DetectionJobsDeps): Promise<BatchItem | undefined> {
  const now = deps.now();
  try {
    const { Attributes } = await deps.dynamo.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.batch(batchId),
        UpdateExpression: 'SET jobStartLease = :lease',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(jobStartLease) OR jobStartLease.expiresAt < :now OR jobStartLease.#owner = :owner)',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':lease': { owner, expiresAt: new Date(now.getTime() + JOB_START_LEASE_MS).toISOString() },
          ':now': now.toISOString(),
          ':owner': owner,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as BatchItem;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}

async function releaseLease(batchId: string, owner: string, deps: DetectionJobsDeps, failure: unknown): Promise<void> {
  try {
    await deps.dynamo.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.batch(batchId),
        UpdateExpression: 'REMOVE jobStartLease',
        ConditionExpression: 'jobStartLease.#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  } catch (error) {
    // Lost to expiry: the new holder owns it now. Otherwise the lease expires by itself; do not
    // hide the error that got us here behind a release error.
    if (isConditionalCheckFailed(error)) return;
    if (failure !== undefined) {
      deps.logger.warn('job start lease not released', { batchId, error });
      return;
    }
    throw error;
  }
}

async function startOrAdopt(batch: BatchItem, type: JobType, owner: string, deps: DetectionJobsDeps): Promise<string> {
  const { batchId } = batch;
  const jobName = detectionJobName(batchId, type);
  const earlier = await listJobsByName(type, jobName, deps);
  const live = earlier
    .filter((job) => job.JobId && job.JobStatus && !DEAD_STATUSES.has(job.JobStatus))
    .sort((a, b) => (b.SubmitTime?.getTime() ?? 0) - (a.SubmitTime?.getTime() ?? 0))[0];

  let record: JobRecord;
  if (live?.JobId && live.JobStatus) {
    deps.logger.info('detection job adopted', { batchId, jobType: type, jobId: live.JobId });
    record = { jobId: live.JobId, status: live.JobStatus, submitTime: (live.SubmitTime ?? deps.now()).toISOString() };
  } else {
    // A recorded dead job counts as an attempt even if its metadata expired from List.
    const attempt = Math.max(earlier.length, batch[RECORD_FIELD[type]] ? 1 : 0);
    const jobId = await startJob(type, batchId, jobName, detectionJobToken(batchId, type, attempt), deps);
    deps.logger.info('detection job started', { batchId, jobType: type, jobId, attempt });
    deps.checkpoint?.('job-started');
    record = { jobId, status: 'SUBMITTED', submitTime: deps.now().toISOString() };
  }
  await recordJob(batchId, type, record, owner, deps);
  return record.jobId;
}

async function listJobsByName(type: JobType, jobName: string, deps: DetectionJobsDeps) {
  const jobs: ComprehendMedicalAsyncJobProperties[] = [];
  let nextToken: string | undefined;
  do {
    const input = { Filter: { JobName: jobName }, MaxResults: 100, NextToken: nextToken };
    const page =
      type === 'entities'
        ? await deps.comprehend.send(new ListEntitiesDetectionV2JobsCommand(input))
        : await deps.comprehend.send(new ListSNOMEDCTInferenceJobsCommand(input));
    // The filter is exact on AWS; keep the check so that a looser server cannot mislead us.
    jobs.push(...(page.ComprehendMedicalAsyncJobPropertiesList ?? []).filter((job) => job.JobName === jobName));
    nextToken = page.NextToken;
  } while (nextToken);
  return jobs;
}

async function startJob(type: JobType, batchId: string, jobName: string, token: string, deps: DetectionJobsDeps) {
  const { bucket, dataAccessRoleArn, kmsKeyArn } = deps.config;
  const input: StartEntitiesDetectionV2JobCommandInput = {
    InputDataConfig: { S3Bucket: bucket, S3Key: batchInputPrefix(batchId) },
    OutputDataConfig: { S3Bucket: bucket, S3Key: OUTPUT_PREFIX[type](batchId) },
    DataAccessRoleArn: dataAccessRoleArn,
    KMSKey: kmsKeyArn,
    LanguageCode: 'en',
    JobName: jobName,
    ClientRequestToken: token,
  };
  const { JobId } =
    type === 'entities'
      ? await deps.comprehend.send(new StartEntitiesDetectionV2JobCommand(input))
      : await deps.comprehend.send(new StartSNOMEDCTInferenceJobCommand(input));
  if (!JobId) throw new Error(`Comprehend Medical returned no JobId for the ${type} job of batch ${batchId}`);
  return JobId;
}

async function recordJob(batchId: string, type: JobType, record: JobRecord, owner: string, deps: DetectionJobsDeps) {
  const now = deps.now().toISOString();
  try {
    await deps.dynamo.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.batch(batchId),
        UpdateExpression: 'SET #job = :job, updatedAt = :now, gsi1sk = :now',
        ConditionExpression: 'jobStartLease.#owner = :owner',
        ExpressionAttributeNames: { '#job': RECORD_FIELD[type], '#owner': 'owner' },
        ExpressionAttributeValues: { ':job': record, ':now': now, ':owner': owner },
      }),
    );
  } catch (error) {
    // The lease expired under us; its new holder finds the job by name.
    if (isConditionalCheckFailed(error)) {
      throw namedError(WorkflowError.JobStartInProgress, `Lost the job start lease of batch ${batchId}`, error);
    }
    throw error;
  }
}
