/** The finalize handler as Lambda runs it: middy, env configuration, dispatch on `action`. */
import { Env } from '../../contracts/env.js';
import { Keys, type BatchItem } from '../../contracts/table.js';
import { batchItem, captureOutput, FakeEvents, getItem, lambdaContext, putItem, schemaErrors, setEnvironment, startDynamo, type LocalTable } from '../fixtures/steps/harness.js';

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
  });
  ({ handler } = (await import('../../lambdas/finalize/handler.js')) as unknown as { handler: Handler });
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

describe('finalize handler', () => {
  it('records a failure from the state machine Catch and puts Batch Failed', async () => {
    await putItem(dynamo.ddb, table, { ...batchItem('b-1', { status: 'SUBMITTED' }) });
    const cause = JSON.stringify({ errorType: 'OutputsUnreadable', errorMessage: 'no Manifest', trace: [] });

    const { result, output } = await captureOutput(() =>
      handler({ action: 'fail', batchId: 'b-1', error: { Error: 'OutputsUnreadable', Cause: cause } }, lambdaContext('Finalize')),
    );

    expect(result).toEqual({ batchId: 'b-1', status: 'FAILED', error: 'OutputsUnreadable' });
    expect((await getItem<BatchItem>(dynamo.ddb, table, Keys.batch('b-1')))?.status).toBe('FAILED');
    expect(events.events).toHaveLength(1);
    expect(schemaErrors(events.events[0]!)).toEqual([]);
    expect(output).toContain('"message":"batch failed"');
  });
});
