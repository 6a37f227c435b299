/**
 * Ingest Lambda: SQS (S3 notifications of `inbox/`) -> claimed, batched, submitted documents.
 *
 * Powertools' BatchProcessor handles records one by one; ingest must handle the SQS batch as one
 * unit (many documents -> one Comprehend Medical batch), so the core reports which messages to
 * retry and this handler returns them as `batchItemFailures` (ReportBatchItemFailures).
 * Unexpected errors are not caught: the invocation fails and SQS redelivers all of its messages,
 * which the core absorbs as duplicates.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ComprehendMedicalClient } from '@aws-sdk/client-comprehendmedical';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Env } from '../../contracts/env.js';
import { crashPoints } from '../shared/crash.js';
import { newDocumentClient } from '../shared/dynamo.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import { createBatchId, ingest, type IngestConfig, type IngestDeps } from './ingest.js';

const s3 = new S3Client({});
const dynamo = newDocumentClient();
// SDK retries kept here (unlike start-jobs): a start throttled only for a moment still succeeds in
// ingest, and fewer batches take the slower Start Jobs path.
const comprehend = new ComprehendMedicalClient({});
const sfn = new SFNClient({});
const events = new EventBridgeClient({});

function positiveInteger(name: string): number {
  const value = Number(requireEnv(name));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`Environment variable ${name} must be a positive integer`);
  return value;
}

/** Read per invocation (cheap), so that an in-process runner may set the environment late. */
export function configFromEnv(): IngestConfig {
  return {
    tableName: requireEnv(Env.TableName),
    bucket: requireEnv(Env.DocumentsBucket),
    eventBusName: requireEnv(Env.EventBusName),
    stateMachineArn: requireEnv(Env.BatchStateMachineArn),
    dataAccessRoleArn: requireEnv(Env.DataAccessRoleArn),
    kmsKeyArn: requireEnv(Env.KmsKeyArn),
    maxDocumentBytes: positiveInteger(Env.MaxDocumentBytes),
    maxBatchDocuments: positiveInteger(Env.MaxBatchDocuments),
  };
}

async function ingestHandler(event: SQSEvent, context: Partial<Pick<Context, 'getRemainingTimeInMillis'>>): Promise<SQSBatchResponse> {
  // At the start, the time left is the function's timeout: twice that, and an invocation is surely over.
  const timeoutMs = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const deps: IngestDeps = {
    s3,
    dynamo,
    comprehend,
    sfn,
    events,
    config: configFromEnv(),
    logger,
    now: () => new Date(),
    newBatchId: () => createBatchId(),
    checkpoint: crashPoints('ingest'),
    ...(timeoutMs ? { abandonedCandidateAfterMs: 2 * timeoutMs } : {}),
  };
  const messages = event.Records.map(({ messageId, body }) => ({ messageId, body }));
  const { failedMessageIds } = await ingest(messages, deps);
  return { batchItemFailures: failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = middy(ingestHandler).use(injectLambdaContext(logger, { resetKeys: true }));
