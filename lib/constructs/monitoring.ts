import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../../contracts/events.js';

/**
 * What wakes an operator: failed or timed-out batch executions, anything in a dead-letter queue,
 * and every `Batch Failed` event — all to one encrypted SNS topic that the team subscribes to.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly ruleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { key: kms.IKey; stateMachine: sfn.IStateMachine; deadLetterQueues: sqs.IQueue[]; bus: events.IEventBus }) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { masterKey: props.key, enforceSSL: true, displayName: 'Chartflow alarms' });
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

    new events.Rule(this, 'BatchFailedToAlarms', {
      eventBus: props.bus,
      description: 'Every Batch Failed event reaches the alarm topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: [DetailType.BatchFailed] },
      targets: [new targets.SnsTopic(this.topic, { deadLetterQueue: this.ruleDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
  }
}
