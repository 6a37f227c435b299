/** The matching handler as Lambda runs it: middy, env configuration, dispatch on `action`. */
import { Env } from '../../contracts/env.js';
import type { BeginMatchingOutput } from '../../contracts/workflow.js';
import { batchItem, captureOutput, FakeEvents, lambdaContext, putItem, setEnvironment, startHandlerWorld, type HandlerWorld, type LocalTable } from '../fixtures/steps/harness.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let dynamo: LocalTable;
let table: string;
let events: FakeEvents;
let world: HandlerWorld<Awaited<ReturnType<Handler>>>;
let handler: Handler;

beforeAll(async () => {
  world = await startHandlerWorld('matching', {
    [Env.DocumentsBucket]: 'chartflow-docs',
    [Env.EventBusName]: 'chartflow-bus',
    [Env.MatchingWorkflowName]: 'chartflow-patients',
    [Env.MatchingLockSeconds]: '600',
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

describe('matching handler', () => {
  it('begins, records, finishes and then answers MATCHED', async () => {
    await putItem(dynamo.doc, table, { ...batchItem('b-1', { status: 'AWAITING_MATCH' }) });
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
