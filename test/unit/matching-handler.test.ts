/** The matching handler as Lambda runs it: middy, env configuration, dispatch on `action`. */
import { Env } from '../../contracts/env.js';
import type { BeginMatchingOutput } from '../../contracts/workflow.js';
import { batchItem, captureOutput, FakeEvents, lambdaContext, putItem, setEnvironment, startDynamo, type LocalTable } from '../fixtures/steps/harness.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let dynamo: LocalTable;
let table: string;
let events: FakeEvents;
let restoreEnv: () => void;
let handler: Handler;

beforeAll(async () => {
  dynamo = await startDynamo();
  table = await dynamo.newTable();
  restoreEnv = setEnvironment({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_MAX_ATTEMPTS: '1',
    [Env.TableName]: table,
    [Env.DocumentsBucket]: 'chartflow-docs',
    [Env.EventBusName]: 'chartflow-bus',
    [Env.MatchingWorkflowName]: 'chartflow-patients',
    [Env.MatchingLockSeconds]: '600',
  });
  ({ handler } = (await import('../../lambdas/matching/handler.js')) as unknown as { handler: Handler });
});
afterAll(async () => {
  restoreEnv();
  await dynamo.stop();
});
beforeEach(() => {
  events = new FakeEvents();
});
afterEach(() => {
  events.restore();
});

describe('matching handler', () => {
  it('begins, records, finishes and then answers MATCHED', async () => {
    await putItem(dynamo.ddb, table, { ...batchItem('b-1', { status: 'AWAITING_MATCH' }) });
    const ctx = lambdaContext('Matching');

    const begun = (await captureOutput(() => handler({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, ctx))).result as BeginMatchingOutput;
    expect(begun.state).toBe('ACQUIRED');
    const runId = begun.state === 'ACQUIRED' ? begun.runId : '';
    await captureOutput(() => handler({ action: 'started', runId, jobId: 'abc123' }, ctx));
    const finished = await captureOutput(() =>
      handler({ action: 'finish', runId, owner: 'b-1', job: { JobId: 'abc123', Status: 'SUCCEEDED', Metrics: { InputRecords: 2, TotalRecordsProcessed: 2, RecordsNotProcessed: 0, MatchIDs: 1 } } }, ctx),
    );
    expect(finished.result).toEqual({ status: 'SUCCEEDED' });
    expect(events.events.map((e) => e.detailType)).toEqual(['Matching Completed']);

    const again = await captureOutput(() => handler({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, ctx));
    expect(again.result).toEqual({ state: 'MATCHED', runId, jobId: 'abc123' });
  });

  it('refuses a lock duration that is not a positive integer', async () => {
    const restore = setEnvironment({ [Env.MatchingLockSeconds]: '10m' });
    try {
      const { error } = await captureOutput(() => handler({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, lambdaContext('Matching')));
      expect(error?.message).toMatch(/MATCHING_LOCK_SECONDS must be a positive integer/);
    } finally {
      restore();
    }
  });
});
