/**
 * finalize: the terminal record and event of a batch — `complete` (COMPLETED + "Batch Completed")
 * or `fail` (FAILED + "Batch Failed"; the inputs stay under batches/<id>/input/ for a redrive).
 *
 * Events are delivered at least once: the item is written first, then the event is put, and a
 * retry of the task repeats both. No "event put" marker is kept — a crash between the put and
 * such a marker would repeat the event anyway — but a repeated "Batch Completed" carries the
 * same detail, because `completedAt` is kept from the first completion (consumers key on
 * batchId + completedAt).
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DetailType, EVENT_VERSION } from '../../contracts/events.js';
import {
  batchEntitiesOutputPrefix,
  batchInputPrefix,
  batchRecordsKey,
  batchSnomedOutputPrefix,
  Prefix,
  s3Uri,
} from '../../contracts/layout.js';
import { Keys, statusKey, type BatchItem, type BatchStatus } from '../../contracts/table.js';
import type { CompleteBatchInput, FailBatchInput, FinalizeInput } from '../../contracts/workflow.js';
import { publish } from '../shared/events.js';
import type { AppLogger } from '../shared/logger.js';
import type { Checkpoint } from '../shared/crash.js';
import { batchStateError, invalidInput, isConditionalCheckFailed } from '../shared/errors.js';

export interface FinalizeConfig {
  tableName: string;
  bucket: string;
  eventBusName: string;
  /** The Entity Resolution workflow: its output is under matches/<workflowName>/<jobId>/. */
  workflowName: string;
}

export interface FinalizeDeps {
  clients: { ddb: DynamoDBDocumentClient; events: EventBridgeClient };
  config: FinalizeConfig;
  logger: AppLogger;
  now: () => Date;
  checkpoint: Checkpoint;
}

export type FinalizeOutput =
  | { batchId: string; status: 'COMPLETED'; outcome: 'COMPLETED' | 'PARTIAL_SUCCESS'; completedAt: string }
  | { batchId: string; status: 'FAILED'; error: string };

export const MAX_ERROR = 256;
export const MAX_CAUSE = 2048;
/** A batch completes from AWAITING_MATCH; COMPLETED is a retry; FAILED is a redrive. */
const COMPLETABLE: readonly BatchStatus[] = ['AWAITING_MATCH', 'COMPLETED', 'FAILED'];

export function finalizeBatch(input: FinalizeInput, deps: FinalizeDeps): Promise<FinalizeOutput> {
  switch (input?.action) {
    case 'complete':
      return completeBatch(input, deps);
    case 'fail':
      return failBatch(input, deps);
    default:
      return Promise.reject(invalidInput(`unknown finalize action ${JSON.stringify((input as { action?: unknown })?.action)}`));
  }
}

export async function completeBatch(input: CompleteBatchInput, deps: FinalizeDeps): Promise<FinalizeOutput> {
  validateComplete(input);
  const { batchId, results, matching } = input;
  const { config, logger } = deps;
  logger.appendKeys({ batchId, runId: matching.runId, jobId: matching.jobId });

  const { Item } = await deps.clients.ddb.send(new GetCommand({ TableName: config.tableName, Key: Keys.batch(batchId), ConsistentRead: true }));
  const batch = Item as BatchItem | undefined;
  if (!batch) throw batchStateError(`batch ${batchId} not found`);
  if (!COMPLETABLE.includes(batch.status)) throw batchStateError(`batch ${batchId} is ${batch.status}; it completes only from ${COMPLETABLE.join(', ')}`);

  const at = deps.now().toISOString();
  const status: BatchStatus = 'COMPLETED';
  const allowed = Object.fromEntries(COMPLETABLE.map((s, i) => [`:allowed${i}`, s]));
  let updated: BatchItem;
  try {
    const response = await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: Keys.batch(batchId),
        UpdateExpression:
          'SET #status = :status, #outcome = :outcome, #processedCount = :processed, #unprocessedCount = :unprocessed, ' +
          '#entityCount = :entities, #snomedConceptCount = :concepts, #identityRecordCount = :records, ' +
          '#matchingRunId = :runId, #matchingJobId = :jobId, #completedAt = if_not_exists(#completedAt, :at), ' +
          '#updatedAt = :at, #gsi1pk = :gsi1pk, #gsi1sk = :at REMOVE #error, #cause',
        ConditionExpression: `attribute_exists(pk) AND #status IN (${Object.keys(allowed).join(', ')})`,
        ExpressionAttributeNames: {
          '#status': 'status', '#outcome': 'outcome', '#processedCount': 'processedCount', '#unprocessedCount': 'unprocessedCount',
          '#entityCount': 'entityCount', '#snomedConceptCount': 'snomedConceptCount', '#identityRecordCount': 'identityRecordCount',
          '#matchingRunId': 'matchingRunId', '#matchingJobId': 'matchingJobId', '#completedAt': 'completedAt',
          '#updatedAt': 'updatedAt', '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk', '#error': 'error', '#cause': 'cause',
        },
        ExpressionAttributeValues: {
          ...allowed,
          ':status': status,
          ':outcome': results.outcome,
          ':processed': results.processedCount,
          ':unprocessed': results.unprocessedCount,
          ':entities': results.entityCount,
          ':concepts': results.snomedConceptCount,
          ':records': results.identityRecordCount,
          ':runId': matching.runId,
          ':jobId': matching.jobId,
          ':at': at,
          ':gsi1pk': statusKey('BATCH', status),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    updated = response.Attributes as BatchItem;
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw batchStateError(`batch ${batchId} changed state while it was completed`);
    throw error;
  }
  deps.checkpoint('batch-completed');

  const completedAt = updated.completedAt ?? at;
  await publish(deps.clients.events, config.eventBusName, DetailType.BatchCompleted, {
    version: EVENT_VERSION,
    batchId,
    status: results.outcome,
    documentCount: batch.documentCount ?? batch.documentIds?.length ?? results.processedCount + results.unprocessedCount,
    processedCount: results.processedCount,
    unprocessedCount: results.unprocessedCount,
    entityCount: results.entityCount,
    snomedConceptCount: results.snomedConceptCount,
    identityRecordCount: results.identityRecordCount,
    matchingRunId: matching.runId,
    matchingJobId: matching.jobId,
    outputs: {
      entitiesS3Uri: s3Uri(config.bucket, batchEntitiesOutputPrefix(batchId)),
      snomedS3Uri: s3Uri(config.bucket, batchSnomedOutputPrefix(batchId)),
      recordsS3Uri: s3Uri(config.bucket, batchRecordsKey(batchId)),
      matchesS3Uri: s3Uri(config.bucket, `${Prefix.matches}${config.workflowName}/${matching.jobId}/`),
    },
    completedAt,
  });
  deps.checkpoint('event-put');
  logger.info('batch completed', { outcome: results.outcome, processedCount: results.processedCount, unprocessedCount: results.unprocessedCount });
  return { batchId, status: 'COMPLETED', outcome: results.outcome, completedAt };
}

export async function failBatch(input: FailBatchInput, deps: FinalizeDeps): Promise<FinalizeOutput> {
  if (typeof input?.batchId !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(input.batchId)) throw invalidInput('fail expects { batchId, error: { Error, Cause } }');
  const { batchId } = input;
  const { config, logger } = deps;
  logger.appendKeys({ batchId });
  const error = shorten(typeof input.error?.Error === 'string' ? input.error.Error : '', MAX_ERROR) || 'UnknownError';
  const cause = reduceCause(input.error?.Cause);
  const at = deps.now().toISOString();
  const status: BatchStatus = 'FAILED';
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: Keys.batch(batchId),
        // completedAt goes: a redrive that completes the batch again stamps its own time.
        UpdateExpression: 'SET #status = :status, #error = :error, #cause = :cause, #updatedAt = :at, #gsi1pk = :gsi1pk, #gsi1sk = :at REMOVE #completedAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          '#status': 'status', '#error': 'error', '#cause': 'cause', '#updatedAt': 'updatedAt', '#gsi1pk': 'gsi1pk',
          '#gsi1sk': 'gsi1sk', '#completedAt': 'completedAt',
        },
        ExpressionAttributeValues: { ':status': status, ':error': error, ':cause': cause, ':at': at, ':gsi1pk': statusKey('BATCH', status) },
      }),
    );
  } catch (caught) {
    if (isConditionalCheckFailed(caught)) throw batchStateError(`batch ${batchId} not found`);
    throw caught;
  }
  deps.checkpoint('batch-failed');

  await publish(deps.clients.events, config.eventBusName, DetailType.BatchFailed, {
    version: EVENT_VERSION,
    batchId,
    error,
    cause,
    inputS3Uri: s3Uri(config.bucket, batchInputPrefix(batchId)),
    failedAt: at,
  });
  deps.checkpoint('event-put');
  logger.info('batch failed', { error });
  return { batchId, status: 'FAILED', error };
}

/**
 * Step Functions' `Cause` as one short line: a Lambda error arrives as a JSON string
 * `{errorType, errorMessage, trace}` (the trace is dropped); a service error or a Fail state's
 * cause as plain text. Only error text produced by services and our own functions reaches here.
 */
export function reduceCause(cause: unknown): string {
  if (typeof cause !== 'string' || !cause.trim()) return 'No cause reported';
  let message = cause;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (typeof parsed === 'object' && parsed !== null) {
      const fields = parsed as Record<string, unknown>;
      const text = [fields.errorMessage, fields.ErrorMessage, fields.Message, fields.message, fields.Cause, fields.cause].find(
        (v): v is string => typeof v === 'string' && v.trim() !== '',
      );
      const type = [fields.errorType, fields.Error, fields.error].find((v): v is string => typeof v === 'string' && v.trim() !== '');
      if (text !== undefined) message = type && !text.startsWith(type) ? `${type}: ${text}` : text;
      else if (type !== undefined) message = type;
    } else if (typeof parsed === 'string') {
      message = parsed;
    }
  } catch {
    // Not JSON: a service message as it is.
  }
  return shorten(message, MAX_CAUSE) || 'No cause reported';
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function validateComplete(input: CompleteBatchInput): void {
  const r = input?.results;
  const counts = ['processedCount', 'unprocessedCount', 'entityCount', 'snomedConceptCount', 'identityRecordCount'] as const;
  const ok =
    typeof input?.batchId === 'string' &&
    /^[A-Za-z0-9_-]{1,80}$/.test(input.batchId) &&
    typeof r === 'object' && r !== null &&
    counts.every((c) => Number.isInteger(r[c]) && r[c] >= 0) &&
    (r.outcome === 'COMPLETED' || r.outcome === 'PARTIAL_SUCCESS') &&
    typeof input.matching?.runId === 'string' && input.matching.runId !== '' &&
    typeof input.matching?.jobId === 'string' && input.matching.jobId !== '';
  if (!ok) throw invalidInput('complete expects { batchId, results: CollectResultsOutput, matching: { runId, jobId } }');
}


