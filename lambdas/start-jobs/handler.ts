/** start-jobs Lambda: `StartJobsInput` -> `StartJobsOutput` (a Step Functions task). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ComprehendMedicalClient } from '@aws-sdk/client-comprehendmedical';
import type { Context } from 'aws-lambda';
import { Env } from '../../contracts/env.js';
import type { StartJobsInput, StartJobsOutput } from '../../contracts/workflow.js';
import { crashPoints } from '../shared/crash.js';
import { newDocumentClient } from '../shared/dynamo.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import { startJobs } from './start-jobs.js';

const dynamo = newDocumentClient();
// No SDK retries: a throttled or quota-refused start fails this task at once, and the workflow's
// Retry (60 s, doubling, full jitter) is the backoff. SDK retries would only wait inside the
// function (billed duration) for a quota that frees when other jobs end, minutes later.
const comprehend = new ComprehendMedicalClient({ maxAttempts: 1 });

async function startJobsHandler(event: StartJobsInput, context: Context): Promise<StartJobsOutput> {
  return startJobs(event, {
    dynamo,
    comprehend,
    config: {
      tableName: requireEnv(Env.TableName),
      bucket: requireEnv(Env.DocumentsBucket),
      dataAccessRoleArn: requireEnv(Env.DataAccessRoleArn),
      kmsKeyArn: requireEnv(Env.KmsKeyArn),
    },
    logger,
    now: () => new Date(),
    // Lease owner: this invocation (a Step Functions retry is a new invocation with a new id).
    leaseOwner: context.awsRequestId,
    checkpoint: crashPoints('start-jobs'),
  });
}

export const handler = middy(startJobsHandler).use(injectLambdaContext(logger, { resetKeys: true }));
