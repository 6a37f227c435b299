/**
 * matching Lambda: the lock and bookkeeping around Entity Resolution runs (see matching.ts). The
 * state machine itself calls StartMatchingJob and GetMatchingJob between `begin`, `started` and
 * `finish`; this function never calls Entity Resolution.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Env } from '../../contracts/env.js';
import type { MatchingInput } from '../../contracts/workflow.js';
import { crashPoints } from '../shared/crash.js';
import { newDocumentClient } from '../shared/dynamo.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import { runMatching, type MatchingDeps, type MatchingOutput } from './matching.js';

const ddb = newDocumentClient();
const events = new EventBridgeClient({});

/** Read per invocation (cheap, not at import): an in-process runner may set the environment late. */
function getDeps(): MatchingDeps {
  const lockSeconds = Number(requireEnv(Env.MatchingLockSeconds));
  if (!Number.isInteger(lockSeconds) || lockSeconds <= 0) throw new Error(`Environment variable ${Env.MatchingLockSeconds} must be a positive integer`);
  return {
    clients: { ddb, events },
    config: {
      tableName: requireEnv(Env.TableName),
      bucket: requireEnv(Env.DocumentsBucket),
      eventBusName: requireEnv(Env.EventBusName),
      workflowName: requireEnv(Env.MatchingWorkflowName),
      lockSeconds,
    },
    logger,
    now: () => new Date(),
    checkpoint: crashPoints('matching'),
  };
}

export const handler = middy<MatchingInput, MatchingOutput>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => runMatching(event, getDeps()));
