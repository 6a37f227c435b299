/**
 * collect-results Lambda: a task of the batch state machine, after both detection jobs ended.
 * Input and output are the workflow payloads of contracts/workflow.ts; failures throw with the
 * error names the state machine's Retry/Catch reference (OutputsUnreadable, BatchStateError).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { Env } from '../../contracts/env.js';
import type { CollectResultsInput, CollectResultsOutput } from '../../contracts/workflow.js';
import { crashPoints } from '../shared/crash.js';
import { newDocumentClient } from '../shared/dynamo.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import { collectResults, type CollectDeps } from './collect.js';

const s3 = new S3Client({});
const ddb = newDocumentClient();

/** Read per invocation (cheap, not at import): an in-process runner may set the environment late. */
function getDeps(): CollectDeps {
  return {
    clients: { s3, ddb },
    config: {
      tableName: requireEnv(Env.TableName),
      bucket: requireEnv(Env.DocumentsBucket),
      kmsKeyArn: requireEnv(Env.KmsKeyArn),
    },
    logger,
    now: () => new Date(),
    checkpoint: crashPoints('collect-results'),
  };
}

export const handler = middy<CollectResultsInput, CollectResultsOutput>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => collectResults(event, getDeps()));
