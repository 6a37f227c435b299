import 'aws-sdk-client-mock-jest';
import {
  ComprehendMedicalClient,
  StartEntitiesDetectionV2JobCommand,
  type StartEntitiesDetectionV2JobCommandInput,
} from '@aws-sdk/client-comprehendmedical';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { Env } from '../../contracts/env.js';
import { Keys, statusKey, type BatchItem } from '../../contracts/table.js';
import { WorkflowError, type StartJobsInput, type StartJobsOutput } from '../../contracts/workflow.js';
import { startJobs } from '../../lambdas/start-jobs/start-jobs.js';
import type { DetectionJobsDeps } from '../../lambdas/shared/detection-jobs.js';
import {
  BUCKET,
  FakeComprehend,
  TestClock,
  createWorld,
  fixture,
  getBatch,
  putItem,
  startDynamo,
  type LocalDynamo,
  type World,
} from '../fixtures/ingest/harness.js';

type Handler = (event: StartJobsInput, context: Context) => Promise<StartJobsOutput>;

let dynamo: LocalDynamo;
let world: World;
const BATCH = 'b001-20260101';
const at = '2026-01-01T07:00:00.000Z';

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  world = await createWorld(dynamo);
});

async function submittedBatchWithoutJobs(): Promise<void> {
  const item: BatchItem = {
    ...Keys.batch(BATCH),
    sk: 'BATCH',
    entity: 'BATCH',
    batchId: BATCH,
    status: 'SUBMITTED',
    documentIds: ['a'.repeat(32), 'b'.repeat(32)],
    documentCount: 2,
    createdAt: at,
    updatedAt: at,
    gsi1pk: statusKey('BATCH', 'SUBMITTED'),
    gsi1sk: at,
  };
  await putItem(world, { ...item });
}

const deps = (): DetectionJobsDeps => ({
  dynamo: dynamo.doc,
  comprehend: world.comprehend.client,
  config: world.config,
  logger: world.logger,
  now: world.clock.now,
});

describe('startJobs (core)', () => {
  test('starts the jobs the ingest could not, and returns their ids', async () => {
    await submittedBatchWithoutJobs();

    const output = await startJobs({ batchId: BATCH }, deps());

    const [entities, snomed] = world.comprehend.jobs;
    expect(output).toEqual({ entitiesJobId: entities?.JobId, snomedJobId: snomed?.JobId });
    expect(entities?.input.ClientRequestToken).toBe(`${BATCH}-entities-0`);
    expect(snomed?.input.JobName).toBe(`chartflow-${BATCH}-snomedct`);
    expect((await getBatch(world, BATCH))?.status).toBe('SUBMITTED');
    expect(world.logger.keys).toEqual({ batchId: BATCH });
  });

  test('a retry after success starts nothing new (Step Functions may retry a task that succeeded)', async () => {
    await submittedBatchWithoutJobs();
    const first = await startJobs({ batchId: BATCH }, deps());

    const second = await startJobs({ batchId: BATCH }, deps());

    expect(second).toEqual(first);
    expect(world.comprehend.jobs).toHaveLength(2);
  });

  test('throttling keeps its name for the Retry rule', async () => {
    await submittedBatchWithoutJobs();
    world.comprehend.throttled.add('snomed');

    await expect(startJobs({ batchId: BATCH }, deps())).rejects.toMatchObject({ name: WorkflowError.DetectionJobsThrottled });
  });

  test.each([[{}], [{ batchId: 42 }], [{ batchId: '../etc' }], [null]])('rejects the input %j with BatchStateError', async (input) => {
    await expect(startJobs(input as unknown as StartJobsInput, deps())).rejects.toMatchObject({ name: WorkflowError.BatchStateError });
  });
});

describe('start-jobs handler', () => {
  const config = fixture<World['config']>('config.json');
  const context = fixture<Context>('lambda-context.json');
  let handler: Handler;

  // The handler's own client against a stand-in service over HTTP (the SDK's retry middleware
  // runs): List answers no jobs, every Start answers the active-jobs quota.
  const starts: string[] = [];
  const service = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    req.resume();
    req.on('end', () => {
      if (target.includes('.List')) return res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{"ComprehendMedicalAsyncJobPropertiesList":[]}');
      starts.push(target);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'TooManyRequestsException' })
        .end('{"__type":"TooManyRequestsException","Message":"You have reached the limit of 10 active jobs."}');
    });
  });
  afterAll(() => service.close());

  beforeAll(async () => {
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_COMPREHENDMEDICAL: `http://127.0.0.1:${(service.address() as AddressInfo).port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      [Env.DocumentsBucket]: config.bucket,
      [Env.DataAccessRoleArn]: config.dataAccessRoleArn,
      [Env.KmsKeyArn]: config.kmsKeyArn,
    });
    ({ handler } = (await import('../../lambdas/start-jobs/handler.js')) as unknown as { handler: Handler });
  });

  test('reads its environment, uses the invocation as lease owner and returns StartJobsOutput', async () => {
    process.env[Env.TableName] = world.tableName;
    await submittedBatchWithoutJobs();
    const comprehend = new FakeComprehend(new TestClock().now, ComprehendMedicalClient);
    let leaseOwner: string | undefined;
    comprehend.mock.on(StartEntitiesDetectionV2JobCommand).callsFake(async (input: StartEntitiesDetectionV2JobCommandInput) => {
      leaseOwner = (await getBatch(world, BATCH))?.jobStartLease?.owner;
      comprehend.jobs.push({ type: 'entities', JobId: 'e'.repeat(32), JobStatus: 'SUBMITTED', SubmitTime: new Date(), input });
      return { JobId: 'e'.repeat(32) };
    });
    try {
      const output = await handler({ batchId: BATCH }, context);

      expect(output).toEqual({ entitiesJobId: 'e'.repeat(32), snomedJobId: comprehend.jobs[1]?.JobId });
      expect(leaseOwner).toBe(context.awsRequestId);
      expect(comprehend.jobs[0]?.input).toMatchObject({
        InputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${BATCH}/input/` },
        DataAccessRoleArn: config.dataAccessRoleArn,
        KMSKey: config.kmsKeyArn,
      });
      expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();
    } finally {
      comprehend.mock.restore();
    }
  });

  test('a refused start fails the task at once (one request, no SDK retries): the workflow retries it', async () => {
    process.env[Env.TableName] = world.tableName;
    await submittedBatchWithoutJobs();
    starts.length = 0;

    await expect(handler({ batchId: BATCH }, context)).rejects.toMatchObject({ name: WorkflowError.DetectionJobsThrottled });
    expect(starts).toEqual(['ComprehendMedical_20181030.StartEntitiesDetectionV2Job']);
    expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();
  });

  test('a missing environment variable is a clear error', async () => {
    delete process.env[Env.TableName];

    await expect(handler({ batchId: BATCH }, context)).rejects.toThrow(`Missing environment variable ${Env.TableName}`);
  });
});
