import 'aws-sdk-client-mock-jest';
import { ComprehendMedicalClient } from '@aws-sdk/client-comprehendmedical';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent } from 'aws-lambda';
import { DetailType, RejectReason } from '../../contracts/events.js';
import { Env } from '../../contracts/env.js';
import type { IngestConfig } from '../../lambdas/ingest/ingest.js';
import { documentId } from '../../lambdas/shared/documents.js';
import {
  BUCKET,
  FakeComprehend,
  FakeEvents,
  FakeS3,
  FakeSfn,
  TestClock,
  fixture,
  notes,
  scanTable,
  startDynamo,
  type LocalDynamo,
  type World,
} from '../fixtures/ingest/harness.js';

type Handler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const config = fixture<Omit<IngestConfig, 'tableName'>>('config.json');
const event = fixture<SQSEvent>('sqs-event.json');
const context = fixture<Context>('lambda-context.json');
const WARD_KEY = 'inbox/ward 3/note été.txt';

let dynamo: LocalDynamo;
let handler: Handler;
let tableName: string;
let s3: FakeS3;
let comprehend: FakeComprehend;
let sfn: FakeSfn;
let events: FakeEvents;
let stdout: string[];
const realWrites = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  dynamo = await startDynamo();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    [Env.DocumentsBucket]: config.bucket,
    [Env.EventBusName]: config.eventBusName,
    [Env.BatchStateMachineArn]: config.stateMachineArn,
    [Env.DataAccessRoleArn]: config.dataAccessRoleArn,
    [Env.KmsKeyArn]: config.kmsKeyArn,
    [Env.MaxDocumentBytes]: String(config.maxDocumentBytes),
    [Env.MaxBatchDocuments]: String(config.maxBatchDocuments),
  });
  ({ handler } = (await import('../../lambdas/ingest/handler.js')) as unknown as { handler: Handler });
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  tableName = await dynamo.newTable();
  process.env[Env.TableName] = tableName;
  delete process.env[Env.CrashAt];
  // The handler's module-scope clients are mocked class-wide; DynamoDB is the real API (dynalite).
  s3 = new FakeS3(true, S3Client);
  comprehend = new FakeComprehend(new TestClock().now, ComprehendMedicalClient);
  sfn = new FakeSfn(SFNClient);
  events = new FakeEvents(EventBridgeClient);
  s3.put(WARD_KEY, notes['note-ward3'] ?? '', { versionId: 'v-ward3' });
  s3.put('inbox/empty.txt', '', { versionId: 'v-empty' });
  // Powertools writes INFO to stdout and WARN/ERROR to stderr: capture both, in order.
  stdout = [];
  const capture = ((chunk: string | Uint8Array) => {
    stdout.push(chunk.toString());
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
});
afterEach(() => {
  process.stdout.write = realWrites.stdout;
  process.stderr.write = realWrites.stderr;
  for (const fake of [s3, comprehend, sfn, events]) fake.mock.restore();
});

const table = () => scanTable({ dynamo, tableName } as World);

test('an SQS event becomes batchItemFailures for exactly the messages not yet safe', async () => {
  const result = await handler(event, context);

  // The malformed third message is retried (then DLQ'd); the accepted and the rejected ones are done.
  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '33333333-3333-4333-8333-333333333333' }] });
  const { documents, batches } = await table();
  const wardId = documentId({ bucket: BUCKET, key: WARD_KEY, versionId: 'v-ward3' });
  expect(batches).toEqual([expect.objectContaining({ status: 'SUBMITTED', documentIds: [wardId] })]);
  expect(documents.find((d) => d.documentId === wardId)).toMatchObject({ key: WARD_KEY, status: 'CLAIMED' });
  expect(events.ofType(DetailType.DocumentRejected).map((e) => e.Detail.reason)).toEqual([RejectReason.Empty]);
  expect(events.ofType(DetailType.BatchSubmitted)).toHaveLength(1);
  expect(comprehend.jobs).toHaveLength(2);
  expect(sfn.executions.size).toBe(1);
});

test('logs are structured JSON with the Lambda context and ids, never text or file names', async () => {
  await handler(event, context);

  const lines = stdout.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.length).toBeGreaterThan(3);
  expect(lines.every((line) => line.function_request_id === context.awsRequestId)).toBe(true);
  expect(lines.find((line) => line.message === 'malformed message')).toMatchObject({ level: 'ERROR', problem: 'body is not JSON' });
  expect(lines.find((line) => line.message === 'batch submitted')).toMatchObject({ batchId: expect.stringMatching(/^\d{8}T\d{9}Z-[0-9a-f]{12}$/) });
  const all = stdout.join('');
  for (const fragment of (notes['note-ward3'] ?? '').split(/[:,]\s*/)) expect(all).not.toContain(fragment);
  expect(all).not.toContain('ward');
  expect(all).not.toContain('this is not an S3 notification');
});

test('a crash injected through CHARTFLOW_CRASH_AT fails the whole invocation; the redelivery completes it', async () => {
  process.env[Env.CrashAt] = 'ingest:after-seal';

  await expect(handler(event, context)).rejects.toMatchObject({ name: 'InjectedCrash' });
  const result = await handler(event, context);

  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '33333333-3333-4333-8333-333333333333' }]);
  const { batches } = await table();
  expect(batches).toEqual([expect.objectContaining({ status: 'SUBMITTED' })]);
  expect(comprehend.jobs).toHaveLength(2);
});

test('a missing or invalid environment variable is a clear error', async () => {
  const saved = process.env[Env.MaxDocumentBytes];
  try {
    delete process.env[Env.MaxDocumentBytes];
    await expect(handler(event, context)).rejects.toThrow(`Missing environment variable ${Env.MaxDocumentBytes}`);
    process.env[Env.MaxDocumentBytes] = '70KB';
    await expect(handler(event, context)).rejects.toThrow(`${Env.MaxDocumentBytes} must be a positive integer`);
  } finally {
    process.env[Env.MaxDocumentBytes] = saved;
  }
});
