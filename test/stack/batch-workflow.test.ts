import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { pollTimes, pollWaits } from '../../lib/constructs/job-poller.js';
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

  test('one loop follows both Comprehend Medical jobs: each poll describes both', () => {
    expect(state('Detection Jobs Wait').Next).toBe('Describe Entities Job');
    expect(state('Describe Entities Job').Resource).toBe('arn:aws:states:::aws-sdk:comprehendmedical:describeEntitiesDetectionV2Job');
    expect(state('Describe Entities Job').Next).toBe('Describe SNOMED CT Job');
    expect(state('Describe SNOMED CT Job').Resource).toBe('arn:aws:states:::aws-sdk:comprehendmedical:describeSNOMEDCTInferenceJob');
    expect(state('Describe SNOMED CT Job').Next).toBe('Detection Jobs Status');
    // The loop's result is what collect-results reads: one DetectionJobResult per job.
    const done = state('Detection Jobs Done');
    expect(done.Next).toBe('Collect Results');
    expect(done).toMatchObject({ ResultPath: '$.detection' });
    expect(Object.keys(done.Parameters!)).toEqual(['entities', 'snomed']);
    expect(done.Parameters!.snomed).toMatchObject({ 'jobId.$': '$.snomedJob.ComprehendMedicalAsyncJobProperties.JobId', 'endTime.$': '$.snomedJob.ComprehendMedicalAsyncJobProperties.EndTime' });
    expect(Object.values(states).some((s) => s.Type === 'Parallel' && s !== state('Process Batch'))).toBe(false);
  });

  test.each(['Detection Jobs', 'Matching', 'Matching Turn'])('%s poller: Wait -> Describe -> Choice -> Advance -> back to Wait', (poller) => {
    expect(state(`${poller} Start`).Next).toBe(`${poller} Wait`);
    expect(state(`${poller} Wait`)).toMatchObject({ Type: 'Wait', SecondsPath: '$.poll.wait' });
    expect(state(`${poller} Advance`).Next).toBe(`${poller} Wait`); // the back-edge
    expect(state(`${poller} Advance`).Parameters).toMatchObject({
      'attempt.$': 'States.MathAdd($.poll.attempt, 1)',
      'wait.$': expect.stringMatching(/^States\.ArrayGetItem\(States\.Array\([\d, ]+\), States\.MathAdd\(\$\.poll\.attempt, 1\)\)$/),
    });
    expect(state(`${poller} Status`).Default).toBe(`${poller} Advance`);
  });

  test('the detection schedule: backoff for short jobs, then at most 10 % late, capped, up to the deadline', () => {
    const schedule = defaultConfig.detectionPoll;
    const waits = pollWaits(schedule);
    expect(waits.slice(0, 4)).toEqual([60, 90, 135, 202]);
    expect(Math.max(...waits)).toBe(schedule.capSeconds);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(schedule.deadlineSeconds);
    expect(total - waits[waits.length - 1]!).toBeLessThan(schedule.deadlineSeconds);
    // A job ending at any D >= 30 min is seen by 1.1 × D: check every second up to the deadline.
    const times = pollTimes(schedule);
    for (let d = schedule.lagBoundFromSeconds!; d <= schedule.deadlineSeconds; d += 1) {
      const seen = times.find((t) => t >= d)!;
      if (seen - d > 0.1 * d) throw new Error(`a job ending at ${d} s is seen at ${seen} s`);
    }
    // Seven polls reach 30 minutes (a fixed 30 s poll needs 60).
    expect(times.filter((t) => t < 1800)).toHaveLength(6);
    const advance = state('Detection Jobs Advance').Parameters!['wait.$'] as string;
    expect(advance).toContain(`States.Array(${waits.join(', ')})`);
    const deadlineRule = state('Detection Jobs Status').Choices!.find((c) => JSON.stringify(c).includes('NumericGreaterThanEquals'));
    expect(JSON.stringify(deadlineRule)).toContain(`"NumericGreaterThanEquals":${waits.length - 1}`);
    expect(deadlineRule!.Next).toBe('Detection Jobs Deadline');
    expect(state('Detection Jobs Deadline')).toMatchObject({ Type: 'Fail', Error: 'DeadlineExceeded' });
    // 24 h of polling stays far below the 25,000-event history limit: per poll a Wait (2 events),
    // two aws-sdk tasks (5 each), a Choice and a Pass (2 each).
    expect(waits.length * 16).toBeLessThan(2500);
  });

  test('a constant schedule is not inlined as an array (a fixed 30 s poll for 30 days)', () => {
    const fixed = batchDefinition(synthesize({}, { 'chartflow:detectionPoll': { baseSeconds: 30, capSeconds: 30, backoffRate: 1, deadlineSeconds: 30 * 86400, maxLagRatio: null } }).template);
    const fixedStates = allStates(fixed);
    expect(fixedStates['Detection Jobs Advance']!.Parameters).toMatchObject({ wait: 30 });
    expect(JSON.stringify(fixedStates['Detection Jobs Status'])).toContain(`"NumericGreaterThanEquals":${30 * 2880 - 1}`);
  });

  test('the status Choice covers all seven JobStatus values of both jobs; anything else fails', () => {
    const choice = state('Detection Jobs Status');
    for (const job of ['entitiesJob', 'snomedJob']) {
      const rules = JSON.stringify(choice.Choices!.filter((c) => JSON.stringify(c).includes(`$.${job}.`)));
      for (const status of ['SUBMITTED', 'IN_PROGRESS', 'COMPLETED', 'PARTIAL_SUCCESS', 'FAILED', 'STOP_REQUESTED', 'STOPPED']) {
        expect(rules).toContain(`"StringEquals":"${status}"`);
      }
    }
    for (const label of ['Entities', 'SNOMED CT']) {
      expect(state(`Detection Jobs ${label} FAILED`)).toMatchObject({ Type: 'Fail', Error: 'JobFailed' });
      expect(state(`Detection Jobs ${label} STOPPED`)).toMatchObject({ Type: 'Fail', Error: 'JobStopped' });
      expect(state(`Detection Jobs ${label} Unknown Status`)).toMatchObject({ Type: 'Fail', Error: 'UnknownJobStatus' });
    }
    expect(state('Detection Jobs SNOMED CT FAILED').CausePath).toBe('$.snomedJob.ComprehendMedicalAsyncJobProperties.Message');
    // Failures are matched before "all done", so a failing job ends the loop whatever its sibling does.
    const names = choice.Choices!.map((c) => c.Next);
    expect(names.indexOf('Detection Jobs Done')).toBeGreaterThan(names.indexOf('Detection Jobs Record SNOMED CT STOPPED'));
  });

  test('a failed or stopped job is recorded before the loop fails, so a redrive does not reuse it', () => {
    for (const label of ['Entities', 'SNOMED CT']) {
      for (const status of ['FAILED', 'STOPPED']) {
        const record = state(`Detection Jobs Record ${label} ${status}`);
        expect(record.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
        expect(record.Next).toBe(`Detection Jobs ${label} ${status}`);
      }
    }
    expect(JSON.stringify(state('Detection Jobs Status').Choices)).toContain('"StringEquals":"FAILED","Next":"Detection Jobs Record Entities FAILED"');
  });

  test('a status change while pending is recorded in DynamoDB, both jobs in one write', () => {
    const record = state('Detection Jobs Record Status');
    expect(record.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(record.Next).toBe('Detection Jobs Advance');
    expect(String(record.Parameters!.UpdateExpression)).toMatch(/entitiesJob\.#status = :entities.*snomedJob\.#status = :snomed/);
  });

  test('throttling and internal errors are retried with full jitter and a cap', () => {
    const retry = state('Describe Entities Job').Retry![0]!;
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['ComprehendMedical.TooManyRequestsException', 'ComprehendMedical.InternalServerException']));
    expect(retry).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2, MaxDelaySeconds: 300 });
    const start = state('Start Jobs').Retry!.find((r) => r.ErrorEquals.includes('DetectionJobsThrottled'))!;
    expect(start).toMatchObject({ JitterStrategy: 'FULL', MaxDelaySeconds: 900, MaxAttempts: 100 });
    expect(start.ErrorEquals).toEqual(['DetectionJobsThrottled', 'DetectionJobsUnavailable', 'JobStartInProgress']);
  });

  test('jobs are started by the workflow only when ingest could not', () => {
    const choice = state('Jobs Started?');
    expect(choice.Choices).toEqual([{ Variable: '$.jobs', IsPresent: true, Next: 'Detection Jobs Start' }]);
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
