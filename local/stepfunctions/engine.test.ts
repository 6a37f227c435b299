import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { VirtualClock } from '../clock.js';
import type { AslMachine, JsonValue } from './asl.js';
import { LocalStepFunctions, matchRetrier, retryDelayMs, type ExecutionEventNotice } from './engine.js';
import { VirtualScheduler } from './scheduler.js';
import { UnsupportedResourceError } from './task-router.js';

const START = Date.UTC(2026, 0, 1);
const REGION_ACCOUNT = 'us-east-1:000000000000';
const smArn = (name: string) => `arn:aws:states:${REGION_ACCOUNT}:stateMachine:${name}`;
const LAMBDA = 'arn:aws:states:::lambda:invoke';
const invoke = (fn: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: LAMBDA,
  Parameters: { FunctionName: fn, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...extra,
});

type Lambda = (payload: unknown) => unknown;

function setup(lambdas: Record<string, Lambda> = {}, seed = 1) {
  const scheduler = new VirtualScheduler(new VirtualClock(START));
  const calls: Array<{ fn: string; at: number; payload: unknown }> = [];
  const sfn = new LocalStepFunctions({
    scheduler,
    seed,
    tasks: {
      invokeLambda: async (fn, payload) => {
        calls.push({ fn, at: scheduler.now() - START, payload });
        const lambda = lambdas[fn];
        if (!lambda) throw new Error(`no lambda ${fn}`);
        return lambda(payload);
      },
    },
  });
  const run = async (name: string, definition: object, input: JsonValue = {}) => {
    sfn.createStateMachine({ arn: smArn(name), definition });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn(name), input });
    const result = await sfn.waitForExecution(executionArn);
    return { executionArn, result, stats: sfn.getExecutionStats(executionArn), history: sfn.getExecutionHistory({ executionArn, maxResults: 1000 }).events };
  };
  return { sfn, scheduler, calls, run };
}

const types = (events: HistoryEvent[]) => events.map((e) => e.type);
const at = (e: HistoryEvent) => e.timestamp!.getTime() - START;

class Throttled extends Error {
  constructor() {
    super('slow down');
    this.name = 'DetectionJobsThrottled';
  }
}

describe('LocalStepFunctions: virtual time', () => {
  it('runs a loop of 30 one-minute waits in well under a second, reporting 30 virtual minutes', async () => {
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Result: 0, ResultPath: '$.i', Next: 'Wait a minute' },
        'Wait a minute': { Type: 'Wait', Seconds: 60, Next: 'Count' },
        Count: { Type: 'Pass', Parameters: { 'i.$': 'States.MathAdd($.i, 1)' }, Next: 'Enough?' },
        'Enough?': { Type: 'Choice', Choices: [{ Variable: '$.i', NumericGreaterThanEquals: 30, Next: 'Done' }], Default: 'Wait a minute' },
        Done: { Type: 'Succeed' },
      },
    };
    const { sfn } = setup();
    sfn.createStateMachine({ arn: smArn('Loop'), definition });
    const started = Date.now();
    const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn('Loop') });
    const result = await sfn.waitForExecution(executionArn);
    expect(Date.now() - started).toBeLessThan(1000);
    const stats = sfn.getExecutionStats(executionArn);
    const history = sfn.getExecutionHistory({ executionArn, maxResults: 1000 }).events;
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual({ i: 30 });
    expect(stats.durationMs).toBe(30 * 60_000);
    expect(stats.waitedMs).toBe(30 * 60_000);
    expect(result.stopDate!.getTime() - result.startDate!.getTime()).toBe(30 * 60_000);
    // Init + 30 × (Wait, Count, Choice) + Done: the Wait replacement counts as one Wait state.
    expect(stats.stateTransitions).toBe(1 + 30 * 3 + 1);
    expect(types(history).filter((t) => t === 'WaitStateEntered')).toHaveLength(30);
    expect(types(history).filter((t) => t?.startsWith('Task'))).toEqual([]);
    const waits = history.filter((e) => e.type === 'WaitStateExited');
    expect(waits.map(at)).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 60_000));
  });

  it('orders two concurrent executions with interleaved waits by virtual time', async () => {
    const { sfn, calls } = setup({ tick: (p) => p });
    const poller = (seconds: number, times: number) => ({
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Parameters: { 'who.$': '$.who', n: 0 }, Next: 'Wait' },
        Wait: { Type: 'Wait', Seconds: seconds, Next: 'Tick' },
        Tick: invoke('tick', { ResultPath: null, OutputPath: '$', Next: 'Count' }),
        Count: { Type: 'Pass', Parameters: { 'who.$': '$.who', 'n.$': 'States.MathAdd($.n, 1)' }, Next: 'More?' },
        'More?': { Type: 'Choice', Choices: [{ Variable: '$.n', NumericLessThan: times, Next: 'Wait' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    });
    sfn.createStateMachine({ arn: smArn('Fast'), definition: poller(120, 5) });
    sfn.createStateMachine({ arn: smArn('Slow'), definition: poller(300, 3) });
    const a = await sfn.startExecution({ stateMachineArn: smArn('Fast'), input: { who: 'fast' } });
    const b = await sfn.startExecution({ stateMachineArn: smArn('Slow'), input: { who: 'slow' } });
    await Promise.all([sfn.waitForExecution(a.executionArn), sfn.waitForExecution(b.executionArn)]);
    const log = calls.map((c) => `${(c.payload as { who: string }).who}@${c.at / 60_000}`);
    // At 10 minutes both are due: the slow one asked first (at 5 min, the fast one at 8 min).
    expect(log).toEqual(['fast@2', 'fast@4', 'slow@5', 'fast@6', 'fast@8', 'slow@10', 'fast@10', 'slow@15']);
    expect(sfn.getExecutionStats(a.executionArn).durationMs).toBe(10 * 60_000);
    expect(sfn.getExecutionStats(b.executionArn).durationMs).toBe(15 * 60_000);
  });

  it('evaluates SecondsPath and TimestampPath on the effective input and keeps Wait I/O semantics', async () => {
    const { run } = setup();
    const definition = {
      StartAt: 'Backoff',
      States: {
        Backoff: { Type: 'Wait', InputPath: '$.poll', SecondsPath: '$.delay', OutputPath: '$.delay', Next: 'Until' },
        Until: { Type: 'Wait', TimestampPath: '$$.Execution.Input.deadline', End: true },
      },
    };
    const { result, history } = await run('Paths', definition, { poll: { delay: 90 }, deadline: '2026-01-01T01:00:00Z' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toBe('90');
    const exits = history.filter((e) => e.type === 'WaitStateExited');
    expect(exits.map(at)).toEqual([90_000, 3_600_000]);
    expect(exits[0]!.stateExitedEventDetails).toMatchObject({ name: 'Backoff', output: '90' });
  });

  it('fails with States.Runtime when SecondsPath does not point to a non-negative integer', async () => {
    const { run } = setup();
    const definition = {
      StartAt: 'Bad',
      States: {
        Bad: { Type: 'Wait', SecondsPath: '$.delay', Next: 'Never' },
        Never: { Type: 'Succeed' },
      },
    };
    const { result } = await run('BadWait', definition, { delay: -5 });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.Runtime');
    expect(result.cause).toMatch(/non-negative integer/);
  });

  it('times an execution out in virtual time (TimeoutSeconds)', async () => {
    const { run, sfn } = setup();
    const definition = { TimeoutSeconds: 120, StartAt: 'Long', States: { Long: { Type: 'Wait', Seconds: 3600, End: true } } };
    const { result, stats, history } = await run('Timeout', definition);
    expect(result.status).toBe('TIMED_OUT');
    expect(result.error).toBe('States.Timeout');
    expect(stats.durationMs).toBe(120_000);
    expect(types(history).at(-1)).toBe('ExecutionTimedOut');
    await sfn.idle();
    // The abandoned one-hour wait does not drag the clock along.
    expect(sfn.scheduler.now() - START).toBe(120_000);
  });

  it('gives the context object virtual times and the execution input, inside branches too', async () => {
    const { run } = setup();
    const definition = {
      StartAt: 'Nap',
      States: {
        Nap: { Type: 'Wait', Seconds: 90, Next: 'Stamp' },
        Stamp: {
          Type: 'Parallel',
          Parameters: { branch: 'input' },
          Branches: [
            {
              StartAt: 'Read',
              States: {
                Read: {
                  Type: 'Pass',
                  Parameters: {
                    'started.$': '$$.Execution.StartTime',
                    'entered.$': '$$.State.EnteredTime',
                    'name.$': '$$.Execution.Name',
                    'batch.$': '$$.Execution.Input.batchId',
                    'own.$': '$.branch',
                  },
                  End: true,
                },
              },
            },
          ],
          OutputPath: '$[0]',
          End: true,
        },
      },
    };
    const { result } = await run('Times', definition, { batchId: 'b-9' });
    expect(JSON.parse(result.output!)).toEqual({ started: '2026-01-01T00:00:00Z', entered: '2026-01-01T00:01:30Z', name: result.name, batch: 'b-9', own: 'input' });
  });
});

describe('LocalStepFunctions: states, tasks and errors', () => {
  it('runs Choice, Pass intrinsics and Parallel, with the Lambda invoke result shape', async () => {
    const { run, calls } = setup({ double: (p) => ({ value: (p as { n: number }).n * 2 }) });
    const definition = {
      StartAt: 'Prepare',
      States: {
        Prepare: {
          Type: 'Pass',
          Parameters: {
            'second.$': 'States.ArrayGetItem($.list, 1)',
            'pair.$': 'States.Array($.a, $.b)',
            'sum.$': 'States.MathAdd($.a, $.b)',
          },
          Next: 'Route',
        },
        Route: {
          Type: 'Choice',
          Choices: [
            { And: [{ Variable: '$.sum', NumericGreaterThan: 10 }, { Variable: '$.second', StringEquals: 'y' }], Next: 'Both' },
          ],
          Default: 'Small',
        },
        Small: { Type: 'Fail', Error: 'TooSmall' },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Call', States: { Call: { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: 'double', Payload: { 'n.$': '$.sum' } }, End: true } } },
            { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 5, Next: 'Echo' }, Echo: { Type: 'Pass', InputPath: '$.pair', End: true } } },
          ],
          ResultSelector: { 'doubled.$': '$[0].Payload.value', 'status.$': '$[0].StatusCode', 'pair.$': '$[1]' },
          End: true,
        },
      },
    };
    const { result, stats } = await run('Shapes', definition, { list: ['x', 'y', 'z'], a: 4, b: 9 });
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual({ doubled: 26, status: 200, pair: [4, 9] });
    expect(calls).toEqual([{ fn: 'double', at: 0, payload: { n: 13 } }]);
    // Prepare, Route, Both, Call, Pause, Echo.
    expect(stats.stateTransitions).toBe(6);
    expect(stats.durationMs).toBe(5000);
    expect(stats.taskCalls).toEqual({ lambda: 1 });
  });

  it('retries with backoff in virtual time and records each attempt in the history', async () => {
    let attempts = 0;
    const { run } = setup({
      flaky: () => {
        attempts++;
        if (attempts < 3) throw new Throttled();
        return { ok: true };
      },
    });
    const definition = {
      StartAt: 'Start jobs',
      States: {
        'Start jobs': invoke('flaky', { Retry: [{ ErrorEquals: ['DetectionJobsThrottled'], IntervalSeconds: 10, BackoffRate: 2, MaxAttempts: 5 }], End: true }),
      },
    };
    const { result, stats, history } = await run('Retry', definition);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual({ ok: true });
    expect(stats.retries).toBe(2);
    expect(stats.durationMs).toBe(10_000 + 20_000);
    expect(stats.stateTransitions).toBe(1);
    expect(stats.taskCalls).toEqual({ lambda: 3 });
    expect(types(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const scheduled = history.filter((e) => e.type === 'TaskScheduled');
    expect(scheduled.map(at)).toEqual([0, 10_000, 30_000]);
    expect(scheduled[0]!.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    const failed = history.find((e) => e.type === 'TaskFailed')!.taskFailedEventDetails!;
    expect(failed.error).toBe('DetectionJobsThrottled');
    expect(JSON.parse(failed.cause!)).toMatchObject({ errorType: 'DetectionJobsThrottled', errorMessage: 'slow down' });
  });

  it('caps retry intervals with MaxDelaySeconds and draws FULL jitter from the seed', async () => {
    const definition = {
      StartAt: 'Call',
      States: {
        Call: invoke('always', {
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 60, BackoffRate: 3, MaxAttempts: 4, MaxDelaySeconds: 300, JitterStrategy: 'FULL' }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recovered' }],
          End: true,
        }),
        Recovered: { Type: 'Pass', End: true },
      },
    };
    const durations: number[] = [];
    for (const seed of [7, 7, 8]) {
      const { run } = setup({ always: () => { throw new Throttled(); } }, seed);
      const { result, stats } = await run('Jitter', definition, {});
      expect(result.status).toBe('SUCCEEDED');
      expect(stats.retries).toBe(4);
      durations.push(stats.durationMs!);
      // Caps: 60, 180, 300 (540 capped), 300 (1620 capped); full jitter draws within each.
      expect(stats.durationMs!).toBeLessThanOrEqual((60 + 180 + 300 + 300) * 1000);
    }
    expect(durations[0]).toBe(durations[1]);
    expect(durations[2]).not.toBe(durations[0]);
  });

  it('catches a Lambda error with the Lambda-shaped cause, after the retries are spent', async () => {
    const { run } = setup({ broken: () => { throw new Throttled(); } });
    const definition = {
      StartAt: 'Call',
      States: {
        Call: invoke('broken', {
          Retry: [{ ErrorEquals: ['DetectionJobsThrottled'], IntervalSeconds: 1, MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Handle' }],
          Next: 'Unreachable',
        }),
        Unreachable: { Type: 'Succeed' },
        Handle: { Type: 'Pass', OutputPath: '$.error', End: true },
      },
    };
    const { result, stats } = await run('Catch', definition, { batchId: 'b1' });
    expect(result.status).toBe('SUCCEEDED');
    const error = JSON.parse(result.output!) as { Error: string; Cause: string };
    expect(error.Error).toBe('DetectionJobsThrottled');
    expect(JSON.parse(error.Cause)).toMatchObject({ errorType: 'DetectionJobsThrottled', errorMessage: 'slow down' });
    expect(stats.retries).toBe(2);
    expect(stats.durationMs).toBe(1000 + 2000);
  });

  it('reports a direct Lambda function ARN with LambdaFunction* events and the bare payload', async () => {
    const fnArn = 'arn:aws:lambda:us-east-1:000000000000:function:chartflow-finalize';
    const { run, calls } = setup({ [fnArn]: (p) => ({ seen: p }) });
    const { result, history } = await run('Direct', { StartAt: 'Fin', States: { Fin: { Type: 'Task', Resource: fnArn, End: true } } }, { a: 1 });
    expect(JSON.parse(result.output!)).toEqual({ seen: { a: 1 } });
    expect(calls[0]!.fn).toBe(fnArn);
    expect(types(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('reports Fail states and uncaught errors on the execution', async () => {
    const { run } = setup();
    const { result, history } = await run('Fails', { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'JobFailed', Cause: 'entities job FAILED' } } });
    expect(result).toMatchObject({ status: 'FAILED', error: 'JobFailed', cause: 'entities job FAILED' });
    expect(types(history)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    expect(history.at(-1)!.executionFailedEventDetails).toEqual({ error: 'JobFailed', cause: 'entities job FAILED' });
  });

  it('cancels the waits of a Parallel branch abandoned when another branch fails', async () => {
    const { run, sfn } = setup();
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Slow', States: { Slow: { Type: 'Wait', Seconds: 3600, End: true } } },
            { StartAt: 'Soon', States: { Soon: { Type: 'Wait', Seconds: 60, Next: 'Fails' }, Fails: { Type: 'Fail', Error: 'JobFailed' } } },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recover' }],
          End: true,
        },
        Recover: { Type: 'Pass', End: true },
      },
    };
    const { result, stats, history } = await run('Abandon', definition);
    expect(result.status).toBe('SUCCEEDED');
    expect(stats.durationMs).toBe(60_000);
    expect(types(history)).toContain('ParallelStateFailed');
    await sfn.idle();
    expect(sfn.scheduler.now() - START).toBe(60_000);
  });

  it('delays a retried Parallel state by its Retry interval in virtual time', async () => {
    let calls = 0;
    const { run } = setup({ once: () => { if (++calls === 1) throw new Throttled(); return 'ok'; } });
    const definition = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'Call', States: { Call: invoke('once', { End: true }) } }],
          Retry: [{ ErrorEquals: ['DetectionJobsThrottled'], IntervalSeconds: 45, MaxAttempts: 1 }],
          End: true,
        },
      },
    };
    const { result, stats, history } = await run('ParallelRetry', definition);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual(['ok']);
    expect(stats.retries).toBe(1);
    expect(history.filter((e) => e.type === 'TaskScheduled').map(at)).toEqual([0, 45_000]);
  });

  it('runs inline Map iterations concurrently or one by one, each waiting in virtual time', async () => {
    const mapMachine = (maxConcurrency: number) => ({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.delays',
          MaxConcurrency: maxConcurrency,
          ItemSelector: { 'delay.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Nap',
            States: { Nap: { Type: 'Wait', SecondsPath: '$.delay', Next: 'Echo' }, Echo: invoke('echo', { End: true }) },
          },
          End: true,
        },
      },
    });
    const input = { delays: [30, 10, 20] };
    const serial = setup({ echo: (p) => (p as { index: number }).index });
    const one = await serial.run('MapSerial', mapMachine(1), input);
    expect(JSON.parse(one.result.output!)).toEqual([0, 1, 2]);
    expect(serial.calls.map((c) => c.at / 1000)).toEqual([30, 40, 60]);
    expect(one.stats.stateTransitions).toBe(1 + 3 * 2);
    expect(types(one.history).filter((t) => t?.startsWith('MapIteration'))).toHaveLength(6);

    const parallel = setup({ echo: (p) => (p as { index: number }).index });
    const all = await parallel.run('MapParallel', mapMachine(0), input);
    expect(JSON.parse(all.result.output!)).toEqual([0, 1, 2]);
    expect(parallel.calls.map((c) => [(c.payload as { index: number }).index, c.at / 1000])).toEqual([[1, 10], [2, 20], [0, 30]]);
    expect(all.stats.durationMs).toBe(30_000);
  });

  it('starts child executions through states:startExecution', async () => {
    const { sfn, run } = setup();
    sfn.createStateMachine({ arn: smArn('Child'), definition: { StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 30, End: true } } } });
    const parent = {
      StartAt: 'Spawn',
      States: {
        Spawn: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: { StateMachineArn: smArn('Child'), Name: 'child-1', Input: { 'batchId.$': '$.batchId' } },
          ResultSelector: { 'arn.$': '$.ExecutionArn', 'start.$': '$.StartDate' },
          End: true,
        },
      },
    };
    const { result } = await run('Parent', parent, { batchId: 'b-7' });
    const output = JSON.parse(result.output!) as { arn: string; start: number };
    expect(output).toEqual({ arn: `arn:aws:states:${REGION_ACCOUNT}:execution:Child:child-1`, start: START });
    const child = await sfn.waitForExecution(output.arn);
    expect(child).toMatchObject({ status: 'SUCCEEDED', input: '{"batchId":"b-7"}' });
  });

  it('refuses a resource without a local integration, naming the state', () => {
    const { sfn } = setup();
    expect(() =>
      sfn.createStateMachine({ arn: smArn('Sns'), definition: { StartAt: 'Notify', States: { Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } } } }),
    ).toThrow(UnsupportedResourceError);
    expect(() =>
      sfn.createStateMachine({ arn: smArn('Sns2'), definition: { StartAt: 'Notify', States: { Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } } } }),
    ).toThrow(/Task state "Notify": resource "arn:aws:states:::sns:publish" has no local integration/);
  });
});

describe('LocalStepFunctions: API semantics', () => {
  const waitMachine = (seconds: number): AslMachine => ({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: seconds, End: true } } });

  it('keeps an AWS-shaped history with ids, previous ids and virtual timestamps; includeExecutionData=false drops data', async () => {
    const { run, sfn } = setup();
    const { executionArn, history } = await run('History', waitMachine(10), { secret: 'x' });
    expect(history.map((e) => [e.id, e.previousEventId, e.type, at(e)])).toEqual([
      [1, 0, 'ExecutionStarted', 0],
      [2, 1, 'WaitStateEntered', 0],
      [3, 2, 'WaitStateExited', 10_000],
      [4, 3, 'ExecutionSucceeded', 10_000],
    ]);
    expect(history[0]!.executionStartedEventDetails).toMatchObject({ input: '{"secret":"x"}', roleArn: expect.stringContaining(':role/') });
    const bare = sfn.getExecutionHistory({ executionArn, includeExecutionData: false }).events;
    expect(JSON.stringify(bare)).not.toContain('secret');
    const page1 = sfn.getExecutionHistory({ executionArn, maxResults: 3, reverseOrder: true });
    expect(page1.events.map((e) => e.id)).toEqual([4, 3, 2]);
    const page2 = sfn.getExecutionHistory({ executionArn, maxResults: 3, reverseOrder: true, nextToken: page1.nextToken });
    expect(page2.events.map((e) => e.id)).toEqual([1]);
    expect(page2.nextToken).toBeUndefined();
    expect(() => sfn.getExecutionHistory({ executionArn, nextToken: page1.nextToken })).toThrow(expect.objectContaining({ name: 'InvalidToken' }));
  });

  it('lists executions newest first, filtered by status, with pagination', async () => {
    const { sfn } = setup();
    sfn.createStateMachine({ arn: smArn('Many'), definition: { StartAt: 'Pick', States: { Pick: { Type: 'Choice', Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'No' }], Default: 'Yes' }, No: { Type: 'Fail' }, Yes: { Type: 'Succeed' } } } });
    for (const [name, fail] of [['e1', false], ['e2', true], ['e3', false]] as const) {
      const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn('Many'), name, input: { fail } });
      await sfn.waitForExecution(executionArn);
    }
    const all = sfn.listExecutions({ stateMachineArn: smArn('Many') }).executions;
    expect(all.map((e) => e.name)).toEqual(['e3', 'e2', 'e1']);
    expect(sfn.listExecutions({ stateMachineArn: smArn('Many'), statusFilter: 'FAILED' }).executions.map((e) => e.name)).toEqual(['e2']);
    const first = sfn.listExecutions({ stateMachineArn: smArn('Many'), maxResults: 2 });
    expect(first.executions.map((e) => e.name)).toEqual(['e3', 'e2']);
    const second = sfn.listExecutions({ stateMachineArn: smArn('Many'), maxResults: 2, nextToken: first.nextToken });
    expect(second.executions.map((e) => e.name)).toEqual(['e1']);
    expect(() => sfn.listExecutions({ stateMachineArn: smArn('Nope') })).toThrow(expect.objectContaining({ name: 'StateMachineDoesNotExist' }));
  });

  it('stops a running execution: ABORTED, its wait cancelled, the clock left alone', async () => {
    const { sfn } = setup();
    sfn.createStateMachine({ arn: smArn('Stop'), definition: waitMachine(86_400) });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn('Stop'), name: 'to-stop' });
    const { stopDate } = await sfn.stopExecution(executionArn, { error: 'Operator', cause: 'stopped by test' });
    const described = sfn.describeExecution(executionArn);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test', redriveStatus: 'REDRIVABLE' });
    expect(stopDate.getTime()).toBe(START);
    await sfn.idle();
    expect(sfn.scheduler.now()).toBe(START);
  });

  it('redrives a failed execution from the start with the same input', async () => {
    let runs = 0;
    const { sfn } = setup({ flaky: (p) => { runs++; if (runs === 1) throw new Error('first run fails'); return p; } });
    sfn.createStateMachine({ arn: smArn('Redrive'), definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 60, Next: 'Call' }, Call: invoke('flaky', { End: true }) } } });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn('Redrive'), name: 'batch-1', input: { batchId: 'b1' } });
    expect((await sfn.waitForExecution(executionArn)).status).toBe('FAILED');
    const { redriveDate } = await sfn.redriveExecution(executionArn);
    expect(redriveDate.getTime()).toBe(START + 60_000);
    const done = await sfn.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, output: '{"batchId":"b1"}', redriveStatus: 'NOT_REDRIVABLE' });
    expect(done.error).toBeUndefined();
    const history = sfn.getExecutionHistory({ executionArn, maxResults: 1000 }).events;
    expect(types(history).filter((t) => t?.startsWith('Execution'))).toEqual(['ExecutionStarted', 'ExecutionFailed', 'ExecutionRedriven', 'ExecutionSucceeded']);
    await expect(sfn.redriveExecution(executionArn)).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
    const stats = sfn.getExecutionStats(executionArn);
    expect(stats).toMatchObject({ redriveCount: 1, durationMs: 120_000, stateTransitions: 4 });
  });

  it('treats names as AWS does: idempotent while running with the same input, ExecutionAlreadyExists otherwise', async () => {
    const { sfn } = setup();
    sfn.createStateMachine({ arn: smArn('Names'), definition: waitMachine(60) });
    const first = await sfn.startExecution({ stateMachineArn: smArn('Names'), name: 'batch-01', input: '{"a":1}' });
    const again = await sfn.startExecution({ stateMachineArn: smArn('Names'), name: 'batch-01', input: '{"a":1}' });
    expect(again).toEqual(first);
    await expect(sfn.startExecution({ stateMachineArn: smArn('Names'), name: 'batch-01', input: '{"a":2}' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await sfn.waitForExecution(first.executionArn);
    await expect(sfn.startExecution({ stateMachineArn: smArn('Names'), name: 'batch-01', input: '{"a":1}' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await expect(sfn.startExecution({ stateMachineArn: smArn('Names'), name: 'has space' })).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(sfn.startExecution({ stateMachineArn: smArn('Names'), input: 'not json' })).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
  });

  it('notifies progress listeners of every history event', async () => {
    const { sfn } = setup();
    const seen: ExecutionEventNotice[] = [];
    const off = sfn.onExecutionEvent((n) => seen.push(n));
    sfn.createStateMachine({ arn: smArn('Events'), definition: waitMachine(1) });
    const { executionArn } = await sfn.startExecution({ stateMachineArn: smArn('Events'), name: 'ev' });
    await sfn.waitForExecution(executionArn);
    off();
    expect(seen.map((n) => n.event.type)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'WaitStateExited', 'ExecutionSucceeded']);
    expect(seen.at(-1)).toMatchObject({ executionArn, name: 'ev', status: 'SUCCEEDED' });
  });

  it('exposes the retry arithmetic', () => {
    expect(matchRetrier([{ ErrorEquals: ['A'] }, { ErrorEquals: ['States.TaskFailed'] }], 'B')).toBe(1);
    expect(matchRetrier([{ ErrorEquals: ['States.TaskFailed'] }], 'States.Timeout')).toBe(-1);
    expect(retryDelayMs({ ErrorEquals: ['x'] }, 3, () => 0.5)).toBe(4000);
    expect(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 2, BackoffRate: 1.5, MaxDelaySeconds: 3 }, 3, () => 0.5)).toBe(3000);
    expect(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 10, JitterStrategy: 'FULL' }, 1, () => 0.25)).toBe(2500);
  });
});
