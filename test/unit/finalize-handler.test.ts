/** The finalize handler as Lambda runs it: middy, env configuration, dispatch on `action`. */
import { Env } from '../../contracts/env.js';
import { Keys, type BatchItem } from '../../contracts/table.js';
import { batchItem, captureOutput, FakeEvents, getItem, lambdaContext, putItem, schemaErrors, startHandlerWorld, type HandlerWorld, type LocalTable } from '../fixtures/steps/harness.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let dynamo: LocalTable;
let table: string;
let events: FakeEvents;
let world: HandlerWorld<Awaited<ReturnType<Handler>>>;
let handler: Handler;

beforeAll(async () => {
  world = await startHandlerWorld('finalize', {
    [Env.DocumentsBucket]: 'chartflow-docs',
    [Env.EventBusName]: 'chartflow-bus',
    [Env.MatchingWorkflowName]: 'chartflow-patients',
  });
  ({ dynamo, table, handler } = world);
});
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  events = new FakeEvents();
});
afterEach(() => {
  events.restore();
});

describe('finalize handler', () => {
  it('records a failure from the state machine Catch and puts Batch Failed', async () => {
    await putItem(dynamo.doc, table, { ...batchItem('b-1', { status: 'SUBMITTED' }) });
    const cause = JSON.stringify({ errorType: 'OutputsUnreadable', errorMessage: 'no Manifest', trace: [] });

    const { result, output } = await captureOutput(() =>
      handler({ action: 'fail', batchId: 'b-1', error: { Error: 'OutputsUnreadable', Cause: cause } }, lambdaContext('Finalize')),
    );

    expect(result).toEqual({ batchId: 'b-1', status: 'FAILED', error: 'OutputsUnreadable' });
    expect((await getItem<BatchItem>(dynamo.doc, table, Keys.batch('b-1')))?.status).toBe('FAILED');
    expect(events.events).toHaveLength(1);
    expect(schemaErrors(events.events[0]!)).toEqual([]);
    expect(output).toContain('"message":"batch failed"');
  });
});
