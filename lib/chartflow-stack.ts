import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Env } from '../contracts/env.js';
import { Prefix } from '../contracts/layout.js';
import { STATUS_INDEX } from '../contracts/table.js';
import { configFromContext, type ChartflowConfig } from './config.js';
import { BatchWorkflow } from './constructs/batch-workflow.js';
import { HouseFunction } from './constructs/house-function.js';
import { Ingest } from './constructs/ingest.js';
import { Matching } from './constructs/matching.js';
import { MetricsTable } from './constructs/metrics-table.js';
import { Monitoring } from './constructs/monitoring.js';
import { Notifications } from './constructs/notifications.js';
import { Storage } from './constructs/storage.js';
import { acknowledgeCdkHelperFindings, acknowledgeFindings } from './nag.js';

export interface ChartflowStackProps extends StackProps {
  /** Overrides of the context configuration (tests use this). */
  readonly config?: Partial<ChartflowConfig>;
}

/**
 * Composition only: the constructs of each concern, and — in one place — the grants and the
 * environment that connect them.
 */
export class ChartflowStack extends Stack {
  readonly config: ChartflowConfig;

  constructor(scope: Construct, id: string, props: ChartflowStackProps = {}) {
    super(scope, id, props);
    const config = (this.config = configFromContext(this.node, props.config));
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const storage = new Storage(this, 'Storage', config);
    const { key, documents: bucket } = storage;
    const { table } = new MetricsTable(this, 'Metrics', { key });
    const notifications = new Notifications(this, 'Notifications', { key, archiveRetentionDays: config.eventArchiveRetentionDays });
    const matching = new Matching(this, 'Matching', { bucket, key });

    // The role Comprehend Medical assumes for batch jobs: read batch inputs, write batch outputs.
    const comprehendRole = new iam.Role(this, 'ComprehendDataAccessRole', {
      assumedBy: new iam.ServicePrincipal('comprehendmedical.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Comprehend Medical reads batches/*/input and writes batches/*/output',
    });
    comprehendRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${Prefix.batches}*/input/*`)] }));
    comprehendRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${Prefix.batches}*/output/*`)] }));
    comprehendRole.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${Prefix.batches}*`] } },
    }));
    comprehendRole.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));

    const fn = (name: string, description: string, extra: { timeout?: Duration; memorySize?: number } = {}) =>
      new HouseFunction(this, `${name}Function`, { lambdaName: name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase(), description, key, logRetention, ...extra });
    const ingestFn = fn('Ingest', 'Claims, validates and batches dropped notes; starts the Comprehend Medical jobs', {
      timeout: Duration.seconds(config.ingestTimeoutSeconds),
      memorySize: 1024,
    });
    const startJobsFn = fn('StartJobs', 'Starts the Comprehend Medical jobs of a batch (after throttling)');
    const collectFn = fn('CollectResults', 'Reads job outputs, writes identity records and per-document counts', { timeout: Duration.minutes(5), memorySize: 1024 });
    const matchingFn = fn('Matching', 'Serializes and coalesces Entity Resolution runs; records their metrics');
    const finalizeFn = fn('Finalize', 'Records the outcome of a batch and announces it');

    const workflow = new BatchWorkflow(this, 'BatchWorkflow', {
      config,
      key,
      table,
      startJobs: startJobsFn.function,
      collectResults: collectFn.function,
      matching: matchingFn.function,
      finalize: finalizeFn.function,
      matchingWorkflowName: matching.workflowName,
      matchingWorkflowArn: matching.workflowArn,
      logRetention,
    });
    const ingest = new Ingest(this, 'Ingest', { config, key, bucket, ingestFunction: ingestFn.function });
    const monitoring = new Monitoring(this, 'Monitoring', {
      key,
      stateMachine: workflow.stateMachine,
      deadLetterQueues: [ingest.deadLetterQueue],
      bus: notifications.bus,
    });

    // ---- Environment -----------------------------------------------------------------------
    const common = { [Env.TableName]: table.tableName, [Env.DocumentsBucket]: bucket.bucketName, [Env.EventBusName]: notifications.bus.eventBusName };
    const detection = {
      [Env.DataAccessRoleArn]: comprehendRole.roleArn,
      [Env.KmsKeyArn]: key.keyArn,
    };
    for (const [name, value] of Object.entries({
      ...common, ...detection,
      [Env.BatchStateMachineArn]: workflow.stateMachine.stateMachineArn,
      [Env.MaxDocumentBytes]: String(config.maxDocumentBytes),
      [Env.MaxBatchDocuments]: String(config.batchSize),
    })) ingestFn.function.addEnvironment(name, value);
    for (const [name, value] of Object.entries({ ...common, ...detection })) startJobsFn.function.addEnvironment(name, value);
    for (const [name, value] of Object.entries({ ...common, [Env.KmsKeyArn]: key.keyArn })) collectFn.function.addEnvironment(name, value);
    for (const [name, value] of Object.entries({
      ...common,
      [Env.MatchingWorkflowName]: matching.workflowName,
      [Env.MatchingLockSeconds]: String(config.matchingLockSeconds),
    })) matchingFn.function.addEnvironment(name, value);
    for (const [name, value] of Object.entries({ ...common, [Env.MatchingWorkflowName]: matching.workflowName })) finalizeFn.function.addEnvironment(name, value);

    // ---- Grants: exact actions on exact resources (no CDK grant helpers: they add wildcards) ---
    const allow = (f: HouseFunction, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>) =>
      f.role.addToPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`);
    // Ingest: read and move documents out of inbox/, write batch inputs and rejected/.
    allow(ingestFn, ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'], [objects(Prefix.inbox)]);
    allow(ingestFn, ['s3:PutObject'], [bucket.arnForObjects(`${Prefix.batches}*/input/*`), objects(Prefix.rejected)]);
    // Without ListBucket, HeadObject of a deleted object answers 403 instead of 404 (NOT_FOUND).
    allow(ingestFn, ['s3:ListBucket'], [bucket.bucketArn], { StringLike: { 's3:prefix': [`${Prefix.inbox}*`] } });
    // Results: read batch inputs (identity context) and outputs, list them, write records/.
    allow(collectFn, ['s3:GetObject'], [objects(Prefix.batches)]);
    allow(collectFn, ['s3:ListBucket'], [bucket.bucketArn], { StringLike: { 's3:prefix': [`${Prefix.batches}*`] } });
    allow(collectFn, ['s3:PutObject'], [objects(Prefix.records)]);
    const functions = [ingestFn, startJobsFn, collectFn, matchingFn, finalizeFn];
    for (const f of functions) {
      allow(f, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], [
        table.tableArn,
        `${table.tableArn}/index/${STATUS_INDEX}`,
      ]);
      allow(f, ['events:PutEvents'], [notifications.bus.eventBusArn]);
      allow(f, ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], [key.keyArn]);
    }
    for (const f of [ingestFn, startJobsFn]) {
      // Comprehend Medical has no resource-level permissions for these actions.
      allow(f, [
        'comprehendmedical:StartEntitiesDetectionV2Job', 'comprehendmedical:StartSNOMEDCTInferenceJob',
        'comprehendmedical:ListEntitiesDetectionV2Jobs', 'comprehendmedical:ListSNOMEDCTInferenceJobs',
        'comprehendmedical:DescribeEntitiesDetectionV2Job', 'comprehendmedical:DescribeSNOMEDCTInferenceJob',
      ], ['*']);
      allow(f, ['iam:PassRole'], [comprehendRole.roleArn], { StringEquals: { 'iam:PassedToService': 'comprehendmedical.amazonaws.com' } });
    }
    allow(ingestFn, ['states:StartExecution'], [workflow.stateMachine.stateMachineArn]);
    // Ingest reads the claims of a whole SQS batch at once (document items, the table only).
    allow(ingestFn, ['dynamodb:BatchGetItem'], [table.tableArn]);
    acknowledgeFindings({
      functions,
      bucket,
      prefixScopedRoles: [
        { role: ingestFn.role, prefixes: [`${Prefix.inbox}*`, `${Prefix.batches}*/input/*`, `${Prefix.rejected}*`] },
        { role: collectFn.role, prefixes: [`${Prefix.batches}*`, `${Prefix.records}*`] },
        { role: comprehendRole, prefixes: [`${Prefix.batches}*/input/*`, `${Prefix.batches}*/output/*`] },
        { role: matching.role, prefixes: [`${Prefix.records}*`, `${Prefix.matches}*`] },
      ],
      serviceRoles: [comprehendRole, matching.role, monitoring.ruleRole],
      stateMachine: workflow.stateMachine,
      lambdaTargets: [startJobsFn, collectFn, matchingFn, finalizeFn],
      table,
      ruleDeadLetterQueue: monitoring.ruleDeadLetterQueue,
    });
    acknowledgeCdkHelperFindings(this);

    new CfnOutput(this, 'DocumentsBucketName', { value: bucket.bucketName, description: 'Drop notes under inbox/' });
    new CfnOutput(this, 'EventBusName', { value: notifications.bus.eventBusName });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: `Batches, documents, matching runs (GSI ${STATUS_INDEX})` });
    new CfnOutput(this, 'BatchStateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'MatchingWorkflowName', { value: matching.workflowName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn, description: 'Subscribe the on-call address' });
  }
}
