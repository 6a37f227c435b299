/**
 * collect-results: after both Comprehend Medical jobs ended, read their outputs, record each
 * document's outcome, and write the batch's patient-identity records (the Entity Resolution
 * input). Idempotent: every write is an overwrite with the same values, so a retry or a redrive
 * re-runs it safely.
 */
import { PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchInputKey, batchRecordsKey, IDENTITY_COLUMNS, s3Uri, type IdentityRecord } from '../../contracts/layout.js';
import { Keys, statusKey, type BatchItem, type BatchStatus, type JobRecord } from '../../contracts/table.js';
import type { CollectResultsInput, CollectResultsOutput, DetectionJobResult } from '../../contracts/workflow.js';
import type { AppLogger } from '../shared/logger.js';
import type { Checkpoint } from '../shared/crash.js';
import { toCsv } from './csv.js';
import { extractIdentity, type PhiEntity } from './identity.js';
import { outputKeyOf, outputsError, readJobOutputs, readText, type JobOutputs } from './job-output.js';
import { batchStateError } from '../shared/errors.js';
import { isoTime } from '../shared/time.js';

export interface CollectConfig {
  tableName: string;
  /** The documents bucket: inputs under batches/, the records CSV under records/. */
  bucket: string;
  /** The KMS key the records CSV is encrypted with. */
  kmsKeyArn: string;
}

export interface CollectDeps {
  clients: { s3: S3Client; ddb: DynamoDBDocumentClient };
  config: CollectConfig;
  logger: AppLogger;
  now: () => Date;
  checkpoint: Checkpoint;
}

/** Documents read in parallel (three GETs each). */
const CONCURRENCY = 8;
const MAX_REASON = 1024;
/** Statuses collect-results may move to AWAITING_MATCH (FAILED: a redrive). */
const COLLECTABLE: readonly BatchStatus[] = ['SEALED', 'SUBMITTED', 'AWAITING_MATCH', 'FAILED'];

type Outcome =
  | {
      documentId: string;
      status: 'PROCESSED';
      entityCount: number;
      entitiesByCategory: Record<string, number>;
      snomedConceptCount: number;
      identity: IdentityRecord;
    }
  | { documentId: string; status: 'UNPROCESSED'; reason: string; reasonCodes: string[] };

export async function collectResults(input: CollectResultsInput, deps: CollectDeps): Promise<CollectResultsOutput> {
  validateInput(input);
  const { clients, config, logger, checkpoint } = deps;
  const { batchId } = input;
  logger.appendKeys({ batchId, entitiesJobId: input.entities.jobId, snomedJobId: input.snomed.jobId });

  const batch = await readBatch(clients.ddb, config.tableName, batchId);
  const documentIds = batch.documentIds ?? [];
  const idSet = new Set(documentIds);

  const [entities, snomed] = await Promise.all([
    readJobOutputs(clients.s3, 'entities', input.entities, idSet),
    readJobOutputs(clients.s3, 'snomedct', input.snomed, idSet),
  ]);
  for (const outputs of [entities, snomed]) {
    logger.info('job outputs located', {
      job: outputs.label,
      jobId: outputs.jobId,
      manifestStatus: outputs.summary.Status,
      succeeded: outputs.succeeded.size,
      failed: outputs.failed.size,
      foreignEntries: outputs.foreignEntries,
    });
  }
  checkpoint('outputs-located');

  const referenceYear = deps.now().getUTCFullYear();
  const outcomes = await mapLimit(documentIds, CONCURRENCY, (documentId) =>
    collectDocument(deps, batchId, documentId, entities, snomed, referenceYear),
  );
  checkpoint('outputs-read');

  const processed = outcomes.filter((o) => o.status === 'PROCESSED');
  for (const o of outcomes) {
    if (o.status === 'UNPROCESSED') logger.warn('document unprocessed', { documentId: o.documentId, reasonCodes: o.reasonCodes });
  }

  // No document processed: when the service itself listed every document as failed (a
  // PARTIAL_SUCCESS job), that is the batch's outcome — failing would fail every redrive too, as
  // the same finished jobs are reused. Outputs missing or unreadable on our side are retried.
  const serviceFailedOnly = outcomes.every((o) => o.status === 'UNPROCESSED' && o.reasonCodes.every((code) => !LOCAL_PROBLEMS.has(code)));
  if (processed.length === 0 && !serviceFailedOnly) {
    // Record why on every document before failing the batch, so that nothing is silently dropped.
    await updateDocuments(deps, batchId, outcomes);
    throw outputsError(`batch ${batchId}: none of ${documentIds.length} documents has readable outputs of both jobs`);
  }

  const records = processed.map((o) => o.identity);
  const recordsKey = batchRecordsKey(batchId);
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: recordsKey,
      Body: toCsv(IDENTITY_COLUMNS, records),
      ContentType: 'text/csv; charset=utf-8',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: config.kmsKeyArn,
    }),
  );
  logger.info('identity records written', { identityRecordCount: records.length, ...fieldCounts(records) });
  checkpoint('records-written');

  await updateDocuments(deps, batchId, outcomes);
  checkpoint('documents-updated');

  const output: CollectResultsOutput = {
    processedCount: processed.length,
    unprocessedCount: outcomes.length - processed.length,
    entityCount: sum(processed.map((o) => o.entityCount)),
    snomedConceptCount: sum(processed.map((o) => o.snomedConceptCount)),
    identityRecordCount: records.length,
    recordsS3Uri: s3Uri(config.bucket, recordsKey),
    outcome: processed.length === outcomes.length ? 'COMPLETED' : 'PARTIAL_SUCCESS',
  };
  await updateBatch(deps, batch, input, output);
  logger.info('results collected', { ...output });
  return output;
}

/** Reasons that are a problem of reading the outputs, not a per-file failure reported by the service. */
const LOCAL_PROBLEMS: ReadonlySet<string> = new Set(['NO_OUTPUT', 'OUTPUT_UNREADABLE', 'INPUT_MISSING']);

async function collectDocument(
  deps: CollectDeps,
  batchId: string,
  documentId: string,
  entities: JobOutputs,
  snomed: JobOutputs,
  referenceYear: number,
): Promise<Outcome> {
  const { s3 } = deps.clients;
  const problems: { code: string; text: string }[] = [];
  for (const outputs of [entities, snomed]) {
    const failed = outputs.failed.get(documentId);
    if (failed) {
      problems.push({ code: failed.errorCode, text: `${outputs.label}: ${failed.errorCode}${failed.errorMessage ? `: ${failed.errorMessage}` : ''}` });
    } else if (outputKeyOf(outputs, documentId) === undefined) {
      problems.push({ code: 'NO_OUTPUT', text: `${outputs.label}: NO_OUTPUT: job ${outputs.jobId} wrote no output for the document` });
    }
  }
  if (problems.length > 0) return unprocessed(documentId, problems);

  const [entitiesText, snomedText, documentText] = await Promise.all([
    readText(s3, entities.bucket, outputKeyOf(entities, documentId) as string),
    readText(s3, snomed.bucket, outputKeyOf(snomed, documentId) as string),
    readInput(s3, deps.config.bucket, batchInputKey(batchId, documentId)),
  ]);
  const detected = parseEntities(entitiesText);
  const inferred = parseEntities(snomedText);
  if (!detected) problems.push({ code: 'OUTPUT_UNREADABLE', text: 'entities: OUTPUT_UNREADABLE: the .out file is not a DetectEntitiesV2 response' });
  if (!inferred) problems.push({ code: 'OUTPUT_UNREADABLE', text: 'snomedct: OUTPUT_UNREADABLE: the .out file is not an InferSNOMEDCT response' });
  if (documentText === undefined) problems.push({ code: 'INPUT_MISSING', text: 'input: INPUT_MISSING: the input document is gone' });
  if (!detected || !inferred || documentText === undefined) return unprocessed(documentId, problems);

  const entitiesByCategory: Record<string, number> = {};
  for (const entity of detected) {
    const category = typeof entity.Category === 'string' ? entity.Category : 'UNKNOWN';
    entitiesByCategory[category] = (entitiesByCategory[category] ?? 0) + 1;
  }
  const snomedConceptCount = inferred.filter((e) => Array.isArray(e.SNOMEDCTConcepts) && e.SNOMEDCTConcepts.length > 0).length;
  const identity = extractIdentity(documentText, detected as PhiEntity[], { referenceYear });
  return {
    documentId,
    status: 'PROCESSED',
    entityCount: detected.length,
    entitiesByCategory,
    snomedConceptCount,
    identity: { record_id: documentId, batch_id: batchId, ...identity },
  };
}

function unprocessed(documentId: string, problems: { code: string; text: string }[]): Outcome {
  const reason = problems.map((p) => p.text).join('; ');
  return {
    documentId,
    status: 'UNPROCESSED',
    reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason,
    reasonCodes: problems.map((p) => p.code),
  };
}

/** The input text, or undefined when the object is gone (recorded as a reason, not a crash). */
async function readInput(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return await readText(s3, bucket, key);
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return undefined;
    throw error;
  }
}

type JsonEntity = Record<string, unknown> & { Category?: unknown; SNOMEDCTConcepts?: unknown };

function parseEntities(text: string): JsonEntity[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('Entities' in parsed) || !Array.isArray(parsed.Entities)) return undefined;
  return parsed.Entities.filter((e): e is JsonEntity => typeof e === 'object' && e !== null);
}

// --- DynamoDB ---

async function readBatch(ddb: DynamoDBDocumentClient, tableName: string, batchId: string): Promise<BatchItem> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName, Key: Keys.batch(batchId), ConsistentRead: true }));
  const batch = Item as BatchItem | undefined;
  if (!batch) throw batchStateError(`batch ${batchId} not found`);
  if (!COLLECTABLE.includes(batch.status)) throw batchStateError(`batch ${batchId} is ${batch.status}; results are collected only in ${COLLECTABLE.join(', ')}`);
  if (!batch.documentIds || batch.documentIds.length === 0) throw batchStateError(`batch ${batchId} has no documents`);
  return batch;
}

async function updateDocuments(deps: CollectDeps, batchId: string, outcomes: readonly Outcome[]): Promise<void> {
  const updatedAt = deps.now().toISOString();
  await mapLimit(outcomes, CONCURRENCY, async (o) => {
    const values: Record<string, unknown> =
      o.status === 'PROCESSED'
        ? { entityCount: o.entityCount, entitiesByCategory: o.entitiesByCategory, snomedConceptCount: o.snomedConceptCount }
        : { reason: o.reason };
    const remove = o.status === 'PROCESSED' ? ['reason'] : ['entityCount', 'entitiesByCategory', 'snomedConceptCount'];
    const update = updateExpression({ ...values, status: o.status, batchId, updatedAt, gsi1pk: statusKey('DOC', o.status), gsi1sk: updatedAt }, remove);
    try {
      await deps.clients.ddb.send(
        new UpdateCommand({
          TableName: deps.config.tableName,
          Key: Keys.document(o.documentId),
          ...update,
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#batchId) OR #batchId = :batchId)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw batchStateError(`document ${o.documentId} of batch ${batchId} is missing or claimed by another batch`);
      }
      throw error;
    }
  });
}

async function updateBatch(deps: CollectDeps, batch: BatchItem, input: CollectResultsInput, output: CollectResultsOutput): Promise<void> {
  const updatedAt = deps.now().toISOString();
  const status: BatchStatus = 'AWAITING_MATCH';
  const update = updateExpression(
    {
      status,
      processedCount: output.processedCount,
      unprocessedCount: output.unprocessedCount,
      entityCount: output.entityCount,
      snomedConceptCount: output.snomedConceptCount,
      identityRecordCount: output.identityRecordCount,
      outcome: output.outcome,
      entitiesJob: jobRecord(batch.entitiesJob, input.entities),
      snomedJob: jobRecord(batch.snomedJob, input.snomed),
      updatedAt,
      gsi1pk: statusKey('BATCH', status),
      gsi1sk: updatedAt,
    },
    // A redrive of a FAILED batch clears the old failure.
    ['error', 'cause'],
  );
  const allowed = Object.fromEntries(COLLECTABLE.map((s, i) => [`:allowed${i}`, s]));
  try {
    await deps.clients.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: Keys.batch(batch.batchId),
        ...update,
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...allowed },
        ConditionExpression: `attribute_exists(pk) AND #status IN (${Object.keys(allowed).join(', ')})`,
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw batchStateError(`batch ${batch.batchId} changed state while its results were collected`);
    throw error;
  }
}

function jobRecord(previous: JobRecord | undefined, job: DetectionJobResult): JobRecord {
  const record: JobRecord = { ...previous, jobId: job.jobId, status: job.status };
  if (job.message) record.message = job.message;
  const endTime = isoTime(job.endTime);
  if (endTime) record.endTime = endTime;
  return record;
}

/** `SET #a = :a, ... REMOVE #b, ...` with every name aliased (status, error... are reserved words). */
function updateExpression(set: Record<string, unknown>, remove: readonly string[] = []) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [name, value] of Object.entries(set)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  for (const name of remove) names[`#${name}`] = name;
  const removal = remove.length > 0 ? ` REMOVE ${remove.map((n) => `#${n}`).join(', ')}` : '';
  return { UpdateExpression: `SET ${sets.join(', ')}${removal}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

// --- helpers ---


function validateInput(input: CollectResultsInput): void {
  const job = (j: DetectionJobResult | undefined) =>
    typeof j === 'object' && j !== null && typeof j.jobId === 'string' && j.jobId !== '' && typeof j.outputS3Bucket === 'string' && j.outputS3Bucket !== '' && typeof j.outputS3Key === 'string';
  if (typeof input?.batchId !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(input.batchId) || !job(input.entities) || !job(input.snomed)) {
    const error = new Error('collect-results expects { batchId, entities: { jobId, outputS3Bucket, outputS3Key, status }, snomed: {...} }');
    error.name = 'InvalidInput';
    throw error;
  }
}

/** How many records carry each field: counts only, never values. */
function fieldCounts(records: readonly IdentityRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const column of IDENTITY_COLUMNS.slice(2)) counts[`with_${column}`] = records.filter((r) => r[column] !== '').length;
  return counts;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
