import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { VirtualClock } from '../clock.js';
import { startStepFunctionsEndpoint, type StepFunctionsEndpoint } from './endpoint.js';
import { LocalStepFunctions } from './engine.js';
import { VirtualScheduler } from './scheduler.js';

const START = Date.UTC(2026, 0, 1);
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Batch';

/** A gate the test opens: while closed, the Lambda is in flight and the execution stays RUNNING. */
function gate() {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open: () => open() };
}

describe('Step Functions endpoint with the unmodified SFN client', () => {
  let sfn: LocalStepFunctions;
  let server: StepFunctionsEndpoint;
  let client: SFNClient;
  let hold = gate();
  let failNext = false;

  beforeAll(async () => {
    sfn = new LocalStepFunctions({
      scheduler: new VirtualScheduler(new VirtualClock(START)),
      tasks: {
        invokeLambda: async (_fn, payload) => {
          await hold.opened;
          if (failNext) {
            failNext = false;
            const error = new Error('the batch is not ready');
            error.name = 'BatchStateError';
            throw error;
          }
          return payload;
        },
      },
    });
    sfn.createStateMachine({
      arn: ARN,
      definition: {
        StartAt: 'Settle',
        States: {
          Settle: { Type: 'Wait', Seconds: 300, Next: 'Finalize' },
          Finalize: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'finalize', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true },
        },
      },
    });
    server = await startStepFunctionsEndpoint(sfn);
    client = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });

  afterAll(async () => {
    hold.open();
    client.destroy();
    await sfn.close();
    await server.stop();
  });

  it('starts idempotently while running, and answers ExecutionAlreadyExists otherwise', async () => {
    hold = gate();
    const input = JSON.stringify({ batchId: 'b-1' });
    const first = await client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-1', input }));
    expect(first.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:Batch:b-1');
    expect(first.startDate).toEqual(new Date(START));
    const again = await client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-1', input }));
    expect(again.executionArn).toBe(first.executionArn);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-1', input: '{"batchId":"other"}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    const running = await client.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(running).toMatchObject({ status: 'RUNNING', name: 'b-1', input, redriveCount: 0 });

    hold.open();
    await sfn.waitForExecution(first.executionArn!);
    const done = await client.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: input, redriveStatus: 'NOT_REDRIVABLE' });
    expect(done.stopDate).toEqual(new Date(START + 300_000));
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-1', input }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('returns the execution history with epoch timestamps parsed back into dates', async () => {
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:Batch:b-1';
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 100 }));
    expect(history.events!.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.events![2]!.timestamp).toEqual(new Date(START + 300_000));
    expect(history.events![4]!.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke' });
    const paged = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4, reverseOrder: true, includeExecutionData: false }));
    expect(paged.events!.map((e) => e.id)).toEqual([9, 8, 7, 6]);
    expect(paged.nextToken).toBeDefined();
    expect(paged.events![0]!.executionSucceededEventDetails?.output).toBeUndefined();
  });

  it('redrives a failed execution and refuses to redrive a succeeded one', async () => {
    hold = gate();
    hold.open();
    failNext = true;
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-2', input: '{"batchId":"b-2"}' }));
    await sfn.waitForExecution(executionArn!);
    const failed = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(failed).toMatchObject({ status: 'FAILED', error: 'BatchStateError', redriveStatus: 'REDRIVABLE' });
    expect(JSON.parse(failed.cause!)).toMatchObject({ errorType: 'BatchStateError', errorMessage: 'the batch is not ready' });

    const { redriveDate } = await client.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriveDate).toBeInstanceOf(Date);
    await sfn.waitForExecution(executionArn!);
    const redriven = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(redriven).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, output: '{"batchId":"b-2"}' });
    await expect(client.send(new RedriveExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
  });

  it('stops, lists and describes', async () => {
    hold = gate();
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'b-3' }));
    const { stopDate } = await client.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'cancelled' }));
    expect(stopDate).toBeInstanceOf(Date);
    hold.open();
    expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Operator' });

    const all = await client.send(new ListExecutionsCommand({ stateMachineArn: ARN }));
    expect(all.executions!.map((e) => e.name)).toEqual(['b-3', 'b-2', 'b-1']);
    const aborted = await client.send(new ListExecutionsCommand({ stateMachineArn: ARN, statusFilter: 'ABORTED' }));
    expect(aborted.executions!.map((e) => [e.name, e.status])).toEqual([['b-3', 'ABORTED']]);
    const page = await client.send(new ListExecutionsCommand({ stateMachineArn: ARN, maxResults: 2 }));
    const rest = await client.send(new ListExecutionsCommand({ stateMachineArn: ARN, maxResults: 2, nextToken: page.nextToken }));
    expect([...page.executions!, ...rest.executions!].map((e) => e.name)).toEqual(['b-3', 'b-2', 'b-1']);

    const machines = await client.send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines).toEqual([{ stateMachineArn: ARN, name: 'Batch', type: 'STANDARD', creationDate: new Date(START) }]);
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: ARN }));
    expect(described).toMatchObject({ name: 'Batch', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition!)).toMatchObject({ StartAt: 'Settle' });
  });

  it('answers AWS errors the SDK maps to its exception classes', async () => {
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: `${ARN}-missing` }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'no/slashes' }))).rejects.toBeInstanceOf(InvalidName);
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Batch:nope' })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    const response = await fetch(server.endpoint, { method: 'POST', headers: { 'X-Amz-Target': 'AWSStepFunctions.DeleteStateMachine' }, body: '{}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});
