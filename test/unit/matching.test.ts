import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  FAILED_WITHOUT_MESSAGE,
  NOT_STARTED_MESSAGE,
  runMatching,
  type MatchingDeps,
} from '../../lambdas/matching/matching.js';
import { crashPoints, noCheckpoint } from '../../lambdas/shared/crash.js';
import { Keys, type BatchItem, type MatchingLockItem, type MatchingRunItem } from '../../contracts/table.js';
import { WorkflowError, type FinishMatchingInput } from '../../contracts/workflow.js';
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
const LOCK_SECONDS = 900;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const JOB_ID = '0123456789abcdef0123456789abcdef';

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
  events.restore();
});

function deps(overrides: Partial<MatchingDeps> = {}): MatchingDeps {
  return {
    clients: { ddb: dynamo.doc, events: events.client },
    config: { tableName: table, bucket: BUCKET, eventBusName: BUS, workflowName: WORKFLOW, lockSeconds: LOCK_SECONDS },
    logger: log.logger,
    now: () => new Date(clock),
    checkpoint: noCheckpoint,
    ...overrides,
  };
}

/** A batch whose identity records are written, `minutesAgo` minutes before T0. */
async function awaiting(batchId: string, minutesAgo = 0, fields: Partial<BatchItem> = {}): Promise<void> {
  const at = new Date(T0 - minutesAgo * 60_000).toISOString();
  await putItem(dynamo.doc, table, { ...batchItem(batchId, { status: 'AWAITING_MATCH', updatedAt: at, ...fields }) });
}

const lock = () => getItem<MatchingLockItem>(dynamo.doc, table, Keys.matchingLock());
const run = (runId: string) => getItem<MatchingRunItem>(dynamo.doc, table, Keys.run(runId));
const batch = (batchId: string) => getItem<BatchItem>(dynamo.doc, table, Keys.batch(batchId));

async function acquire(batchId: string, owner = batchId, d = deps()): Promise<{ runId: string; batchIds: string[] }> {
  const result = await runMatching({ action: 'begin', batchId, owner }, d);
  if (result.state !== 'ACQUIRED') throw new Error(`expected ACQUIRED, got ${result.state}`);
  return result;
}

function job(status: 'SUCCEEDED' | 'FAILED', extra: Partial<FinishMatchingInput['job']> = {}): FinishMatchingInput['job'] {
  return {
    JobId: JOB_ID,
    Status: status,
    StartTime: '2026-03-01T12:01:00.000Z',
    EndTime: String(Date.parse('2026-03-01T12:04:30.000Z') / 1000),
    Metrics: { InputRecords: 40, TotalRecordsProcessed: 39, RecordsNotProcessed: 1, MatchIDs: 31 },
    ...extra,
  };
}

describe('matching: begin', () => {
  it('takes a free lock and begins a run covering the batch', async () => {
    await awaiting('b-1');

    const result = await acquire('b-1', 'exec-b-1');

    expect(result.runId).toMatch(/^20260301T120000000Z-[0-9a-f]{8}$/);
    expect(result.batchIds).toEqual(['b-1']);
    expect(await lock()).toEqual({
      pk: 'LOCK#matching',
      sk: 'LOCK',
      entity: 'LOCK',
      owner: 'exec-b-1',
      runId: result.runId,
      expiresAt: new Date(T0 + LOCK_SECONDS * 1000).toISOString(),
    });
    expect(await run(result.runId)).toMatchObject({
      entity: 'MATCHING_RUN',
      status: 'STARTING',
      batchIds: ['b-1'],
      startedAt: new Date(T0).toISOString(),
      gsi1pk: 'RUN#STARTING',
    });
  });

  it('coalesces: one run covers every batch awaiting a match, oldest first, the caller first', async () => {
    await awaiting('b-new', 1);
    await awaiting('b-old', 30);
    await awaiting('b-mid', 10);
    await awaiting('b-matched', 20, { matchingRunId: 'r-earlier', matchingJobId: 'j' });
    await putItem(dynamo.doc, table, { ...batchItem('b-done', { status: 'COMPLETED' }) });
    await putItem(dynamo.doc, table, { ...batchItem('b-submitted', { status: 'SUBMITTED' }) });

    const result = await acquire('b-new');

    expect(result.batchIds).toEqual(['b-new', 'b-old', 'b-mid']);
    expect((await run(result.runId))?.batchIds).toEqual(['b-new', 'b-old', 'b-mid']);
  });

  it('answers BUSY while another owner holds a live lock, and changes nothing', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const first = await acquire('b-1');
    clock += (LOCK_SECONDS - 1) * 1000;

    expect(await runMatching({ action: 'begin', batchId: 'b-2', owner: 'b-2' }, deps())).toEqual({ state: 'BUSY' });
    expect(await lock()).toMatchObject({ owner: 'b-1', runId: first.runId });
  });

  it('takes over an expired lock; the old run is left to its owner', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const first = await acquire('b-1');
    clock += (LOCK_SECONDS + 1) * 1000;

    const second = await acquire('b-2');

    expect(second.runId).not.toBe(first.runId);
    expect(await lock()).toMatchObject({ owner: 'b-2', runId: second.runId });
    expect((await run(first.runId))?.status).toBe('STARTING');
    expect(log.lines.some((l) => l.includes('expired matching lock taken over'))).toBe(true);
  });

  it('is re-entrant: a retried begin of the same owner gets the same run (before and after the job started)', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const first = await acquire('b-1');
    clock += 5000;

    const retry = await acquire('b-1');
    expect(retry).toEqual(first);
    expect((await lock())?.expiresAt).toBe(new Date(clock + LOCK_SECONDS * 1000).toISOString());

    await runMatching({ action: 'started', runId: first.runId, jobId: JOB_ID }, deps());
    expect(await acquire('b-1')).toEqual(first);
  });

  it.each(['lock-taken', 'run-created'])('survives a crash at %s: the retry returns one run', async (step) => {
    await awaiting('b-1');
    const checkpoint = crashPoints('matching', `matching:${step}`);
    expect((await thrown(() => runMatching({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, deps({ checkpoint })))).name).toBe('InjectedCrash');

    const result = await acquire('b-1', 'b-1', deps({ checkpoint }));

    expect(result.runId).toBe((await lock())?.runId);
    expect(await run(result.runId)).toMatchObject({ status: 'STARTING', batchIds: ['b-1'] });
  });

  it('answers MATCHED for a batch covered by a succeeded run, without touching the lock', async () => {
    await awaiting('b-1', 0, { matchingRunId: 'r-1', matchingJobId: JOB_ID });
    await putItem(dynamo.doc, table, { ...Keys.run('r-1'), entity: 'MATCHING_RUN', runId: 'r-1', jobId: JOB_ID, status: 'SUCCEEDED', batchIds: ['b-1'] });
    await putItem(dynamo.doc, table, { ...Keys.matchingLock(), entity: 'LOCK', owner: 'someone', runId: 'r-2', expiresAt: '2099-01-01T00:00:00.000Z' });

    expect(await runMatching({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, deps())).toEqual({ state: 'MATCHED', runId: 'r-1', jobId: JOB_ID });
    expect((await lock())?.owner).toBe('someone');
  });

  it('does not answer MATCHED when the recorded run did not succeed', async () => {
    await awaiting('b-1', 0, { matchingRunId: 'r-1' });
    await putItem(dynamo.doc, table, { ...Keys.run('r-1'), entity: 'MATCHING_RUN', runId: 'r-1', status: 'FAILED', batchIds: ['b-1'] });
    expect((await runMatching({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, deps())).state).toBe('ACQUIRED');
  });

  it.each([
    ['a missing batch', async () => {}, /not found/],
    ['a batch whose records are not written', () => putItem(dynamo.doc, table, { ...batchItem('b-1', { status: 'SUBMITTED' }) }), /is SUBMITTED/],
  ])('throws BatchStateError for %s', async (_case, arrange, message) => {
    await arrange();
    const error = await thrown(() => runMatching({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect(error.message).toMatch(message);
  });

  it('lets DynamoDB errors through: a throttled lock write is not BUSY', async () => {
    const ddbMock = mockClient(DynamoDBDocumentClient);
    try {
      ddbMock.on(GetCommand, { Key: Keys.batch('b-1') }).resolves({ Item: batchItem('b-1', { status: 'AWAITING_MATCH' }) });
      ddbMock.on(GetCommand, { Key: Keys.matchingLock() }).resolves({});
      ddbMock.on(PutCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }));

      const error = await thrown(() => runMatching({ action: 'begin', batchId: 'b-1', owner: 'b-1' }, deps()));

      expect(error.name).toBe('ProvisionedThroughputExceededException');
      expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
    } finally {
      ddbMock.restore();
    }
  });

  it('rejects an unknown action or a missing owner', async () => {
    expect((await thrown(() => runMatching({ action: 'nope' } as never, deps()))).name).toBe('InvalidInput');
    expect((await thrown(() => runMatching({ action: 'begin', batchId: 'b-1' } as never, deps()))).message).toMatch(/owner/);
  });
});

describe('matching: started', () => {
  it('records the job id once; a repeat is a no-op; another job id is an error', async () => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');

    expect(await runMatching({ action: 'started', runId, jobId: JOB_ID }, deps())).toEqual({ runId, jobId: JOB_ID });
    expect(await run(runId)).toMatchObject({ status: 'RUNNING', jobId: JOB_ID, gsi1pk: 'RUN#RUNNING' });
    await runMatching({ action: 'started', runId, jobId: JOB_ID }, deps());

    const error = await thrown(() => runMatching({ action: 'started', runId, jobId: 'ffffffffffffffffffffffffffffffff' }, deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect((await thrown(() => runMatching({ action: 'started', runId: 'r-unknown', jobId: JOB_ID }, deps()))).message).toMatch(/not found/);
  });
});

describe('matching: finish', () => {
  it('SUCCEEDED: records the run, marks every covered batch, puts Matching Completed, releases the lock', async () => {
    await awaiting('b-1');
    await awaiting('b-2', 5);
    await awaiting('b-3', 3);
    const { runId, batchIds } = await acquire('b-1');
    await runMatching({ action: 'started', runId, jobId: JOB_ID }, deps());
    clock += 300_000;

    const result = await runMatching({ action: 'finish', runId, owner: 'b-1', job: job('SUCCEEDED') }, deps());

    expect(result).toEqual({ status: 'SUCCEEDED' });
    const metrics = { inputRecords: 40, totalRecordsProcessed: 39, recordsNotProcessed: 1, matchIDs: 31 };
    expect(await run(runId)).toMatchObject({
      status: 'SUCCEEDED',
      jobId: JOB_ID,
      metrics,
      startedAt: '2026-03-01T12:01:00.000Z',
      endedAt: '2026-03-01T12:04:30.000Z',
      gsi1pk: 'RUN#SUCCEEDED',
    });
    expect((await run(runId))?.errorMessage).toBeUndefined();
    for (const id of ['b-1', 'b-2', 'b-3']) {
      expect(await batch(id)).toMatchObject({ status: 'AWAITING_MATCH', matchingRunId: runId, matchingJobId: JOB_ID, matchingMetrics: metrics });
    }
    expect(await lock()).toBeUndefined();
    expect(events.events).toEqual([
      {
        source: 'chartflow',
        busName: BUS,
        detailType: 'Matching Completed',
        detail: {
          version: '1',
          runId,
          jobId: JOB_ID,
          status: 'SUCCEEDED',
          batchIds,
          ...metrics,
          outputS3Uri: `s3://${BUCKET}/matches/${WORKFLOW}/${JOB_ID}/`,
          completedAt: '2026-03-01T12:04:30.000Z',
        },
      },
    ]);

    // Every covered batch now learns it is matched.
    for (const id of ['b-1', 'b-2', 'b-3']) {
      expect(await runMatching({ action: 'begin', batchId: id, owner: id }, deps())).toEqual({ state: 'MATCHED', runId, jobId: JOB_ID });
    }
  });

  it('FAILED: records the error; no batch is marked matched; the next begin starts a new run', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const { runId } = await acquire('b-1');
    await runMatching({ action: 'started', runId, jobId: JOB_ID }, deps());

    const result = await runMatching(
      { action: 'finish', runId, owner: 'b-1', job: job('FAILED', { Metrics: undefined, ErrorDetails: { ErrorMessage: 'Input table\nnot found' } }) },
      deps(),
    );

    expect(result).toEqual({ status: 'FAILED', errorMessage: 'Input table not found' });
    expect(await run(runId)).toMatchObject({ status: 'FAILED', errorMessage: 'Input table not found', gsi1pk: 'RUN#FAILED' });
    expect((await batch('b-1'))?.matchingRunId).toBeUndefined();
    expect((await batch('b-2'))?.matchingRunId).toBeUndefined();
    expect(events.events[0]?.detail).toMatchObject({ status: 'FAILED', errorMessage: 'Input table not found', inputRecords: 0, matchIDs: 0 });

    const next = await acquire('b-2');
    expect(next.runId).not.toBe(runId);
    expect(next.batchIds.sort()).toEqual(['b-1', 'b-2']);
  });

  it('FAILED without error details still gives the state machine an errorMessage', async () => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');
    const result = await runMatching({ action: 'finish', runId, owner: 'b-1', job: job('FAILED', { ErrorDetails: {} }) }, deps());
    expect(result).toEqual({ status: 'FAILED', errorMessage: FAILED_WITHOUT_MESSAGE });
  });

  it('is idempotent: a retry leaves the same items and puts the same event again (at least once)', async () => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');
    const finish = { action: 'finish' as const, runId, owner: 'b-1', job: job('SUCCEEDED') };
    await runMatching(finish, deps());
    const first = await run(runId);
    await runMatching(finish, deps());

    expect(await run(runId)).toEqual(first);
    expect(events.events).toHaveLength(2);
    expect(events.events[1]).toEqual(events.events[0]);
  });

  it.each(['run-recorded', 'batches-recorded', 'event-put'])('survives a crash at %s', async (step) => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');
    const checkpoint = crashPoints('matching', `matching:${step}`);
    const finish = { action: 'finish' as const, runId, owner: 'b-1', job: job('SUCCEEDED') };
    expect((await thrown(() => runMatching(finish, deps({ checkpoint })))).name).toBe('InjectedCrash');

    await runMatching(finish, deps({ checkpoint }));

    expect(await lock()).toBeUndefined();
    expect((await batch('b-1'))?.matchingRunId).toBe(runId);
    expect(events.events.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps the first successful run of a batch, and leaves a lock taken over since', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const { runId } = await acquire('b-1');
    // b-2 was covered by another run meanwhile, and b-1's lock expired and was taken.
    await putItem(dynamo.doc, table, { ...batchItem('b-2', { status: 'AWAITING_MATCH', matchingRunId: 'r-other', matchingJobId: 'j-other' }) });
    await putItem(dynamo.doc, table, { ...Keys.matchingLock(), entity: 'LOCK', owner: 'b-9', runId: 'r-9', expiresAt: '2099-01-01T00:00:00.000Z' });

    await runMatching({ action: 'finish', runId, owner: 'b-1', job: job('SUCCEEDED') }, deps());

    expect((await batch('b-1'))?.matchingRunId).toBe(runId);
    expect(await batch('b-2')).toMatchObject({ matchingRunId: 'r-other', matchingJobId: 'j-other' });
    expect(await lock()).toMatchObject({ owner: 'b-9', runId: 'r-9' });
  });

  it('refuses a job that has not ended, and an unknown run', async () => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');
    const running = await thrown(() => runMatching({ action: 'finish', runId, owner: 'b-1', job: { JobId: JOB_ID, Status: 'RUNNING' } }, deps()));
    expect(running.name).toBe(WorkflowError.BatchStateError);
    const unknown = await thrown(() => runMatching({ action: 'finish', runId: 'r-x', owner: 'b-1', job: job('SUCCEEDED') }, deps()));
    expect(unknown.message).toMatch(/not found/);
    expect(events.events).toHaveLength(0);
  });
});

describe('matching: release', () => {
  it('gives the lock back and marks the run not started; a repeat is harmless', async () => {
    await awaiting('b-1');
    const { runId } = await acquire('b-1');

    expect(await runMatching({ action: 'release', runId, owner: 'b-1' }, deps())).toEqual({ runId, status: 'FAILED' });
    expect(await lock()).toBeUndefined();
    expect(await run(runId)).toMatchObject({ status: 'FAILED', errorMessage: NOT_STARTED_MESSAGE, gsi1pk: 'RUN#FAILED' });

    await runMatching({ action: 'release', runId, owner: 'b-1' }, deps());
    expect((await run(runId))?.status).toBe('FAILED');
    expect(events.events).toHaveLength(0);
  });

  it('leaves a lock that another owner holds, and a run whose job was recorded', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const { runId } = await acquire('b-1');
    await runMatching({ action: 'started', runId, jobId: JOB_ID }, deps());

    await runMatching({ action: 'release', runId, owner: 'b-2' }, deps());

    expect((await lock())?.owner).toBe('b-1');
    expect((await run(runId))?.status).toBe('RUNNING');
    expect((await thrown(() => runMatching({ action: 'release', runId: 'r-x', owner: 'b-1' }, deps()))).name).toBe(WorkflowError.BatchStateError);
  });
});

describe('matching: two executions', () => {
  it('serializes them: the one that waited is covered by the running run, or by the next', async () => {
    await awaiting('b-1');
    await awaiting('b-2');
    const a = await acquire('b-1');
    expect(a.batchIds.sort()).toEqual(['b-1', 'b-2']);
    expect((await runMatching({ action: 'begin', batchId: 'b-2', owner: 'b-2' }, deps())).state).toBe('BUSY');

    // b-3 finishes collecting while a's job runs: it waits for the next run.
    await runMatching({ action: 'started', runId: a.runId, jobId: JOB_ID }, deps());
    await awaiting('b-3');
    expect((await runMatching({ action: 'begin', batchId: 'b-3', owner: 'b-3' }, deps())).state).toBe('BUSY');
    await runMatching({ action: 'finish', runId: a.runId, owner: 'b-1', job: job('SUCCEEDED') }, deps());

    expect(await runMatching({ action: 'begin', batchId: 'b-2', owner: 'b-2' }, deps())).toMatchObject({ state: 'MATCHED', runId: a.runId });
    const next = await acquire('b-3');
    expect(next.batchIds).toEqual(['b-3']);
  });
});
