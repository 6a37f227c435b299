/**
 * finalize Lambda: the last task of the batch state machine, on success (`complete`) and from
 * every Catch (`fail`). See finalize.ts.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Env } from '../../contracts/env.js';
import type { FinalizeInput } from '../../contracts/workflow.js';
import { crashPoints } from '../shared/crash.js';
import { newDocumentClient } from '../shared/dynamo.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import { finalizeBatch, type FinalizeDeps, type FinalizeOutput } from './finalize.js';

const ddb = newDocumentClient();
const events = new EventBridgeClient({});

/** Read per invocation (cheap, not at import): an in-process runner may set the environment late. */
function getDeps(): FinalizeDeps {
  return {
    clients: { ddb, events },
    config: {
      tableName: requireEnv(Env.TableName),
      bucket: requireEnv(Env.DocumentsBucket),
      eventBusName: requireEnv(Env.EventBusName),
      workflowName: requireEnv(Env.MatchingWorkflowName),
    },
    logger,
    now: () => new Date(),
    checkpoint: crashPoints('finalize'),
  };
}

export const handler = middy<FinalizeInput, FinalizeOutput>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => finalizeBatch(event, getDeps()));
