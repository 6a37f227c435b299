import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { VirtualClock } from '../clock.js';
import { startDynamoDB, type LocalDynamoDB } from '../emulators/dynamodb.js';
import { LocalStepFunctions } from './engine.js';
import { VirtualScheduler } from './scheduler.js';
import { describeResource, TaskFailure, TaskRouter, UnsupportedResourceError } from './task-router.js';

const START = Date.UTC(2026, 0, 1);

/** A loopback stub of Entity Resolution (restJson1), Comprehend Medical and EventBridge (awsJson1_1). */
interface Seen {
  method: string;
  path: string;
  target?: string;
  body: Record<string, unknown>;
}
let stub: Server;
let stubEndpoint: string;
const seen: Seen[] = [];
let throttleLeft = 0;

function reply(res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'req-1', ...headers });
  res.end(text);
}

beforeAll(async () => {
  stub = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      const target = req.headers['x-amz-target'] as string | undefined;
      seen.push({ method: req.method!, path: req.url!, target, body });
      const path = req.url!;
      if (path.startsWith('/matchingworkflows/')) {
        const [, , workflow, , jobId] = path.split('/');
        if (req.method === 'POST' && workflow === 'busy') {
          return reply(res, 400, { message: 'workflow is currently running' }, { 'x-amzn-errortype': 'ConflictException' });
        }
        if (req.method === 'POST') return reply(res, 200, { jobId: '0123456789abcdef0123456789abcdef' });
        return reply(res, 200, {
          jobId,
          status: 'SUCCEEDED',
          startTime: START / 1000,
          endTime: START / 1000 + 120.5,
          metrics: { inputRecords: 10, totalRecordsProcessed: 10, recordsNotProcessed: 0, matchIDs: 4 },
          outputSourceConfig: [{ roleArn: 'arn:aws:iam::000000000000:role/er', outputS3Path: 's3://docs/matches/', KMSArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }],
        });
      }
      if (target === 'ComprehendMedical_20181030.DescribeEntitiesDetectionV2Job') {
        if (body.JobId === 'throttle' || throttleLeft > 0) {
          throttleLeft = Math.max(0, throttleLeft - 1);
          return reply(res, 400, { __type: 'TooManyRequestsException', Message: 'Rate exceeded' });
        }
        return reply(res, 200, {
          ComprehendMedicalAsyncJobProperties: {
            JobId: body.JobId,
            JobStatus: 'COMPLETED',
            SubmitTime: START / 1000 + 0.123,
            OutputDataConfig: { S3Bucket: 'docs', S3Key: 'batches/b1/output/entities/' },
          },
        });
      }
      if (target === 'AWSEvents.PutEvents') {
        const entries = body.Entries as Array<Record<string, unknown>>;
        const failed = entries.filter((e) => e.Source === 'bad').length;
        return reply(res, 200, {
          FailedEntryCount: failed,
          Entries: entries.map((e, i) => (e.Source === 'bad' ? { ErrorCode: 'InvalidArgument', ErrorMessage: 'bad source' } : { EventId: `ev-${i}` })),
        });
      }
      reply(res, 400, { __type: 'UnknownOperationException', message: `no stub for ${target ?? path}` });
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubEndpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => stub.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  throttleLeft = 0;
});

const routerFor = (extra: ConstructorParameters<typeof TaskRouter>[0] = {}) =>
  new TaskRouter({ endpoints: { entityresolution: stubEndpoint, comprehendmedical: stubEndpoint, eventbridge: stubEndpoint }, ...extra });

describe('TaskRouter: aws-sdk integrations', () => {
  let router: TaskRouter;
  beforeEach(() => {
    router = routerFor();
  });
  afterEach(() => router.destroy());

  it('converts PascalCase parameters to a restJson API and the result back (Entity Resolution)', async () => {
    const start = router.handlerFor('Start matching', 'arn:aws:states:::aws-sdk:entityresolution:startMatchingJob');
    await expect(start({ WorkflowName: 'chartflow-patients' })).resolves.toEqual({ JobId: '0123456789abcdef0123456789abcdef' });
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/matchingworkflows/chartflow-patients/jobs' });

    const get = router.handlerFor('Get matching job', 'arn:aws:states:::aws-sdk:entityresolution:getMatchingJob');
    await expect(get({ WorkflowName: 'chartflow-patients', JobId: 'j1' })).resolves.toEqual({
      JobId: 'j1',
      Status: 'SUCCEEDED',
      StartTime: '2026-01-01T00:00:00Z',
      EndTime: '2026-01-01T00:02:00.500Z',
      Metrics: { InputRecords: 10, TotalRecordsProcessed: 10, RecordsNotProcessed: 0, MatchIDs: 4 },
      OutputSourceConfig: [{ RoleArn: 'arn:aws:iam::000000000000:role/er', OutputS3Path: 's3://docs/matches/', KMSArn: 'arn:aws:kms:us-east-1:000000000000:key/k' }],
    });
    expect(seen[1]).toMatchObject({ method: 'GET', path: '/matchingworkflows/chartflow-patients/jobs/j1' });
  });

  it('names service errors <Service>.<Error> with an AWS-style cause', async () => {
    const start = router.handlerFor('Start matching', 'arn:aws:states:::aws-sdk:entityresolution:startMatchingJob');
    const error = await start({ WorkflowName: 'busy' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailure);
    expect(error).toMatchObject({ name: 'EntityResolution.ConflictException', isRetryable: true, isCatchable: true });
    expect((error as TaskFailure).message).toMatch(/^workflow is currently running \(Service: EntityResolution, Status Code: 400, Request ID: req-1\)$/);

    const describe = router.handlerFor('Describe', 'arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job');
    await expect(describe({ JobId: 'throttle' })).rejects.toMatchObject({ name: 'ComprehendMedical.TooManyRequestsException' });
  });

  it('returns awsJson results with timestamps as ISO strings (Comprehend Medical)', async () => {
    const describe = router.handlerFor('Describe', 'arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job');
    await expect(describe({ JobId: 'abc' })).resolves.toEqual({
      ComprehendMedicalAsyncJobProperties: {
        JobId: 'abc',
        JobStatus: 'COMPLETED',
        SubmitTime: '2026-01-01T00:00:00.123Z',
        OutputDataConfig: { S3Bucket: 'docs', S3Key: 'batches/b1/output/entities/' },
      },
    });
    expect(seen[0]!.target).toBe('ComprehendMedical_20181030.DescribeEntitiesDetectionV2Job');
  });

  it('refuses a parameter the API does not have, with a terminal States.Runtime', async () => {
    const get = router.handlerFor('Get', 'arn:aws:states:::aws-sdk:entityresolution:getMatchingJob');
    await expect(get({ WorkflowName: 'wf', JobId: 'j', Bogus: 1 })).rejects.toMatchObject({ name: 'States.Runtime', isCatchable: false, message: expect.stringContaining('"Bogus"') });
    expect(seen).toHaveLength(0);
  });
});

describe('TaskRouter: optimized integrations', () => {
  it('sends putEvents Detail objects as JSON text and fails on failed entries', async () => {
    const router = routerFor();
    const put = router.handlerFor('Emit', 'arn:aws:states:::events:putEvents');
    const output = await put({ Entries: [{ Source: 'chartflow', DetailType: 'Batch Completed', EventBusName: 'bus', Detail: { version: 1, batchId: 'b1' } }] });
    expect(seen[0]!.body.Entries).toEqual([{ Source: 'chartflow', DetailType: 'Batch Completed', EventBusName: 'bus', Detail: '{"version":1,"batchId":"b1"}' }]);
    expect(output).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-0' }], SdkResponseMetadata: { RequestId: 'req-1' } });
    await expect(put({ Entries: [{ Source: 'bad', DetailType: 'x', Detail: {} }] })).rejects.toMatchObject({
      name: 'EventBridge.FailedEntry',
      message: expect.stringContaining('InvalidArgument'),
    });
    router.destroy();
  });

  describe('against the local DynamoDB', () => {
    let ddb: LocalDynamoDB;
    let router: TaskRouter;
    beforeAll(async () => {
      ddb = await startDynamoDB();
      await ddb.client().send(
        new CreateTableCommand({
          TableName: 'chartflow',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
      router = new TaskRouter({ endpoints: { dynamodb: ddb.endpoint } });
    });
    afterAll(async () => {
      router.destroy();
      await ddb.stop();
    });

    it('puts, updates, gets and queries items in DynamoDB JSON', async () => {
      const put = router.handlerFor('Put', 'arn:aws:states:::dynamodb:putItem');
      const update = router.handlerFor('Update', 'arn:aws:states:::dynamodb:updateItem');
      const get = router.handlerFor('Get', 'arn:aws:states:::dynamodb:getItem');
      const query = router.handlerFor('Query', 'arn:aws:states:::dynamodb:query');
      await put({ TableName: 'chartflow', Item: { pk: { S: 'BATCH#b1' }, sk: { S: 'META' }, status: { S: 'RUNNING' } } });
      await update({
        TableName: 'chartflow',
        Key: { pk: { S: 'BATCH#b1' }, sk: { S: 'META' } },
        UpdateExpression: 'SET #s = :s ADD transitions :n',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'COMPLETED' }, ':n': { N: '3' } },
      });
      await expect(get({ TableName: 'chartflow', Key: { pk: { S: 'BATCH#b1' }, sk: { S: 'META' } } })).resolves.toMatchObject({
        Item: { pk: { S: 'BATCH#b1' }, sk: { S: 'META' }, status: { S: 'COMPLETED' }, transitions: { N: '3' } },
        SdkHttpMetadata: { HttpStatusCode: 200 },
      });
      await expect(
        query({ TableName: 'chartflow', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'BATCH#b1' } } }),
      ).resolves.toMatchObject({ Count: 1, Items: [{ sk: { S: 'META' } }] });
    });

    it('names DynamoDB errors DynamoDB.<Error>', async () => {
      const put = router.handlerFor('Put once', 'arn:aws:states:::dynamodb:putItem');
      const item = { TableName: 'chartflow', Item: { pk: { S: 'DOC#d1' }, sk: { S: 'v1' } }, ConditionExpression: 'attribute_not_exists(pk)' };
      await put(item);
      await expect(put(item)).rejects.toMatchObject({ name: 'DynamoDB.ConditionalCheckFailedException', message: expect.stringContaining('Service: DynamoDB') });
    });
  });
});

describe('TaskRouter: resources', () => {
  it('classifies the resources Step Functions reports in history', () => {
    expect(describeResource('arn:aws:states:::aws-sdk:comprehendmedical:startSNOMEDCTInferenceJob')).toEqual({ kind: 'aws-sdk', resourceType: 'aws-sdk:comprehendmedical', resource: 'startSNOMEDCTInferenceJob' });
    expect(describeResource('arn:aws:states:::lambda:invoke')).toEqual({ kind: 'lambda-invoke', resourceType: 'lambda', resource: 'invoke' });
    expect(describeResource('arn:aws:lambda:eu-west-1:123456789012:function:ingest:live')).toMatchObject({ kind: 'lambda-function' });
    expect(describeResource('arn:aws:states:::dynamodb:updateItem')).toEqual({ kind: 'dynamodb', resourceType: 'dynamodb', resource: 'updateItem' });
    expect(describeResource('arn:aws:states:::dynamodb:batchWriteItem')).toBeUndefined();
    expect(describeResource('arn:aws:states:::sns:publish')).toBeUndefined();
  });

  it('refuses unsupported resources and services without a local endpoint, naming the state', () => {
    const router = new TaskRouter({});
    expect(() => router.handlerFor('Notify', 'arn:aws:states:::sns:publish')).toThrow(UnsupportedResourceError);
    expect(() => router.handlerFor('Describe', 'arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job')).toThrow(
      'Task state "Describe": resource "arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job" needs a local endpoint for "comprehendmedical"',
    );
    expect(() => router.handlerFor('Call', 'arn:aws:states:::lambda:invoke')).toThrow(/needs an invokeLambda function/);
  });
});

describe('TaskRouter: Lambda failures', () => {
  const fn = 'arn:aws:lambda:us-east-1:000000000000:function:collect';
  it("reports a function's error by its errorType, with Lambda's cause", async () => {
    const router = new TaskRouter({ invokeLambda: async () => { throw Object.assign(new Error('outputs missing'), { name: 'OutputsUnreadable' }); } });
    const failure = await router.handlerFor('Collect', fn)({}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    expect(failure).toMatchObject({ name: 'OutputsUnreadable' });
    expect(JSON.parse((failure as TaskFailure).causeText)).toMatchObject({ errorType: 'OutputsUnreadable', errorMessage: 'outputs missing' });
  });

  it('passes a Lambda service failure through as is, for both Lambda resources', async () => {
    const serviceError = new TaskFailure('Lambda.ServiceException', 'Lambda was unable to process the request.');
    const router = new TaskRouter({ invokeLambda: async () => { throw serviceError; } });
    await expect(router.handlerFor('Collect', fn)({})).rejects.toBe(serviceError);
    await expect(router.handlerFor('Invoke', 'arn:aws:states:::lambda:invoke')({ FunctionName: fn, Payload: {} })).rejects.toBe(serviceError);
  });
});

describe('aws-sdk tasks in the engine', () => {
  it('retries a throttled Describe in virtual time and reads its PascalCase result', async () => {
    throttleLeft = 2;
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    const sfn = new LocalStepFunctions({ scheduler, tasks: { endpoints: { comprehendmedical: stubEndpoint } } });
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:Poll';
    sfn.createStateMachine({
      arn,
      definition: {
        StartAt: 'Describe entities job',
        States: {
          'Describe entities job': {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job',
            Parameters: { 'JobId.$': '$.jobId' },
            ResultSelector: { 'status.$': '$.ComprehendMedicalAsyncJobProperties.JobStatus', 'submitted.$': '$.ComprehendMedicalAsyncJobProperties.SubmitTime' },
            Retry: [{ ErrorEquals: ['ComprehendMedical.TooManyRequestsException'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 4 }],
            End: true,
          },
        },
      },
    });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: arn, input: { jobId: 'job-1' } });
    const result = await sfn.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual({ status: 'COMPLETED', submitted: '2026-01-01T00:00:00.123Z' });
    expect(sfn.getExecutionStats(executionArn)).toMatchObject({ retries: 2, durationMs: 5000 + 10_000, taskCalls: { 'aws-sdk:comprehendmedical': 3 } });
    const failed = sfn.getExecutionHistory({ executionArn }).events.filter((e) => e.type === 'TaskFailed');
    expect(failed.map((e) => e.taskFailedEventDetails?.error)).toEqual(['ComprehendMedical.TooManyRequestsException', 'ComprehendMedical.TooManyRequestsException']);
    expect(failed[0]!.taskFailedEventDetails).toMatchObject({ resourceType: 'aws-sdk:comprehendmedical', resource: 'describeEntitiesDetectionV2Job' });
    await sfn.close();
  });
});
