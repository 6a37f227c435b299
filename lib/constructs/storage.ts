import { ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Prefix } from '../../contracts/layout.js';
import type { ChartflowConfig } from '../config.js';

/**
 * The data key and the documents bucket (see contracts/layout.ts for its prefixes).
 * Lifecycle, in words a user can check against the console:
 * - `inbox/`: a dropped note is copied to `batches/<id>/input/` on ingest; the original expires
 *   after `inboxRetentionDays`.
 * - `rejected/`: expires after `rejectedRetentionDays`.
 * - `batches/`, `records/`, `matches/`: kept (they are the results).
 * - every prefix: replaced or deleted versions expire after `noncurrentVersionRetentionDays`;
 *   unfinished multipart uploads are aborted after a day.
 */
export class Storage extends Construct {
  readonly key: kms.Key;
  readonly documents: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, config: ChartflowConfig) {
    super(scope, id);
    this.key = new kms.Key(this, 'DataKey', {
      description: 'Chartflow: encrypts clinical notes, results, table, queues, logs and events',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the functions' and the workflow's log groups with this key: without
    // this grant, creating a log group with KmsKeyId fails. Limited to this account's log groups.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      // The action set of the CloudWatch Logs guide ("Encrypt log data in CloudWatch Logs using AWS KMS").
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }));

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access log delivery does not support SSE-KMS target buckets: SSE-S3 it is.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });

    this.documents = new s3.Bucket(this, 'Documents', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'documents/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-ingested-inbox', prefix: Prefix.inbox, expiration: Duration.days(config.inboxRetentionDays) },
        { id: 'expire-rejected', prefix: Prefix.rejected, expiration: Duration.days(config.rejectedRetentionDays) },
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(config.noncurrentVersionRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
      ],
    });

    const accessLogs = this.accessLogs.node.defaultChild!;
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would create a delivery loop.',
    });
    Validations.of(accessLogs).acknowledge({
      id: 'HIPAA.Security-S3BucketLoggingEnabled',
      reason: 'This is the server access log bucket itself; logging it into itself would create a delivery loop.',
    });
    Validations.of(accessLogs).acknowledge({
      id: 'HIPAA.Security-S3DefaultEncryptionKMS',
      reason: 'S3 server access log delivery supports only SSE-S3 on the target bucket; logs hold request metadata, no note text.',
    });
    for (const bucket of [this.accessLogs, this.documents]) {
      const resource = bucket.node.defaultChild!;
      Validations.of(resource).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason: 'Cross-Region replication is a deployment choice (data residency); durability comes from S3, versioning and retention.',
      });
      Validations.of(resource).acknowledge({
        id: 'HIPAA.Security-S3BucketDefaultLockEnabled',
        reason: 'Object Lock would forbid the lifecycle expiry of inbox/ and rejected/ that users rely on; versioning keeps overwritten data.',
      });
    }
  }
}
