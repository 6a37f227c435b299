import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FailError, JOB_START_RETRYABLE, WorkflowError } from '../../contracts/workflow.js';
import type { ChartflowConfig } from '../config.js';
import { JobPoller, pollWaits } from './job-poller.js';

export interface BatchWorkflowProps {
  readonly config: ChartflowConfig;
  readonly key: kms.IKey;
  readonly table: dynamodb.ITable;
  readonly startJobs: lambda.IFunction;
  readonly collectResults: lambda.IFunction;
  readonly matching: lambda.IFunction;
  readonly finalize: lambda.IFunction;
  readonly matchingWorkflowName: string;
  readonly matchingWorkflowArn: string;
  readonly logRetention: logs.RetentionDays;
}

const CM_STATUS = (path: string) => `$.${path}.ComprehendMedicalAsyncJobProperties.JobStatus`;

/**
 * The batch state machine (Standard, JSONPath): start jobs if ingest could not, wait for both
 * Comprehend Medical jobs in parallel, read their outputs, take a matching turn (one Entity
 * Resolution job per Region: serialized and coalesced through a lock in DynamoDB), record the
 * outcome and announce it. Any failure is caught once, recorded as FAILED with a `Batch Failed`
 * event, and fails the execution; the inputs stay in `batches/<id>/input/` for a redrive. Every step
 * is idempotent, so a redrive may run any of them again.
 */
export class BatchWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BatchWorkflowProps) {
    super(scope, id);
    const { config } = props;

    /**
     * A Lambda task: Lambda service errors retried with jitter, then `namedRetries` (matched
     * before the catch-all below), then — our Lambdas being idempotent — any other failure (a
     * crash, a timeout) twice more.
     */
    const invoke = (name: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string | null, namedRetries: sfn.RetryProps[] = []) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath: resultPath ?? sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
      });
      task.addRetry({
        errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        jitterStrategy: sfn.JitterType.FULL,
      });
      for (const retry of namedRetries) task.addRetry(retry);
      task.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    /** An aws-sdk task with a timeout; throttling and internal errors retried with full jitter and a cap. */
    const sdkCall = (name: string, service: string, action: string, parameters: Record<string, unknown>, iamResources: string[], resultPath: string, retryErrors: string[]) => {
      const task = new tasks.CallAwsService(this, name, {
        service,
        action,
        parameters,
        iamResources,
        iamAction: `${service}:${action.charAt(0).toUpperCase()}${action.slice(1)}`,
        resultPath,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
      });
      task.addRetry({
        errors: [...retryErrors, 'States.Timeout'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        maxAttempts: 8,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };
    const ER_RETRYABLE = ['EntityResolution.ThrottlingException', 'EntityResolution.InternalServerException'];

    // 1. Start the jobs when ingest could not (TooManyRequests, 10 active jobs, a transient error).
    const startJobs = invoke('Start Jobs', props.startJobs, { 'batchId.$': '$.batchId' }, '$.jobs', [{
      errors: [...JOB_START_RETRYABLE],
      interval: Duration.seconds(60),
      backoffRate: 2,
      maxDelay: Duration.minutes(15),
      maxAttempts: 100,
      jitterStrategy: sfn.JitterType.FULL,
    }]);

    // 2. One loop follows both jobs: each poll describes both (3 + 2 transitions), and the schedule
    // is sparse early and lag-bounded later (see pollWaits). A failing job ends the loop at once.
    const cmRetryable = ['ComprehendMedical.TooManyRequestsException', 'ComprehendMedical.InternalServerException', 'ComprehendMedical.ServiceUnavailableException'];
    // Comprehend Medical has no resource-level permissions: Resource '*'.
    const describeEntities = sdkCall('Describe Entities Job', 'comprehendmedical', 'describeEntitiesDetectionV2Job', { 'JobId.$': '$.jobs.entitiesJobId' }, ['*'], '$.entitiesJob', cmRetryable);
    const describeSnomed = sdkCall('Describe SNOMED CT Job', 'comprehendmedical', 'describeSNOMEDCTInferenceJob', { 'JobId.$': '$.jobs.snomedJobId' }, ['*'], '$.snomedJob', cmRetryable);
    const cmFailures = (path: string) => [
      { status: 'FAILED', error: FailError.JobFailed, causePath: `$.${path}.ComprehendMedicalAsyncJobProperties.Message` },
      { status: 'STOPPED', error: FailError.JobStopped, causePath: CM_STATUS(path) },
    ];
    const waitForJobs = new JobPoller(this, 'Detection Jobs', {
      jobs: [
        { label: 'Entities', describe: describeEntities, statusPath: CM_STATUS('entitiesJob'), failed: cmFailures('entitiesJob') },
        { label: 'SNOMED CT', describe: describeSnomed, statusPath: CM_STATUS('snomedJob'), failed: cmFailures('snomedJob') },
      ],
      pending: ['SUBMITTED', 'IN_PROGRESS', 'STOP_REQUESTED'],
      succeeded: ['COMPLETED', 'PARTIAL_SUCCESS'],
      schedule: config.detectionPoll,
      // Both jobs' statuses in one write: a failing job's sibling is recorded as last seen.
      onStatusChange: (stateId) => {
        const record = new tasks.DynamoUpdateItem(this, stateId, {
          table: props.table,
          key: {
            pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('BATCH#{}', sfn.JsonPath.stringAt('$.batchId'))),
            sk: tasks.DynamoAttributeValue.fromString('BATCH'),
          },
          updateExpression: 'SET entitiesJob.#status = :entities, entitiesJob.submitTime = :entitiesSubmit, snomedJob.#status = :snomed, snomedJob.submitTime = :snomedSubmit',
          expressionAttributeNames: { '#status': 'status' },
          expressionAttributeValues: {
            ':entities': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(CM_STATUS('entitiesJob'))),
            ':entitiesSubmit': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.entitiesJob.ComprehendMedicalAsyncJobProperties.SubmitTime'))),
            ':snomed': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(CM_STATUS('snomedJob'))),
            ':snomedSubmit': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.snomedJob.ComprehendMedicalAsyncJobProperties.SubmitTime'))),
          },
          resultPath: sfn.JsonPath.DISCARD,
          taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
        });
        record.addRetry({ errors: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException', 'DynamoDB.InternalServerErrorException', 'DynamoDB.AmazonDynamoDBException'], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
        return record;
      },
      // What collect-results needs (DetectionJobResult per job); the Describe outputs are dropped.
      output: { parameters: { entities: this.jobSummary('entitiesJob'), snomed: this.jobSummary('snomedJob') }, resultPath: '$.detection' },
    });

    // 3. Read outputs, write identity records, store per-document counts.
    const collect = invoke('Collect Results', props.collectResults, {
      'batchId.$': '$.batchId',
      'entities.$': '$.detection.entities',
      'snomed.$': '$.detection.snomed',
    }, '$.results', [
      { errors: [WorkflowError.OutputsUnreadable], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL },
    ]);

    // 4. Matching: take a turn, or learn that another run covered this batch.
    const beginPayload = { action: 'begin', 'batchId.$': '$.batchId', 'owner.$': '$$.Execution.Name' };
    const beginMatching = invoke('Begin Matching', props.matching, beginPayload, '$.matching');
    const checkTurn = invoke('Check Matching Turn', props.matching, beginPayload, '$.matching');
    const waitForTurn = new JobPoller(this, 'Matching Turn', {
      jobs: [{ describe: checkTurn, statusPath: '$.matching.state', failed: [] }],
      pending: ['BUSY'],
      succeeded: ['MATCHED', 'ACQUIRED'],
      schedule: config.matchingTurnPoll,
    });

    const startMatching = sdkCall('Start Matching Job', 'entityresolution', 'startMatchingJob', { WorkflowName: props.matchingWorkflowName }, [props.matchingWorkflowArn], '$.matchingJob', ER_RETRYABLE);
    const releaseMatching = invoke('Release Matching Turn', props.matching, { action: 'release', 'runId.$': '$.matching.runId', 'owner.$': '$$.Execution.Name' }, null);
    // A job we did not start is running (ConflictException): give the turn back and wait.
    startMatching.addCatch(releaseMatching, { errors: ['EntityResolution.ConflictException'], resultPath: '$.conflict' });

    const matchingStarted = invoke('Record Matching Job', props.matching, {
      action: 'started', 'runId.$': '$.matching.runId', 'jobId.$': '$.matchingJob.JobId',
    }, null);

    const getMatchingJob = sdkCall('Get Matching Job', 'entityresolution', 'getMatchingJob', {
      WorkflowName: props.matchingWorkflowName,
      'JobId.$': '$.matchingJob.JobId',
    }, [props.matchingWorkflowArn], '$.matchingJobStatus', ER_RETRYABLE);
    const matchingPoller = new JobPoller(this, 'Matching', {
      jobs: [{ describe: getMatchingJob, statusPath: '$.matchingJobStatus.Status', failed: [] }],
      pending: ['QUEUED', 'RUNNING'],
      succeeded: ['SUCCEEDED', 'FAILED'], // both are recorded by Finish Matching first
      schedule: config.matchingPoll,
    });
    const finishMatching = invoke('Finish Matching', props.matching, {
      action: 'finish', 'runId.$': '$.matching.runId', 'owner.$': '$$.Execution.Name', 'job.$': '$.matchingJobStatus',
    }, '$.matchingResult');
    const matchingSucceeded = new sfn.Choice(this, 'Matching Succeeded?');
    const matchingFailed = new sfn.Fail(this, 'Matching Failed', { error: FailError.MatchingFailed, causePath: '$.matchingResult.errorMessage' });

    // 5. Record the outcome and announce it.
    const complete = invoke('Complete Batch', props.finalize, {
      action: 'complete',
      'batchId.$': '$.batchId',
      'results.$': '$.results',
      matching: { 'runId.$': '$.matching.runId', 'jobId.$': '$.matching.jobId' },
    }, '$.completed');

    const turn = new sfn.Choice(this, 'Matching Turn?')
      .when(sfn.Condition.stringEquals('$.matching.state', 'MATCHED'), complete)
      .when(sfn.Condition.stringEquals('$.matching.state', 'ACQUIRED'), startMatching)
      .otherwise(waitForTurn);
    waitForTurn.next(turn);
    releaseMatching.next(waitForTurn);
    startMatching.next(matchingStarted);
    matchingStarted.next(matchingPoller);
    matchingPoller.next(finishMatching);
    finishMatching.next(matchingSucceeded);
    // After our own run, ask again: Begin Matching now answers MATCHED with the run's ids.
    matchingSucceeded.when(sfn.Condition.stringEquals('$.matchingResult.status', 'SUCCEEDED'), beginMatching);
    matchingSucceeded.otherwise(matchingFailed);

    const jobsKnown = new sfn.Choice(this, 'Jobs Started?')
      .when(sfn.Condition.isPresent('$.jobs'), waitForJobs)
      .otherwise(startJobs);
    startJobs.next(waitForJobs);
    waitForJobs.next(collect);
    collect.next(beginMatching);
    beginMatching.next(turn);

    const pipeline = new sfn.Parallel(this, 'Process Batch', { resultPath: sfn.JsonPath.DISCARD });
    pipeline.branch(jobsKnown);

    // Catch-all: record FAILED, put `Batch Failed`, and fail the execution (alarms count it).
    const recordFailure = invoke('Record Failure', props.finalize, { action: 'fail', 'batchId.$': '$.batchId', 'error.$': '$.error' }, null);
    pipeline.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    recordFailure.next(new sfn.Fail(this, 'Batch Failed', { error: 'BatchFailed', causePath: '$.error.Cause' }));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const total = (s: number[]) => s.reduce((a, b) => a + b, 0);
    const timeoutSeconds =
      total(pollWaits(config.detectionPoll)) + total(pollWaits(config.matchingTurnPoll)) + total(pollWaits(config.matchingPoll)) + 24 * 3600;
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(pipeline),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      timeout: Duration.seconds(timeoutSeconds),
      comment: 'Chartflow batch: Comprehend Medical jobs -> identity records -> matching -> metrics -> events',
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(props.key),
    });
  }

  /** A finished job's Describe output, reduced to what collect-results needs (DetectionJobResult). */
  private jobSummary(path: string) {
    const p = `$.${path}.ComprehendMedicalAsyncJobProperties`;
    return {
      'jobId.$': `${p}.JobId`,
      'status.$': `${p}.JobStatus`,
      'outputS3Bucket.$': `${p}.OutputDataConfig.S3Bucket`,
      'outputS3Key.$': `${p}.OutputDataConfig.S3Key`,
      // Present once a job has ended, which every job reaching this point has.
      'endTime.$': `${p}.EndTime`,
    };
  }
}

