/**
 * matching: serializes and coalesces Entity Resolution runs.
 *
 * Only one matching job per Region may run and StartMatchingJob has no idempotency token, so the
 * state machine asks for a lock item first (`begin`), starts the job itself, records its id
 * (`started`), polls it, and records the result (`finish`) — or gives the lock back when the
 * service answered ConflictException (`release`). A run covers every batch AWAITING_MATCH when it
 * begins; batches that finish during a run wait (BUSY) and are covered by the next one, or learn
 * that a run covering them succeeded (MATCHED). The lock expires after MATCHING_LOCK_SECONDS, so
 * a vanished owner cannot block matching forever; a taken-over owner's job still ends, and
 * StartMatchingJob's ConflictException keeps two jobs from running at once.
 *
 * Every action is idempotent for its (runId, owner): Step Functions retries and redrives repeat
 * them.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  DeleteCommand,
  GetCommand,
  paginateQuery,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { DetailType, EVENT_VERSION } from '../../contracts/events.js';
import { Prefix, s3Uri } from '../../contracts/layout.js';
import {
  Keys,
  STATUS_INDEX,
  statusKey,
  type BatchItem,
  type BatchStatus,
  type MatchingLockItem,
  type MatchingMetrics,
  type MatchingRunItem,
  type RunStatus,
} from '../../contracts/table.js';
import {
  type BeginMatchingInput,
  type BeginMatchingOutput,
  type FinishMatchingInput,
  type FinishMatchingOutput,
  type MatchingInput,
  type MatchingStartedInput,
  type ReleaseMatchingInput,
} from '../../contracts/workflow.js';
import { publish } from '../shared/events.js';
import type { AppLogger } from '../shared/logger.js';
import type { Checkpoint } from '../shared/crash.js';
import { batchStateError, invalidInput, isConditionalCheckFailed } from '../shared/errors.js';
import { timeSortableId } from '../shared/ids.js';
import { isoTime } from '../shared/time.js';

export interface MatchingConfig {
  tableName: string;
  /** The documents bucket (Entity Resolution writes under `matches/`). */
  bucket: string;
  eventBusName: string;
  workflowName: string;
  /** How long the lock lives without its owner. */
  lockSeconds: number;
}

export interface MatchingDeps {
  clients: { ddb: DynamoDBDocumentClient; events: EventBridgeClient };
  config: MatchingConfig;
  logger: AppLogger;
  now: () => Date;
  checkpoint: Checkpoint;
}

export interface MatchingStartedOutput {
  runId: string;
  jobId: string;
}
export interface ReleaseMatchingOutput {
  runId: string;
  status: 'FAILED';
}
export type MatchingOutput = BeginMatchingOutput | MatchingStartedOutput | FinishMatchingOutput | ReleaseMatchingOutput;

export const NOT_STARTED_MESSAGE = 'not started: another matching job is running';
export const FAILED_WITHOUT_MESSAGE = 'matching job failed without an error message';
/** A run item must stay well below DynamoDB's 400 KB; batches beyond are covered by the next run. */
export const MAX_RUN_BATCHES = 1000;
const MAX_ERROR_MESSAGE = 2048;
const ACTIVE: readonly RunStatus[] = ['STARTING', 'QUEUED', 'RUNNING'];
/** Batches whose identity records are not written yet cannot be matched. */
const NOT_COLLECTED: readonly BatchStatus[] = ['OPEN', 'SEALED', 'SUBMITTED'];

export function runMatching(input: BeginMatchingInput, deps: MatchingDeps): Promise<BeginMatchingOutput>;
export function runMatching(input: MatchingStartedInput, deps: MatchingDeps): Promise<MatchingStartedOutput>;
export function runMatching(input: FinishMatchingInput, deps: MatchingDeps): Promise<FinishMatchingOutput>;
export function runMatching(input: ReleaseMatchingInput, deps: MatchingDeps): Promise<ReleaseMatchingOutput>;
export function runMatching(input: MatchingInput, deps: MatchingDeps): Promise<MatchingOutput>;
export function runMatching(input: MatchingInput, deps: MatchingDeps): Promise<MatchingOutput> {
  switch (input?.action) {
    case 'begin':
      return beginMatching(input, deps);
    case 'started':
      return matchingStarted(input, deps);
    case 'finish':
      return finishMatching(input, deps);
    case 'release':
      return releaseMatching(input, deps);
    default:
      return Promise.reject(invalidInput(`unknown matching action ${JSON.stringify((input as { action?: unknown })?.action)}`));
  }
}

// --- begin ---

export async function beginMatching(input: BeginMatchingInput, deps: MatchingDeps): Promise<BeginMatchingOutput> {
  requireIds(input, ['batchId', 'owner']);
  const { batchId, owner } = input;
  const { logger } = deps;
  logger.appendKeys({ batchId, owner });

  const batch = await getItem<BatchItem>(deps, Keys.batch(batchId));
  if (!batch) throw batchStateError(`batch ${batchId} not found`);
  if (NOT_COLLECTED.includes(batch.status)) throw batchStateError(`batch ${batchId} is ${batch.status}: its identity records are not written yet`);
  if (batch.matchingRunId) {
    const run = await getItem<MatchingRunItem>(deps, Keys.run(batch.matchingRunId));
    if (run?.status === 'SUCCEEDED' && run.jobId) {
      logger.info('batch already matched', { runId: run.runId, jobId: run.jobId });
      return { state: 'MATCHED', runId: run.runId, jobId: run.jobId };
    }
  }

  const now = deps.now();
  const lock = await getItem<MatchingLockItem>(deps, Keys.matchingLock());
  if (lock && lock.owner === owner) {
    // Re-entrant: a retry of this owner's `begin` gets the run it already began.
    const run = await getItem<MatchingRunItem>(deps, Keys.run(lock.runId));
    if (!run || ACTIVE.includes(run.status)) {
      if (!(await refreshLock(deps, owner, lock.runId, now))) return busy(deps, lock.owner);
      const covered = run ?? (await createRun(deps, lock.runId, batchId, now));
      logger.info('matching lock re-entered', { runId: covered.runId, runStatus: covered.status, batchCount: covered.batchIds.length });
      return { state: 'ACQUIRED', runId: covered.runId, batchIds: covered.batchIds };
    }
    // This owner's previous run ended but the lock stayed: begin a new run under it.
  } else if (lock && lock.expiresAt >= now.toISOString()) {
    return busy(deps, lock.owner);
  }

  const runId = newRunId(now);
  if (!(await takeLock(deps, owner, runId, now))) return busy(deps, undefined);
  if (lock && lock.owner !== owner) logger.warn('expired matching lock taken over', { previousOwner: lock.owner, previousRunId: lock.runId });
  deps.checkpoint('lock-taken');
  const run = await createRun(deps, runId, batchId, now);
  deps.checkpoint('run-created');
  logger.info('matching run begun', { runId, batchCount: run.batchIds.length });
  return { state: 'ACQUIRED', runId, batchIds: run.batchIds };
}

function busy(deps: MatchingDeps, holder: string | undefined): BeginMatchingOutput {
  deps.logger.info('matching lock busy', { holder });
  return { state: 'BUSY' };
}

/** Takes the lock when it is free, expired, or already this owner's. False: someone else holds it. */
async function takeLock(deps: MatchingDeps, owner: string, runId: string, now: Date): Promise<boolean> {
  const item: MatchingLockItem = { ...Keys.matchingLock(), sk: 'LOCK', entity: 'LOCK', owner, runId, expiresAt: expiry(deps, now) };
  try {
    await deps.clients.ddb.send(
      new PutCommand({
        TableName: deps.config.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': now.toISOString(), ':owner': owner },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

async function refreshLock(deps: MatchingDeps, owner: string, runId: string, now: Date): Promise<boolean> {
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.matchingLock(),
        UpdateExpression: 'SET #expiresAt = :expiresAt',
        ConditionExpression: '#owner = :owner AND #runId = :runId',
        ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner', '#runId': 'runId' },
        ExpressionAttributeValues: { ':expiresAt': expiry(deps, now), ':owner': owner, ':runId': runId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Creates the run (or returns the one a crashed attempt created) covering every batch awaiting a match. */
async function createRun(deps: MatchingDeps, runId: string, callerBatchId: string, now: Date): Promise<MatchingRunItem> {
  const batchIds = await awaitingBatches(deps, callerBatchId);
  const at = now.toISOString();
  const run: MatchingRunItem = {
    ...Keys.run(runId),
    sk: 'RUN',
    entity: 'MATCHING_RUN',
    runId,
    status: 'STARTING',
    batchIds,
    startedAt: at,
    updatedAt: at,
    gsi1pk: statusKey('RUN', 'STARTING'),
    gsi1sk: at,
  };
  try {
    await deps.clients.ddb.send(
      new PutCommand({ TableName: deps.config.tableName, Item: run, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return run;
  } catch (error) {
    if (!(isConditionalCheckFailed(error))) throw error;
    const existing = await getItem<MatchingRunItem>(deps, Keys.run(runId));
    if (!existing) throw error;
    return existing;
  }
}

/**
 * Every batch AWAITING_MATCH without a successful run, oldest first, the caller's always
 * included. The index is eventually consistent: a batch it misses keeps waiting in its own
 * execution and is covered by the next run.
 */
async function awaitingBatches(deps: MatchingDeps, callerBatchId: string): Promise<string[]> {
  const found: { batchId: string; since: string }[] = [];
  const pages = paginateQuery(
    { client: deps.clients.ddb },
    {
      TableName: deps.config.tableName,
      IndexName: STATUS_INDEX,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': statusKey('BATCH', 'AWAITING_MATCH') },
    },
  );
  for await (const page of pages) {
    for (const item of (page.Items ?? []) as Partial<BatchItem>[]) {
      const batchId = item.batchId ?? (typeof item.pk === 'string' ? item.pk.replace(/^BATCH#/, '') : undefined);
      if (batchId && !item.matchingRunId) found.push({ batchId, since: item.gsi1sk ?? '' });
    }
  }
  found.sort((a, b) => a.since.localeCompare(b.since) || a.batchId.localeCompare(b.batchId));
  const batchIds = [callerBatchId, ...found.map((f) => f.batchId).filter((id) => id !== callerBatchId)];
  if (batchIds.length > MAX_RUN_BATCHES) {
    deps.logger.warn('matching run capped', { awaiting: batchIds.length, covered: MAX_RUN_BATCHES });
  }
  return [...new Set(batchIds)].slice(0, MAX_RUN_BATCHES);
}

// --- started ---

export async function matchingStarted(input: MatchingStartedInput, deps: MatchingDeps): Promise<MatchingStartedOutput> {
  requireIds(input, ['runId', 'jobId']);
  const { runId, jobId } = input;
  deps.logger.appendKeys({ runId, jobId });
  const at = deps.now().toISOString();
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.run(runId),
        UpdateExpression: 'SET #status = :running, #jobId = :jobId, #updatedAt = :at, #gsi1pk = :gsi1pk, #gsi1sk = :at',
        ConditionExpression: 'attribute_exists(pk) AND (#status IN (:starting, :queued) OR (#status = :running AND #jobId = :jobId))',
        ExpressionAttributeNames: { '#status': 'status', '#jobId': 'jobId', '#updatedAt': 'updatedAt', '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk' },
        ExpressionAttributeValues: {
          ':running': 'RUNNING',
          ':starting': 'STARTING',
          ':queued': 'QUEUED',
          ':jobId': jobId,
          ':at': at,
          ':gsi1pk': statusKey('RUN', 'RUNNING'),
        },
      }),
    );
  } catch (error) {
    if (!(isConditionalCheckFailed(error))) throw error;
    const run = await getItem<MatchingRunItem>(deps, Keys.run(runId));
    // Already recorded (and perhaps finished since): nothing to do.
    if (run?.jobId === jobId) return { runId, jobId };
    throw batchStateError(run ? `run ${runId} is ${run.status} with job ${run.jobId ?? 'none'}` : `run ${runId} not found`);
  }
  deps.logger.info('matching job started');
  return { runId, jobId };
}

// --- finish ---

export async function finishMatching(input: FinishMatchingInput, deps: MatchingDeps): Promise<FinishMatchingOutput> {
  requireIds(input, ['runId', 'owner']);
  const { runId, owner, job } = input;
  if (typeof job !== 'object' || job === null || typeof job.JobId !== 'string' || !job.JobId) throw invalidInput('finish expects job: GetMatchingJob output with JobId');
  const status = job.Status;
  if (status !== 'SUCCEEDED' && status !== 'FAILED') throw batchStateError(`run ${runId}: job ${job.JobId} has not ended (${String(status)})`);
  const { logger, config } = deps;
  logger.appendKeys({ runId, jobId: job.JobId, owner });

  const run = await getItem<MatchingRunItem>(deps, Keys.run(runId));
  if (!run) throw batchStateError(`run ${runId} not found`);

  const now = deps.now();
  const metrics: MatchingMetrics = {
    inputRecords: count(job.Metrics?.InputRecords),
    totalRecordsProcessed: count(job.Metrics?.TotalRecordsProcessed),
    recordsNotProcessed: count(job.Metrics?.RecordsNotProcessed),
    matchIDs: count(job.Metrics?.MatchIDs),
  };
  // The state machine's `Matching Failed` state reads errorMessage as its cause: always set it for FAILED.
  const errorMessage = shorten(job.ErrorDetails?.ErrorMessage) ?? (status === 'FAILED' ? FAILED_WITHOUT_MESSAGE : undefined);
  const endedAt = isoTime(job.EndTime) ?? now.toISOString();
  const startedAt = isoTime(job.StartTime) ?? run.startedAt;
  const at = now.toISOString();
  const names: Record<string, string> = {
    '#status': 'status', '#jobId': 'jobId', '#metrics': 'metrics', '#startedAt': 'startedAt', '#endedAt': 'endedAt',
    '#updatedAt': 'updatedAt', '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk', '#errorMessage': 'errorMessage',
  };
  const values: Record<string, unknown> = {
    ':status': status, ':jobId': job.JobId, ':metrics': metrics, ':startedAt': startedAt, ':endedAt': endedAt,
    ':at': at, ':gsi1pk': statusKey('RUN', status),
  };
  let update = 'SET #status = :status, #jobId = :jobId, #metrics = :metrics, #startedAt = :startedAt, #endedAt = :endedAt, #updatedAt = :at, #gsi1pk = :gsi1pk, #gsi1sk = :at';
  if (errorMessage) {
    update += ', #errorMessage = :errorMessage';
    values[':errorMessage'] = errorMessage;
  } else {
    update += ' REMOVE #errorMessage';
  }
  await deps.clients.ddb.send(
    new UpdateCommand({
      TableName: config.tableName,
      Key: Keys.run(runId),
      UpdateExpression: update,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
  deps.checkpoint('run-recorded');

  if (status === 'SUCCEEDED') {
    let matched = 0;
    for (const batchId of run.batchIds) {
      if (await recordBatchMatched(deps, batchId, runId, job.JobId, metrics, at)) matched += 1;
    }
    logger.info('batches matched', { batchCount: run.batchIds.length, recorded: matched });
  }
  deps.checkpoint('batches-recorded');

  // At least once: a retry after this point puts the same detail again (consumers key on runId).
  await publish(deps.clients.events, config.eventBusName, DetailType.MatchingCompleted, {
    version: EVENT_VERSION,
    runId,
    jobId: job.JobId,
    status,
    batchIds: run.batchIds,
    ...metrics,
    ...(errorMessage ? { errorMessage } : {}),
    outputS3Uri: s3Uri(config.bucket, `${Prefix.matches}${config.workflowName}/${job.JobId}/`),
    completedAt: endedAt,
  });
  deps.checkpoint('event-put');

  await releaseLock(deps, owner, runId);
  logger.info('matching run finished', { status, ...metrics });
  return errorMessage ? { status, errorMessage } : { status };
}

/** False when the batch is gone or another successful run already covered it (the first one stays). */
async function recordBatchMatched(
  deps: MatchingDeps,
  batchId: string,
  runId: string,
  jobId: string,
  metrics: MatchingMetrics,
  at: string,
): Promise<boolean> {
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.batch(batchId),
        UpdateExpression: 'SET #matchingRunId = :runId, #matchingJobId = :jobId, #matchingMetrics = :metrics, #updatedAt = :at, #gsi1sk = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#matchingRunId) OR #matchingRunId = :runId)',
        ExpressionAttributeNames: {
          '#matchingRunId': 'matchingRunId', '#matchingJobId': 'matchingJobId', '#matchingMetrics': 'matchingMetrics',
          '#updatedAt': 'updatedAt', '#gsi1sk': 'gsi1sk',
        },
        ExpressionAttributeValues: { ':runId': runId, ':jobId': jobId, ':metrics': metrics, ':at': at },
      }),
    );
    return true;
  } catch (error) {
    if (!(isConditionalCheckFailed(error))) throw error;
    deps.logger.warn('batch not marked matched: missing or matched by another run', { coveredBatchId: batchId });
    return false;
  }
}

// --- release ---

export async function releaseMatching(input: ReleaseMatchingInput, deps: MatchingDeps): Promise<ReleaseMatchingOutput> {
  requireIds(input, ['runId', 'owner']);
  const { runId, owner } = input;
  deps.logger.appendKeys({ runId, owner });
  const at = deps.now().toISOString();
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.run(runId),
        UpdateExpression: 'SET #status = :failed, #errorMessage = :message, #endedAt = if_not_exists(#endedAt, :at), #updatedAt = :at, #gsi1pk = :gsi1pk, #gsi1sk = :at',
        // A run whose job was recorded is never marked "not started".
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#jobId) AND #status IN (:starting, :queued, :failed)',
        ExpressionAttributeNames: {
          '#status': 'status', '#errorMessage': 'errorMessage', '#endedAt': 'endedAt', '#updatedAt': 'updatedAt',
          '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk', '#jobId': 'jobId',
        },
        ExpressionAttributeValues: {
          ':failed': 'FAILED', ':starting': 'STARTING', ':queued': 'QUEUED', ':message': NOT_STARTED_MESSAGE, ':at': at,
          ':gsi1pk': statusKey('RUN', 'FAILED'),
        },
      }),
    );
  } catch (error) {
    if (!(isConditionalCheckFailed(error))) throw error;
    const run = await getItem<MatchingRunItem>(deps, Keys.run(runId));
    if (!run) throw batchStateError(`run ${runId} not found`);
    deps.logger.warn('run not marked failed: its job was started', { runStatus: run.status });
  }
  deps.checkpoint('run-released');
  await releaseLock(deps, owner, runId);
  deps.logger.info('matching run released');
  return { runId, status: 'FAILED' };
}

/** Deletes the lock if this owner still holds it for this run; a lock taken over since is left alone. */
async function releaseLock(deps: MatchingDeps, owner: string, runId: string): Promise<void> {
  try {
    await deps.clients.ddb.send(
      new DeleteCommand({
        TableName: deps.config.tableName,
        Key: Keys.matchingLock(),
        ConditionExpression: '#owner = :owner AND #runId = :runId',
        ExpressionAttributeNames: { '#owner': 'owner', '#runId': 'runId' },
        ExpressionAttributeValues: { ':owner': owner, ':runId': runId },
      }),
    );
  } catch (error) {
    if (!(isConditionalCheckFailed(error))) throw error;
    deps.logger.info('matching lock not held by this run: left as is');
  }
}

// --- helpers ---

async function getItem<T>(deps: MatchingDeps, key: { pk: string; sk: string }): Promise<T | undefined> {
  const { Item } = await deps.clients.ddb.send(new GetCommand({ TableName: deps.config.tableName, Key: key, ConsistentRead: true }));
  return Item as T | undefined;
}

function expiry(deps: MatchingDeps, now: Date): string {
  return new Date(now.getTime() + deps.config.lockSeconds * 1000).toISOString();
}

/** Time-sortable, PHI-free: `20260101T000000123Z-9f2c41d7`. */
export function newRunId(now: Date): string {
  return timeSortableId(now, 4);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

function shorten(message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  const flat = message.replace(/\s+/g, ' ').trim();
  if (!flat) return undefined;
  return flat.length > MAX_ERROR_MESSAGE ? `${flat.slice(0, MAX_ERROR_MESSAGE - 1)}…` : flat;
}

function requireIds<T extends object>(input: T, fields: (keyof T & string)[]): void {
  for (const field of fields) {
    const value = (input as Record<string, unknown>)[field];
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(value)) throw invalidInput(`matching ${field} must be an id, got ${typeof value}`);
  }
}


