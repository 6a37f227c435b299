import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { pollWaits } from '../../lib/constructs/job-poller.js';
import { defaultConfig } from '../../lib/config.js';
import { allStates, batchDefinition, synthesize } from '../support/stack.js';

const { template } = synthesize();
const definition = batchDefinition(template);
const states = allStates(definition);
const state = (name: string) => {
  const s = states[name];
  if (!s) throw new Error(`no state "${name}" (have: ${Object.keys(states).join(', ')})`);
  return s;
};

describe('batch state machine resource', () => {
  test('Standard, traced, logging without execution data, KMS-encrypted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false, Level: 'ALL' }),
      EncryptionConfiguration: Match.objectLike({ Type: 'CUSTOMER_MANAGED_KMS_KEY' }),
    });
  });

  test('alarms on failed and timed-out executions and on the dead-letter queues', () => {
    const metrics = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName);
    expect(metrics).toEqual(expect.arrayContaining(['ExecutionsFailed', 'ExecutionsTimedOut', 'ApproximateNumberOfMessagesVisible']));
    expect(metrics.filter((m) => m === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
    }
  });
});

describe('definition', () => {
  test('is valid ASL and uses JSONPath only', () => {
    const { isValid, errorsText } = aslValidator(definition as never);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/JSONata|"Assign"|"Arguments"|"ItemReader"/);
  });

  test('the two Comprehend Medical pollers run in parallel', () => {
    const parallel = state('Wait For Jobs');
    expect(parallel.Type).toBe('Parallel');
    const starts = parallel.Branches!.map((b) => b.StartAt);
    expect(starts).toEqual(['Entities Job Start', 'SNOMED CT Job Start']);
    expect(state('Describe Entities Job').Resource).toBe('arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job');
    expect(state('Describe SNOMED CT Job').Resource).toBe('arn:aws:states:::aws-sdk:comprehendmedical:describeSNOMEDCTInferenceJob');
  });

  test.each(['Entities Job', 'SNOMED CT Job', 'Matching', 'Matching Turn'])('%s poller: Wait -> Describe -> Choice -> Advance -> back to Wait', (poller) => {
    expect(state(`${poller} Start`).Next).toBe(`${poller} Wait`);
    expect(state(`${poller} Wait`)).toMatchObject({ Type: 'Wait', SecondsPath: '$.poll.wait' });
    expect(state(`${poller} Advance`).Next).toBe(`${poller} Wait`); // the back-edge
    expect(state(`${poller} Advance`).Parameters).toMatchObject({
      'attempt.$': 'States.MathAdd($.poll.attempt, 1)',
      'wait.$': expect.stringMatching(/^States\.ArrayGetItem\(States\.Array\([\d, ]+\), States\.MathAdd\(\$\.poll\.attempt, 1\)\)$/),
    });
  });

  test('the detection poller backs off exponentially to the cap and gives up at the deadline', () => {
    const waits = pollWaits(defaultConfig.detectionPoll);
    expect(waits.slice(0, 4)).toEqual([60, 90, 135, 203]);
    expect(Math.max(...waits)).toBe(defaultConfig.detectionPoll.capSeconds);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(defaultConfig.detectionPoll.deadlineSeconds);
    expect(total - waits[waits.length - 1]!).toBeLessThan(defaultConfig.detectionPoll.deadlineSeconds);
    const advance = state('Entities Job Advance').Parameters!['wait.$'] as string;
    expect(advance).toContain(`States.Array(${waits.join(', ')})`);
    const deadlineRule = state('Entities Job Status').Choices!.find((c) => JSON.stringify(c).includes('NumericGreaterThanEquals'));
    expect(JSON.stringify(deadlineRule)).toContain(`"NumericGreaterThanEquals":${waits.length - 1}`);
    expect(deadlineRule!.Next).toBe('Entities Job Deadline');
    expect(state('Entities Job Deadline')).toMatchObject({ Type: 'Fail', Error: 'DeadlineExceeded' });
    // 24 h of polling stays far below the 25,000-event history limit (~4 transitions per poll).
    expect(waits.length * 4 * 2).toBeLessThan(2500);
  });

  test('the status Choice covers all seven JobStatus values', () => {
    const choice = JSON.stringify(state('Entities Job Status'));
    for (const status of ['SUBMITTED', 'IN_PROGRESS', 'COMPLETED', 'PARTIAL_SUCCESS', 'FAILED', 'STOP_REQUESTED', 'STOPPED']) {
      expect(choice).toContain(`"StringEquals":"${status}"`);
    }
    expect(state('Entities Job FAILED')).toMatchObject({ Type: 'Fail', Error: 'JobFailed', CausePath: '$.job.ComprehendMedicalAsyncJobProperties.Message' });
    expect(state('Entities Job STOPPED')).toMatchObject({ Type: 'Fail', Error: 'JobStopped' });
    expect(state('Entities Job Status').Default).toBe('Entities Job Unknown Status');
  });

  test('a failed or stopped job is recorded before the loop fails, so a redrive does not reuse it', () => {
    for (const status of ['FAILED', 'STOPPED']) {
      const record = state(`Entities Job Record ${status}`);
      expect(record.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
      expect(record.Next).toBe(`Entities Job ${status}`);
      expect(JSON.stringify(state('Entities Job Status').Choices)).toContain(`"StringEquals":"${status}","Next":"Entities Job Record ${status}"`);
    }
  });

  test('a status change while pending is recorded in DynamoDB', () => {
    const record = state('Entities Job Record Status');
    expect(record.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(record.Next).toBe('Entities Job Advance');
  });

  test('throttling and internal errors are retried with full jitter and a cap', () => {
    const retry = state('Describe Entities Job').Retry![0]!;
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['ComprehendMedical.TooManyRequestsException', 'ComprehendMedical.InternalServerException']));
    expect(retry).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2, MaxDelaySeconds: 300 });
    const start = state('Start Jobs').Retry!.find((r) => r.ErrorEquals.includes('DetectionJobsThrottled'))!;
    expect(start).toMatchObject({ JitterStrategy: 'FULL', MaxDelaySeconds: 900, MaxAttempts: 100 });
  });

  test('jobs are started by the workflow only when ingest could not', () => {
    const choice = state('Jobs Started?');
    expect(choice.Choices).toEqual([{ Variable: '$.jobs', IsPresent: true, Next: 'Wait For Jobs' }]);
    expect(choice.Default).toBe('Start Jobs');
  });

  test('matching: a turn, then StartMatchingJob, ConflictException handled, then the GetMatchingJob poller', () => {
    expect(state('Begin Matching').Next).toBe('Matching Turn?');
    const turn = JSON.stringify(state('Matching Turn?'));
    expect(turn).toContain('"Next":"Complete Batch"');
    expect(turn).toContain('"Next":"Start Matching Job"');
    expect(state('Matching Turn?').Default).toBe('Matching Turn Start');
    const start = state('Start Matching Job');
    expect(start.Resource).toBe('arn:aws:states:::aws-sdk:entityresolution:startMatchingJob');
    expect(start.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['EntityResolution.ConflictException'], Next: 'Release Matching Turn' })]);
    expect(state('Release Matching Turn').Next).toBe('Matching Turn Start');
    expect(state('Get Matching Job').Resource).toBe('arn:aws:states:::aws-sdk:entityresolution:getMatchingJob');
    expect(state('Matching Done').Next).toBe('Finish Matching');
    expect(state('Matching Succeeded?').Default).toBe('Matching Failed');
  });

  test('catch-all: any failure records FAILED and fails the execution', () => {
    const pipeline = state('Process Batch');
    expect(pipeline.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'Record Failure', ResultPath: '$.error' }]);
    expect(state('Record Failure').Next).toBe('Batch Failed');
    expect(state('Batch Failed')).toMatchObject({ Type: 'Fail', Error: 'BatchFailed' });
  });

  test('every Task has an explicit retry policy and a timeout', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(12);
    for (const [name, task] of tasks) {
      expect({ name, retries: (task.Retry ?? []).length > 0 }).toEqual({ name, retries: true });
      expect({ name, timeout: typeof task.TimeoutSeconds }).toEqual({ name, timeout: 'number' });
      // Retriers are matched in order: the catch-all States.TaskFailed must come after the named ones.
      const catchAll = (task.Retry ?? []).findIndex((r) => r.ErrorEquals.includes('States.TaskFailed'));
      expect({ name, catchAllLast: catchAll === -1 || catchAll === task.Retry!.length - 1 }).toEqual({ name, catchAllLast: true });
    }
  });

  test('no execution payload carries document text: tasks pass ids only', () => {
    const parameters = Object.values(states).map((s) => JSON.stringify(s.Parameters ?? {})).join('\n');
    expect(parameters).not.toMatch(/text|Text|body|Body/);
  });
});
