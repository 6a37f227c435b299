import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../../contracts/events.js';

/**
 * What wakes an operator: failed or timed-out batch executions, anything in a dead-letter queue,
 * and every `Batch Failed` event — all to one encrypted SNS topic that the team subscribes to.
 *
 * The topic and the rule's DLQ use the data key, so each publisher is granted the key, scoped to
 * this account: CloudWatch alarms by key and topic policy (conditioned on the alarm ARNs), the
 * EventBridge rule through an execution role (SNS does not support aws:SourceArn conditions in a
 * key policy for EventBridge, so a service-principal grant could not be scoped).
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly ruleDeadLetterQueue: sqs.Queue;
  readonly ruleRole: iam.Role;

  constructor(scope: Construct, id: string, props: { key: kms.IKey; stateMachine: sfn.IStateMachine; deadLetterQueues: sqs.IQueue[]; bus: events.IEventBus }) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { masterKey: props.key, enforceSSL: true, displayName: 'Chartflow alarms' });
    const stack = Stack.of(this);
    const thisAccount = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
    const fromAlarms = {
      ...thisAccount,
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    };
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccountPublish',
      principals: [cloudwatchPrincipal],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: fromAlarms,
    }));
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccountPublishToTheEncryptedTopic',
      principals: [cloudwatchPrincipal],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: fromAlarms,
    }));
    const alarmAction = new actions.SnsAction(this.topic);

    const executionAlarm = (name: string, metric: cloudwatch.Metric, description: string) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(alarmAction);
      return alarm;
    };
    executionAlarm('ExecutionsFailed', props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }), 'A batch execution failed: see the Batch Failed event and redrive it');
    executionAlarm('ExecutionsTimedOut', props.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }), 'A batch execution timed out');
    this.ruleDeadLetterQueue = new sqs.Queue(this, 'RuleDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    [...props.deadLetterQueues, this.ruleDeadLetterQueue].forEach((queue, i) =>
      executionAlarm(`DeadLetters${i}`, queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 'Messages in a dead-letter queue need an operator: inspect and redrive'),
    );

    // The rule publishes with its own role: exact actions on the topic and the key.
    this.ruleRole = new iam.Role(this, 'BatchFailedRuleRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', { conditions: thisAccount }),
      description: 'Chartflow: the Batch Failed rule publishes to the alarm topic',
    });
    this.ruleRole.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    this.ruleRole.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.key.keyArn] }));
    // Undeliverable events go to the DLQ, which EventBridge writes as the service (the queue policy
    // admits this rule only). Its key use is limited to SQS requests: the queue's ARN cannot be named
    // here (the queue depends on the key), and SNS documents that source conditions are not passed
    // on for EventBridge deliveries to encrypted destinations.
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeWritesDeadLetterQueuesThroughSqs',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
    }));
    new events.Rule(this, 'BatchFailedToAlarms', {
      eventBus: props.bus,
      description: 'Every Batch Failed event reaches the alarm topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: [DetailType.BatchFailed] },
      targets: [new TopicThroughRole(this.topic, this.ruleRole, this.ruleDeadLetterQueue)],
    });
  }
}

/**
 * An SNS topic as a rule target, published through an execution role (AWS's recommendation for
 * every EventBridge target since 2025) with a DLQ, 8 retries and a 24-hour event age. Unlike
 * `targets.SnsTopic`, it adds no service-principal statement to the topic or key policy and no
 * `kms:GenerateDataKey*` wildcard to the role: the role's policy is written by the caller.
 */
class TopicThroughRole implements events.IRuleTarget {
  constructor(private readonly topic: sns.ITopic, private readonly role: iam.IRole, private readonly deadLetterQueue: sqs.IQueue) {}

  bind(rule: Parameters<events.IRuleTarget['bind']>[0]): events.RuleTargetConfig {
    this.deadLetterQueue.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.deadLetterQueue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': events.CfnRule.arnForRule(rule) } },
    }));
    return {
      arn: this.topic.topicArn,
      role: this.role,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: { maximumRetryAttempts: 8, maximumEventAgeInSeconds: Duration.hours(24).toSeconds() },
      targetResource: this.topic,
    };
  }
}
