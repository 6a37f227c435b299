import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { HouseFunction } from './constructs/house-function.js';

/**
 * Every cdk-nag finding that is acknowledged rather than fixed, in one place for an auditor:
 * one finding at a time, on the narrowest construct, with the reason. (Storage's own
 * acknowledgements live in storage.ts, next to the buckets they concern.)
 */
export interface NagParts {
  functions: HouseFunction[];
  /** Functions whose policy has Resource `*` only for X-Ray (and, for ingest/start-jobs, Comprehend Medical). */
  bucket: s3.IBucket;
  /** Roles whose S3 object permissions are scoped to prefixes: role -> the prefixes, as in the policy. */
  prefixScopedRoles: Array<{ role: iam.Role; prefixes: string[] }>;
  serviceRoles: iam.Role[];
  stateMachine: sfn.StateMachine;
  lambdaTargets: HouseFunction[];
  table: dynamodb.Table;
  ruleDeadLetterQueue: sqs.Queue;
}

const ack = (construct: IConstruct, id: string, reason: string) => Validations.of(construct).acknowledge({ id, reason });
const policyOf = (role: iam.Role) => role.node.findChild('DefaultPolicy').node.defaultChild!;
const logicalId = (construct: IConstruct) => Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

const INLINE_REASON =
  'Generated, resource-scoped statements that belong to this one role and are created and deleted with it; a customer-managed policy would add a second resource to keep in sync without narrowing anything.';

export function acknowledgeFindings(parts: NagParts): void {
  for (const f of parts.functions) {
    const fn = f.function.node.defaultChild!;
    ack(fn, 'AwsSolutions-L1', 'Node.js 22 is a supported AWS Lambda LTS runtime and the Node.js the offline runtime and every test run on: what is tested is what is deployed. Moving to 24 is one constant in house-function.ts plus the pinned node package.');
    ack(fn, 'HIPAA.Security-LambdaInsideVPC', 'The functions call only AWS APIs over TLS with IAM auth and hold no network listener; a VPC adds NAT or endpoints and no protection for this data path. Deployers who require it can attach VPC endpoints.');
    ack(fn, 'HIPAA.Security-LambdaDLQ', 'Never invoked asynchronously: ingest is an SQS event source (its queue has a DLQ) and the others are Step Functions tasks (retried, caught and recorded by the workflow).');
    ack(fn, 'HIPAA.Security-LambdaConcurrency', 'Concurrency is bounded by the SQS event source maximum concurrency (ingest) and by the workflow; reserved concurrency would break deploys in accounts at the default 10 unreserved floor.');
    const policy = policyOf(f.role);
    ack(policy, 'AwsSolutions-IAM5[Resource::*]', 'Only for actions without resource-level permissions: xray:PutTraceSegments/PutTelemetryRecords (tracing) and, for ingest and start-jobs, comprehendmedical:Start*/List* jobs.');
    ack(policy, 'HIPAA.Security-IAMNoInlinePolicy', INLINE_REASON);
  }
  for (const { role, prefixes } of parts.prefixScopedRoles) {
    for (const prefix of prefixes) {
      ack(policyOf(role), `AwsSolutions-IAM5[Resource::<${logicalId(parts.bucket)}.Arn>/${prefix}]`,
        `Object keys are created at run time; access is limited to the ${prefix} prefix of the documents bucket, the narrowest scope S3 offers.`);
    }
  }
  for (const role of parts.serviceRoles) ack(policyOf(role), 'HIPAA.Security-IAMNoInlinePolicy', INLINE_REASON);

  const smPolicy = policyOf(parts.stateMachine.role as iam.Role);
  ack(smPolicy, 'AwsSolutions-IAM5[Resource::*]', 'Only for actions without resource-level permissions: comprehendmedical:Describe*Job, X-Ray tracing, and the CloudWatch Logs delivery actions Step Functions logging requires.');
  ack(smPolicy, 'HIPAA.Security-IAMNoInlinePolicy', INLINE_REASON);
  for (const f of parts.lambdaTargets) {
    ack(smPolicy, `AwsSolutions-IAM5[Resource::<${logicalId(f.function)}.Arn>:*]`, 'lambda:InvokeFunction on this one function and its versions, as the CDK LambdaInvoke task grants it.');
  }
  ack(parts.table.node.defaultChild!, 'HIPAA.Security-DynamoDBInBackupPlan', 'Point-in-time recovery (35 days) is on and the table is retained on stack deletion; an AWS Backup plan is an organisation-wide choice (vaults, retention, cross-account copies) left to the deployer.');
  ack(parts.ruleDeadLetterQueue.node.defaultChild!, 'AwsSolutions-SQS3', 'This queue IS a dead-letter queue: the DLQ of the Batch Failed -> alarm topic rule target (cdk-nag only recognises DLQs of other queues).');
}

/** Findings on constructs CDK itself adds (the bucket-notification custom resource). */
export function acknowledgeCdkHelperFindings(stack: Stack): void {
  for (const child of stack.node.findAll()) {
    if (/\/Notifications\/HandlerPolicy$/.test(child.node.path)) {
      ack(child.node.defaultChild ?? child, 'HIPAA.Security-IAMNoInlinePolicy', 'CDK-provided custom resource that sets the bucket notification at deploy time; its policy (s3:PutBucketNotification on this bucket) is generated by CDK.');
    }
    if (/BucketNotificationsHandler[^/]*\/Role$/.test(child.node.path)) {
      ack(child, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'CDK-provided custom resource run only at deploy time; the managed policy lets it write its own logs.');
      ack(child, 'AwsSolutions-IAM5[Resource::*]', 'CDK-provided custom resource run only at deploy time.');
    }
  }
}
