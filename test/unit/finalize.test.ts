import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { finalizeBatch, MAX_CAUSE, reduceCause, type FinalizeDeps } from '../../lambdas/finalize/finalize.js';
import { crashPoints, noCheckpoint } from '../../lambdas/shared/crash.js';
import { Keys, type BatchItem } from '../../contracts/table.js';
import { WorkflowError, type CollectResultsOutput, type CompleteBatchInput } from '../../contracts/workflow.js';
import {
  batchItem,
  captureLogger,
  FakeEvents,
  getItem,
  putItem,
  schemaErrors,
  startDynamo,
  thrown,
  type CapturedLogger,
  type LocalTable,
} from '../fixtures/steps/harness.js';

const BUCKET = 'chartflow-docs';
const BUS = 'chartflow-bus';
const WORKFLOW = 'chartflow-patients';
const BATCH = 'b-20260101T000000Z-7f3a';
const RUN = '20260301T120000000Z-9f2c41d7';
const JOB = '0123456789abcdef0123456789abcdef';
const T0 = Date.parse('2026-03-01T12:10:00.000Z');

const results: CollectResultsOutput = {
  processedCount: 3,
  unprocessedCount: 1,
  entityCount: 57,
  snomedConceptCount: 12,
  identityRecordCount: 3,
  recordsS3Uri: `s3://${BUCKET}/records/${BATCH}.csv`,
  outcome: 'PARTIAL_SUCCESS',
};
const complete = (overrides: Partial<CompleteBatchInput> = {}): CompleteBatchInput => ({
  action: 'complete',
  batchId: BATCH,
  results,
  matching: { runId: RUN, jobId: JOB },
  ...overrides,
});

let dynamo: LocalTable;
let table: string;
let events: FakeEvents;
let log: CapturedLogger;
let clock: number;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.newTable();
  events = new FakeEvents();
  log = captureLogger();
  clock = T0;
});
afterEach(() => {
  for (const event of events.events) expect(schemaErrors(event)).toEqual([]);
  expect(log.leaks(['Maria Elena Lopez', '1962-03-14', '00482913'])).toEqual([]);
  events.restore();
});

function deps(overrides: Partial<FinalizeDeps> = {}): FinalizeDeps {
  return {
    clients: { ddb: dynamo.doc, events: events.client },
    config: { tableName: table, bucket: BUCKET, eventBusName: BUS, workflowName: WORKFLOW },
    logger: log.logger,
    now: () => new Date(clock),
    checkpoint: noCheckpoint,
    ...overrides,
  };
}

async function seed(fields: Partial<BatchItem> = {}): Promise<void> {
  await putItem(dynamo.doc, table, {
    ...batchItem(BATCH, { status: 'AWAITING_MATCH', documentIds: ['d1', 'd2', 'd3', 'd4'], documentCount: 4, ...fields }),
  });
}
const batch = () => getItem<BatchItem>(dynamo.doc, table, Keys.batch(BATCH));

describe('finalize: complete', () => {
  it('records COMPLETED with the outcome and counts, and puts Batch Completed', async () => {
    await seed();

    const output = await finalizeBatch(complete(), deps());

    const at = new Date(T0).toISOString();
    expect(output).toEqual({ batchId: BATCH, status: 'COMPLETED', outcome: 'PARTIAL_SUCCESS', completedAt: at });
    expect(await batch()).toMatchObject({
      status: 'COMPLETED',
      outcome: 'PARTIAL_SUCCESS',
      processedCount: 3,
      unprocessedCount: 1,
      entityCount: 57,
      snomedConceptCount: 12,
      identityRecordCount: 3,
      matchingRunId: RUN,
      matchingJobId: JOB,
      completedAt: at,
      updatedAt: at,
      gsi1pk: 'BATCH#COMPLETED',
      gsi1sk: at,
    });
    expect(events.events).toEqual([
      {
        source: 'chartflow',
        busName: BUS,
        detailType: 'Batch Completed',
        detail: {
          version: '1',
          batchId: BATCH,
          status: 'PARTIAL_SUCCESS',
          documentCount: 4,
          processedCount: 3,
          unprocessedCount: 1,
          entityCount: 57,
          snomedConceptCount: 12,
          identityRecordCount: 3,
          matchingRunId: RUN,
          matchingJobId: JOB,
          outputs: {
            entitiesS3Uri: `s3://${BUCKET}/batches/${BATCH}/output/entities/`,
            snomedS3Uri: `s3://${BUCKET}/batches/${BATCH}/output/snomedct/`,
            recordsS3Uri: `s3://${BUCKET}/records/${BATCH}.csv`,
            matchesS3Uri: `s3://${BUCKET}/matches/${WORKFLOW}/${JOB}/`,
          },
          completedAt: at,
        },
      },
    ]);
  });

  it('is idempotent: a retry keeps the first completedAt and puts the same detail again', async () => {
    await seed();
    await finalizeBatch(complete({ results: { ...results, outcome: 'COMPLETED', unprocessedCount: 0 } }), deps());
    clock += 60_000;

    const again = await finalizeBatch(complete({ results: { ...results, outcome: 'COMPLETED', unprocessedCount: 0 } }), deps());

    expect(again).toMatchObject({ completedAt: new Date(T0).toISOString() });
    expect(events.events).toHaveLength(2);
    expect(events.events[1]).toEqual(events.events[0]);
    expect(events.events[0]?.detail.status).toBe('COMPLETED');
  });

  it('survives a crash between the record and the event', async () => {
    await seed();
    const checkpoint = crashPoints('finalize', 'finalize:batch-completed');
    expect((await thrown(() => finalizeBatch(complete(), deps({ checkpoint })))).name).toBe('InjectedCrash');
    expect(events.events).toHaveLength(0);
    clock += 5_000;

    await finalizeBatch(complete(), deps({ checkpoint }));

    expect(events.events).toHaveLength(1);
    expect(events.events[0]?.detail.completedAt).toBe(new Date(T0).toISOString());
  });

  it('fails when EventBridge rejects the entry; the retry puts the same detail', async () => {
    await seed();
    events.mock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });

    expect((await thrown(() => finalizeBatch(complete(), deps()))).name).toBe('PutEventsFailed');
    expect((await batch())?.status).toBe('COMPLETED');
    clock += 30_000;
    await finalizeBatch(complete(), deps());

    expect(events.events).toHaveLength(2);
    expect(events.events[1]).toEqual(events.events[0]);
  });

  it('completes a redriven FAILED batch and clears its error', async () => {
    await seed({ status: 'FAILED', error: 'MatchingFailed', cause: 'earlier' });
    await finalizeBatch(complete(), deps());
    const item = await batch();
    expect(item?.status).toBe('COMPLETED');
    expect(item?.error).toBeUndefined();
    expect(item?.cause).toBeUndefined();
  });

  it.each([
    ['a missing batch', async () => {}, /not found/],
    ['a batch not yet collected', () => seed({ status: 'SUBMITTED' }), /is SUBMITTED/],
  ])('throws BatchStateError for %s, and puts no event', async (_case, arrange, message) => {
    await arrange();
    const error = await thrown(() => finalizeBatch(complete(), deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect(error.message).toMatch(message);
    expect(events.events).toHaveLength(0);
  });

  it('rejects malformed input', async () => {
    const error = await thrown(() => finalizeBatch(complete({ matching: { runId: RUN } as never }), deps()));
    expect(error.name).toBe('InvalidInput');
    expect((await thrown(() => finalizeBatch({ action: 'other' } as never, deps()))).name).toBe('InvalidInput');
  });
});

describe('finalize: fail', () => {
  it('records FAILED with a short cause from a Lambda error and puts Batch Failed', async () => {
    await seed();
    const cause = JSON.stringify({
      errorType: 'OutputsUnreadable',
      errorMessage: 'snomedct job f0e1: no Manifest in s3://chartflow-docs/batches/b/output/snomedct/x/',
      trace: ['OutputsUnreadable: snomedct job f0e1', '    at readJobOutputs (file:///var/task/index.mjs:1:2)'],
    });

    const output = await finalizeBatch({ action: 'fail', batchId: BATCH, error: { Error: 'OutputsUnreadable', Cause: cause } }, deps());

    const expectedCause = 'OutputsUnreadable: snomedct job f0e1: no Manifest in s3://chartflow-docs/batches/b/output/snomedct/x/';
    expect(output).toEqual({ batchId: BATCH, status: 'FAILED', error: 'OutputsUnreadable' });
    expect(await batch()).toMatchObject({ status: 'FAILED', error: 'OutputsUnreadable', cause: expectedCause, gsi1pk: 'BATCH#FAILED' });
    expect(events.events).toEqual([
      {
        source: 'chartflow',
        busName: BUS,
        detailType: 'Batch Failed',
        detail: {
          version: '1',
          batchId: BATCH,
          error: 'OutputsUnreadable',
          cause: expectedCause,
          inputS3Uri: `s3://${BUCKET}/batches/${BATCH}/input/`,
          failedAt: new Date(T0).toISOString(),
        },
      },
    ]);
  });

  it('keeps a service message as it is, bounded, and names an unnamed error', async () => {
    await seed({ status: 'COMPLETED', completedAt: '2026-03-01T00:00:00.000Z' });
    const long = `Job failed: ${'x'.repeat(5000)}`;

    await finalizeBatch({ action: 'fail', batchId: BATCH, error: { Cause: long } }, deps());

    const item = await batch();
    expect(item?.error).toBe('UnknownError');
    expect(item?.cause).toHaveLength(MAX_CAUSE);
    expect(item?.completedAt).toBeUndefined();
    expect(events.events[0]?.detail).toMatchObject({ error: 'UnknownError' });
  });

  it('throws BatchStateError for a missing batch', async () => {
    const error = await thrown(() => finalizeBatch({ action: 'fail', batchId: BATCH, error: { Error: 'JobFailed', Cause: 'x' } }, deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect(events.events).toHaveLength(0);
  });
});

describe('reduceCause', () => {
  it.each([
    [JSON.stringify({ errorType: 'Error', errorMessage: 'Error: boom', trace: ['a', 'b'] }), 'Error: boom'],
    [JSON.stringify({ errorMessage: '2026-03-01T12:00:00.000Z abc Task timed out after 300.00 seconds' }), '2026-03-01T12:00:00.000Z abc Task timed out after 300.00 seconds'],
    [JSON.stringify({ errorType: 'InjectedCrash' }), 'InjectedCrash'],
    [JSON.stringify('quoted message'), 'quoted message'],
    ['The input file is not valid UTF-8 (Service: ComprehendMedical, Status Code: 400)', 'The input file is not valid UTF-8 (Service: ComprehendMedical, Status Code: 400)'],
    ['line one\n\tline two', 'line one line two'],
    ['', 'No cause reported'],
    [undefined, 'No cause reported'],
    ['{"unrelated": 1}', '{"unrelated": 1}'],
  ])('%j -> %j', (cause, expected) => {
    expect(reduceCause(cause)).toBe(expected);
  });
});
