import { Aws, Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Prefix } from '../../contracts/layout.js';
import type { ChartflowConfig } from '../config.js';

/**
 * S3 ObjectCreated under `inbox/` -> SQS (the data key, a DLQ) -> the ingest function, which
 * receives up to `batchSize` notifications gathered for up to `batchingWindowSeconds` and reports
 * partial failures. The queue's visibility timeout is six times the function's timeout (the AWS
 * guidance), so a message is not redelivered while an invocation may still be working on it.
 */
export class Ingest extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { config: ChartflowConfig; key: kms.IKey; bucket: s3.Bucket; ingestFunction: lambda.IFunction }) {
    super(scope, id);
    const { config } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Notifications', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(config.ingestTimeoutSeconds * 6),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
    });
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new EncryptedQueueDestination(this.queue, props.key), { prefix: Prefix.inbox });

    props.ingestFunction.addEventSource(new SqsEventSource(this.queue, {
      batchSize: config.batchSize,
      maxBatchingWindow: config.batchingWindowSeconds > 0 ? Duration.seconds(config.batchingWindowSeconds) : undefined,
      reportBatchItemFailures: true,
      maxConcurrency: config.ingestMaxConcurrency,
    }));
  }
}

/**
 * Like `s3n.SqsDestination`, but without its key-policy grant conditioned on the bucket's ARN:
 * the bucket is encrypted with the same key, so that grant makes key and bucket depend on each
 * other (a CloudFormation cycle). The queue policy keeps the bucket-ARN condition; the key policy
 * lets S3 use the key for this account only.
 */
class EncryptedQueueDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue, private readonly key: kms.IKey) {}

  bind(_scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resources: [this.queue.queueArn],
      conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}
