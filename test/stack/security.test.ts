/**
 * Security of the stack (issue 5, item 5), asserted on the synthesized template. Each rule is a
 * small checker over template JSON that returns its findings; the real template must give none,
 * and every checker is shown to flag a deliberately broken copy (or a small bad stack), so that a
 * checker that silently stopped checking would fail here too.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { flatten, synthesize } from '../support/stack.js';

const { app, template } = synthesize();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface CfnResource { Type: string; Properties?: JsonObject; Metadata?: JsonObject }
interface CfnTemplate { Resources: Record<string, CfnResource> }
interface Statement { Sid?: string; Effect: string; Action?: string | string[]; Resource?: Json; NotAction?: Json; NotResource?: Json; Condition?: Record<string, Record<string, Json>>; Principal?: Json }

const real = template.toJSON() as CfnTemplate;
const copy = (): CfnTemplate => structuredClone(real);
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: Json | undefined, ...path: Array<string | number>): Json | undefined =>
  path.reduce<Json | undefined>((at, k) => (Array.isArray(at) && typeof k === 'number' ? at[k] : isObject(at) && typeof k === 'string' ? at[k] : undefined), v);
const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const statementsOf = (doc: Json | undefined) => list(get(doc, 'Statement') as Json[] | undefined) as unknown as Statement[];

/** The stack's one customer managed key (every encryption setting must point at it). */
const [keyId] = ofType(real, 'AWS::KMS::Key').map(([id]) => id);
if (!keyId) throw new Error('no KMS key in the template');
const isKey = (v: Json | undefined, id = keyId) => JSON.stringify(v) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }) || JSON.stringify(v) === JSON.stringify({ Ref: id });

// ---- Encryption -----------------------------------------------------------------------------

/** Buckets that cannot use the key, with the reason (reviewed; anything else must use the key). */
const NOT_KMS_BUCKETS: Record<string, string> = {
  StorageAccessLogs: 'S3 server access log delivery writes only to SSE-S3 target buckets (S3 user guide, "Enabling Amazon S3 server access logging"); the logs hold request metadata, never note text.',
};

/** Where each data-holding resource type names its key. */
const KEY_OF: Record<string, (p: JsonObject) => Array<Json | undefined>> = {
  'AWS::S3::Bucket': (p) => list(get(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration') as Json[] | undefined).map((c) =>
    get(c, 'ServerSideEncryptionByDefault', 'SSEAlgorithm') === 'aws:kms' ? get(c, 'ServerSideEncryptionByDefault', 'KMSMasterKeyID') : undefined).concat(get(p, 'BucketEncryption') ? [] : [undefined]),
  'AWS::SQS::Queue': (p) => [p.KmsMasterKeyId],
  'AWS::SNS::Topic': (p) => [p.KmsMasterKeyId],
  'AWS::Events::EventBus': (p) => [p.KmsKeyIdentifier],
  'AWS::Events::Archive': (p) => [p.KmsKeyIdentifier],
  'AWS::Logs::LogGroup': (p) => [p.KmsKeyId],
  'AWS::DynamoDB::Table': (p) => [get(p, 'SSESpecification', 'SSEEnabled') === true && get(p, 'SSESpecification', 'SSEType') === 'KMS' ? get(p, 'SSESpecification', 'KMSMasterKeyId') : undefined],
  'AWS::StepFunctions::StateMachine': (p) => [get(p, 'EncryptionConfiguration', 'Type') === 'CUSTOMER_MANAGED_KMS_KEY' ? get(p, 'EncryptionConfiguration', 'KmsKeyId') : undefined],
  'AWS::EntityResolution::MatchingWorkflow': (p) => list(p.OutputSourceConfig as Json[] | undefined).map((o) => get(o, 'KMSArn')),
  // Environment variables (table, bucket, role and key names) of the Chartflow functions.
  'AWS::Lambda::Function': (p) => [p.KmsKeyArn],
};
/** Types that hold no data of their own (definitions, wiring, policies, metrics). */
const NO_DATA_TYPES = new Set([
  'AWS::KMS::Key', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy',
  'AWS::Events::Rule', 'AWS::Lambda::EventSourceMapping', 'AWS::CloudWatch::Alarm', 'AWS::EventSchemas::Registry', 'AWS::EventSchemas::Schema',
  'AWS::Glue::Database', 'AWS::Glue::Table', 'AWS::EntityResolution::SchemaMapping', 'Custom::S3BucketNotifications',
]);

function encryptionFindings(t: CfnTemplate): string[] {
  const findings: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const keyOf = KEY_OF[r.Type];
    if (!keyOf) {
      if (!NO_DATA_TYPES.has(r.Type)) findings.push(`${id}: ${r.Type} is not classified: say where it stores data and with which key`);
      continue;
    }
    // CDK's own deploy-time helper functions carry no environment (they are not Chartflow's).
    if (r.Type === 'AWS::Lambda::Function' && get(r.Metadata, 'chartflow:entry') === undefined) continue;
    if (r.Type === 'AWS::S3::Bucket' && Object.keys(NOT_KMS_BUCKETS).some((prefix) => id.startsWith(prefix))) continue;
    const keys = keyOf(r.Properties ?? {});
    if (keys.length === 0 || keys.some((k) => !isKey(k))) findings.push(`${id}: ${r.Type} not encrypted with the stack's key (${JSON.stringify(keys)})`);
  }
  for (const [id, k] of ofType(t, 'AWS::KMS::Key')) if (k.Properties?.EnableKeyRotation !== true) findings.push(`${id}: key rotation off`);
  return findings;
}

describe('encryption with the stack key', () => {
  test('every bucket, queue, topic, bus, archive, log group, table, state machine, workflow output and function environment', () => {
    expect(encryptionFindings(real)).toEqual([]);
    expect(ofType(real, 'AWS::Events::Archive')).toHaveLength(1);
  });

  test('the only exception is the access-log bucket, which is SSE-S3 and holds no note text', () => {
    const exceptions = ofType(real, 'AWS::S3::Bucket').filter(([id]) => Object.keys(NOT_KMS_BUCKETS).some((p) => id.startsWith(p)));
    expect(exceptions).toHaveLength(1);
    expect(get(exceptions[0]![1].Properties, 'BucketEncryption', 'ServerSideEncryptionConfiguration', 0, 'ServerSideEncryptionByDefault', 'SSEAlgorithm')).toBe('AES256');
  });

  test('the checker flags SSE-S3, SQS-managed, AWS-owned and missing keys, and unclassified resources', () => {
    const t = copy();
    const [bucketId, bucket] = ofType(t, 'AWS::S3::Bucket').find(([id]) => id.startsWith('StorageDocuments'))!;
    bucket.Properties!.BucketEncryption = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };
    const [queueId, queue] = ofType(t, 'AWS::SQS::Queue')[0]!;
    delete queue.Properties!.KmsMasterKeyId;
    queue.Properties!.SqsManagedSseEnabled = true;
    const [archiveId, archive] = ofType(t, 'AWS::Events::Archive')[0]!;
    archive.Properties!.KmsKeyIdentifier = ''; // what `bus.archive({ kmsKey })` rendered before the fix
    const [topicId, topic] = ofType(t, 'AWS::SNS::Topic')[0]!;
    topic.Properties!.KmsMasterKeyId = 'alias/aws/sns';
    const [logsId, logs] = ofType(t, 'AWS::Logs::LogGroup')[0]!;
    delete logs.Properties!.KmsKeyId;
    const [tableId, table] = ofType(t, 'AWS::DynamoDB::Table')[0]!;
    table.Properties!.SSESpecification = { SSEEnabled: true };
    t.Resources.NewStream = { Type: 'AWS::Kinesis::Stream', Properties: {} };
    const flagged = encryptionFindings(t).map((f) => f.split(':')[0]);
    expect(flagged.sort()).toEqual([archiveId, bucketId, logsId, queueId, tableId, topicId, 'NewStream'].sort());
  });
});

// ---- IAM: Resource "*" ----------------------------------------------------------------------

/**
 * Actions allowed on Resource "*", each with its reason from the Service Authorization Reference
 * (SAR, "Actions, resources, and condition keys for <service>"): an empty "Resource types" column
 * means "*" is the only valid Resource. Everything else must name its resources.
 */
const STAR_RESOURCE_ALLOWED: Array<{ actions: RegExp; reason: string }> = [
  {
    actions: /^comprehendmedical:(Start|Describe)(EntitiesDetectionV2|SNOMEDCTInference)Job$|^comprehendmedical:List(EntitiesDetectionV2|SNOMEDCTInference)Jobs$/,
    reason: 'SAR, Amazon Comprehend Medical: no action defines a resource type; jobs cannot be named in a policy.',
  },
  {
    actions: /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)$/,
    reason: 'SAR, AWS X-Ray: the trace-writing and sampling actions define no resource type (Lambda and Step Functions active tracing).',
  },
  {
    actions: /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries)$/,
    reason: 'SAR, Amazon CloudWatch Logs: the vended-log delivery actions define no resource type (Step Functions execution logging).',
  },
  {
    actions: /^logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/,
    reason: 'Documented exception, not a resource-less action: CDK\'s StateMachine logging grant, as the Step Functions guide ("IAM policies for logging to CloudWatch Logs") writes it. The CloudWatch Logs guide allows arn:<partition>:logs:<region>:<account>:log-group:* instead — to narrow in lib/constructs/batch-workflow.ts.',
  },
];

interface PolicyStatementAt { where: string; statement: Statement }
/** Every identity-policy statement (inline role policies, policies, managed policies). */
function identityStatements(t: CfnTemplate): PolicyStatementAt[] {
  const out: PolicyStatementAt[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const statement of statementsOf(r.Properties?.PolicyDocument)) out.push({ where: id, statement });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of list(r.Properties?.Policies as Json[] | undefined)) for (const statement of statementsOf(get(p, 'PolicyDocument'))) out.push({ where: id, statement });
    }
  }
  return out;
}
/** Resource policies whose Resource names their own resource (the key policy's "*" means the key itself). */
function resourcePolicyStatements(t: CfnTemplate): PolicyStatementAt[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => ['AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(r.Type))
    .flatMap(([id, r]) => statementsOf(r.Properties?.PolicyDocument).map((statement) => ({ where: id, statement })));
}
const allowsStar = (s: Statement) => s.Effect === 'Allow' && list(s.Resource as Json).some((r) => r === '*');

function starResourceFindings(t: CfnTemplate): string[] {
  return [...identityStatements(t), ...resourcePolicyStatements(t)]
    .filter(({ statement }) => allowsStar(statement))
    .flatMap(({ where, statement }) => list(statement.Action)
      .filter((a) => !STAR_RESOURCE_ALLOWED.some((allowed) => allowed.actions.test(a)))
      .map((a) => `${where}: ${a} on "*"`));
}

/** Wildcard actions, and Allow statements with NotAction/NotResource (which grant everything not listed). */
function wildcardActionFindings(t: CfnTemplate): string[] {
  return [...identityStatements(t), ...resourcePolicyStatements(t)].filter(({ statement }) => statement.Effect === 'Allow')
    .flatMap(({ where, statement }) => [
      ...list(statement.Action).filter((a) => a.includes('*')).map((a) => `${where}: ${a}`),
      ...(['NotAction', 'NotResource'] as const).filter((k) => k in statement).map((k) => `${where}: Allow with ${k}`),
    ]);
}

/** Any statement that can pass a role must be limited to a service. */
function passRoleFindings(t: CfnTemplate): string[] {
  const canPass = (a: string) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test('iam:PassRole');
  return identityStatements(t)
    .filter(({ statement }) => statement.Effect === 'Allow' && list(statement.Action).some(canPass))
    .flatMap(({ where, statement }) => {
      const service = Object.values(statement.Condition ?? {}).map((c) => c['iam:PassedToService']).find((v) => v !== undefined);
      const problems = [];
      if (service === undefined || list(service).some((s) => typeof s !== 'string' || s.includes('*'))) problems.push(`${where}: iam:PassRole without an iam:PassedToService condition naming a service`);
      if (list(statement.Resource as Json).some((r) => r === '*')) problems.push(`${where}: iam:PassRole on "*"`);
      return problems;
    });
}

describe('IAM', () => {
  test('Resource "*" only for actions that define no resource type (allow-list with reasons)', () => {
    expect(starResourceFindings(real)).toEqual([]);
    for (const allowed of STAR_RESOURCE_ALLOWED) expect(allowed.reason.length).toBeGreaterThan(40);
    // Every allow-list entry is still needed: an unused one is a stale exception.
    const used = identityStatements(real).filter(({ statement }) => allowsStar(statement)).flatMap(({ statement }) => list(statement.Action));
    for (const allowed of STAR_RESOURCE_ALLOWED) expect({ entry: allowed.actions.source, used: used.some((a) => allowed.actions.test(a)) }).toEqual({ entry: allowed.actions.source, used: true });
  });

  test('the "*" checker flags a resource-scoped action on "*", in identity and resource policies', () => {
    const t = copy();
    const [policyId, policy] = ofType(t, 'AWS::IAM::Policy').find(([id]) => id.startsWith('IngestFunction'))!;
    statementsOf(policy.Properties!.PolicyDocument).push({ Effect: 'Allow', Action: ['s3:GetObject', 'xray:PutTraceSegments'], Resource: '*' });
    const [queuePolicyId, queuePolicy] = ofType(t, 'AWS::SQS::QueuePolicy')[0]!;
    statementsOf(queuePolicy.Properties!.PolicyDocument).push({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*' });
    expect(starResourceFindings(t)).toEqual([`${policyId}: s3:GetObject on "*"`, `${queuePolicyId}: sqs:SendMessage on "*"`]);
  });

  test('no wildcard actions and no Allow with NotAction/NotResource, and the checker sees them', () => {
    expect(wildcardActionFindings(real)).toEqual([]);
    const t = copy();
    const [policyId, policy] = ofType(t, 'AWS::IAM::Policy')[0]!;
    statementsOf(policy.Properties!.PolicyDocument).push(
      { Effect: 'Allow', Action: 'kms:GenerateDataKey*', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      { Effect: 'Allow', NotAction: 'iam:*', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    );
    const [bucketPolicyId, bucketPolicy] = ofType(t, 'AWS::S3::BucketPolicy')[0]!;
    statementsOf(bucketPolicy.Properties!.PolicyDocument).push({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', NotResource: 'arn:aws:s3:::other/*' });
    expect(wildcardActionFindings(t)).toEqual([`${policyId}: kms:GenerateDataKey*`, `${policyId}: Allow with NotAction`, `${bucketPolicyId}: Allow with NotResource`]);
  });

  test('every iam:PassRole carries iam:PassedToService; the checker flags a missing condition and iam:* on "*"', () => {
    expect(passRoleFindings(real)).toEqual([]);
    const t = copy();
    const [policyId, policy] = ofType(t, 'AWS::IAM::Policy').find(([id]) => id.startsWith('StartJobsFunction'))!;
    const passRole = statementsOf(policy.Properties!.PolicyDocument).find((s) => list(s.Action).includes('iam:PassRole'))!;
    delete passRole.Condition;
    const [otherId, other] = ofType(t, 'AWS::IAM::Policy').find(([id]) => id.startsWith('FinalizeFunction'))!;
    statementsOf(other.Properties!.PolicyDocument).push({ Effect: 'Allow', Action: 'iam:*', Resource: '*' });
    expect(passRoleFindings(t)).toEqual([
      `${policyId}: iam:PassRole without an iam:PassedToService condition naming a service`,
      `${otherId}: iam:PassRole without an iam:PassedToService condition naming a service`,
      `${otherId}: iam:PassRole on "*"`,
    ]);
  });

  test('iam:PassRole only for the Comprehend Medical data-access role, only to that service', () => {
    const passRoles = identityStatements(real).filter(({ statement }) => list(statement.Action).includes('iam:PassRole'));
    expect(passRoles.length).toBe(2); // ingest and start-jobs
    for (const { statement } of passRoles) {
      expect(list(statement.Resource as Json)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ComprehendDataAccessRole/), 'Arn'] }]);
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'comprehendmedical.amazonaws.com' } });
    }
  });

  test('service roles trust only their service, for this account', () => {
    const roles = ofType(real, 'AWS::IAM::Role').map(([, r]) => statementsOf(r.Properties?.AssumeRolePolicyDocument)[0]!);
    const byService = (service: string) => roles.find((s) => JSON.stringify(s.Principal).includes(service));
    for (const service of ['comprehendmedical.amazonaws.com', 'entityresolution.amazonaws.com', 'events.amazonaws.com']) {
      expect(byService(service)).toMatchObject({ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    }
  });

  test('the Comprehend Medical role reads only batch inputs and writes only batch outputs, with the key', () => {
    const [, policy] = ofType(real, 'AWS::IAM::Policy').find(([id]) => id.startsWith('ComprehendDataAccessRole'))!;
    const statements = statementsOf(policy.Properties!.PolicyDocument).map((s) => ({
      actions: list(s.Action), resources: list(s.Resource as Json).map((r) => flatten(r)),
    }));
    expect(statements).toEqual(expect.arrayContaining([
      { actions: ['s3:GetObject'], resources: [expect.stringMatching(/\/batches\/\*\/input\/\*$/)] },
      { actions: ['s3:PutObject'], resources: [expect.stringMatching(/\/batches\/\*\/output\/\*$/)] },
      { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [expect.stringMatching(/^\$\{StorageDataKey.*\.Arn\}$/)] },
    ]));
  });

  test('Comprehend Medical jobs get the KMS key for their output (the key ARN is passed to the functions that start them)', () => {
    const starters = ofType(real, 'AWS::Lambda::Function').filter(([, f]) => get(f.Properties, 'Environment', 'Variables', 'COMPREHEND_DATA_ACCESS_ROLE_ARN') !== undefined);
    expect(starters).toHaveLength(2);
    for (const [, fn] of starters) expect(isKey(get(fn.Properties, 'Environment', 'Variables', 'KMS_KEY_ARN'))).toBe(true);
  });
});

// ---- Key policy -----------------------------------------------------------------------------

/** Service-principal grants on the key without a condition tying them to this account's use. */
const UNCONDITIONED_KEY_GRANTS_ALLOWED: Record<string, string> = {
  'delivery.logs.amazonaws.com': 'Added by CDK\'s StateMachine for encrypted log delivery (kms:Decrypt* only); CloudWatch vended-log delivery documents no condition for it.',
};
function keyPolicyFindings(t: CfnTemplate): string[] {
  return ofType(t, 'AWS::KMS::Key').flatMap(([id, k]) => statementsOf(k.Properties?.KeyPolicy)
    .filter((s) => s.Effect === 'Allow' && get(s.Principal, 'Service') !== undefined && !s.Condition)
    .map((s) => flatten(get(s.Principal, 'Service')!))
    .filter((service) => !(service in UNCONDITIONED_KEY_GRANTS_ALLOWED))
    .map((service) => `${id}: ${service} may use the key without a condition`));
}

describe('key policy', () => {
  test('every service principal grant is scoped (account, source ARN, encryption context or calling service)', () => {
    expect(keyPolicyFindings(real)).toEqual([]);
    const t = copy();
    statementsOf(t.Resources[keyId]!.Properties!.KeyPolicy).push({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt'], Resource: '*' });
    expect(keyPolicyFindings(t)).toEqual([`${keyId}: events.amazonaws.com may use the key without a condition`]);
  });

  test('EventBridge may use the key for this bus\'s archive only: the policy names the bus the template creates', () => {
    const [, bus] = ofType(real, 'AWS::Events::EventBus')[0]!;
    const archive = statementsOf(real.Resources[keyId]!.Properties!.KeyPolicy).find((s) => s.Sid === 'EventBridgeArchivesThisBus');
    expect(flatten(get(archive?.Condition as Json, 'StringEquals', 'kms:EncryptionContext:aws:events:event-bus:arn') ?? '')).toBe(`arn:aws:events:us-east-1:123456789012:event-bus/${String(bus.Properties!.Name)}`);
  });

  test('CloudWatch Logs may use the key for this account\'s log groups only (else log group creation fails)', () => {
    const logs = statementsOf(real.Resources[keyId]!.Properties!.KeyPolicy).find((s) => flatten(get(s.Principal, 'Service') ?? '').startsWith('logs.'));
    expect(logs?.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': expect.anything() } });
    expect(flatten(logs!.Condition!.ArnLike!['kms:EncryptionContext:aws:logs:arn']!)).toBe('arn:aws:logs:us-east-1:123456789012:log-group:*');
  });
});

// ---- TLS only -------------------------------------------------------------------------------

/** Each bucket, queue and topic has a policy denying any request not made over TLS. */
function tlsFindings(t: CfnTemplate): string[] {
  const denies = (policyType: string, target: string, id: string, action: RegExp) => ofType(t, policyType)
    .filter(([, p]) => list((p.Properties?.Bucket ?? p.Properties?.Queues ?? p.Properties?.Topics) as Json).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: id })))
    .some(([, p]) => statementsOf(p.Properties?.PolicyDocument).some((s) =>
      s.Effect === 'Deny' && (s.Principal === '*' || get(s.Principal, 'AWS') === '*') && list(s.Action).some((a) => action.test(a)) &&
      String(get(s.Condition as Json, 'Bool', 'aws:SecureTransport')) === 'false' &&
      (target !== 's3' || ['', '/*'].every((suffix) => list(s.Resource as Json).some((r) => flatten(r) === `\${${id}.Arn}${suffix}`)))));
  return [
    ...ofType(t, 'AWS::S3::Bucket').filter(([id]) => !denies('AWS::S3::BucketPolicy', 's3', id, /^s3:\*$/)).map(([id]) => `${id}: bucket without a TLS-only deny on itself and its objects`),
    ...ofType(t, 'AWS::SQS::Queue').filter(([id]) => !denies('AWS::SQS::QueuePolicy', 'sqs', id, /^sqs:\*$/)).map(([id]) => `${id}: queue without a TLS-only deny`),
    ...ofType(t, 'AWS::SNS::Topic').filter(([id]) => !denies('AWS::SNS::TopicPolicy', 'sns', id, /^sns:(Publish|\*)$/)).map(([id]) => `${id}: topic without a TLS-only deny`),
  ];
}

describe('TLS only', () => {
  test('every bucket (and queue and topic) denies requests without aws:SecureTransport', () => {
    expect(tlsFindings(real)).toEqual([]);
    expect(ofType(real, 'AWS::S3::Bucket')).toHaveLength(2);
  });

  test('the checker flags a bucket whose deny is gone, a deny on the bucket but not its objects, and a bucket with no policy', () => {
    const t = copy();
    const [, documentsPolicy] = ofType(t, 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith('StorageDocuments'))!;
    const doc = documentsPolicy.Properties!.PolicyDocument as JsonObject;
    doc.Statement = statementsOf(doc).filter((s) => !(s.Effect === 'Deny' && get(s.Condition as Json, 'Bool', 'aws:SecureTransport') !== undefined)) as unknown as Json[];
    const [, logsPolicy] = ofType(t, 'AWS::S3::BucketPolicy').find(([id]) => id.startsWith('StorageAccessLogs'))!;
    const logsDeny = statementsOf(logsPolicy.Properties!.PolicyDocument).find((s) => s.Effect === 'Deny')!;
    logsDeny.Resource = list(logsDeny.Resource as Json).slice(0, 1);
    t.Resources.Unprotected = { Type: 'AWS::S3::Bucket', Properties: {} };
    expect(tlsFindings(t).map((f) => f.split(':')[0]!.replace(/[0-9A-F]{8}$/, ''))).toEqual(['StorageAccessLogs', 'StorageDocuments', 'Unprotected']);
  });
});

// ---- cdk-nag ----------------------------------------------------------------------------------

interface Acknowledgement { path: string; id: string; reason: string }
const acknowledgementsOf = (scope: IConstruct): Acknowledgement[] => scope.node.findAll().flatMap((c) =>
  c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));

/** An acknowledgement must name one finding, on a construct below the stack, with a real reason. */
function acknowledgementFindings(acks: Acknowledgement[], stackPath: string): string[] {
  return acks.flatMap((a) => [
    ...(a.reason.trim().length < 40 ? [`${a.path} ${a.id}: no specific reason`] : []),
    ...(a.path === stackPath || !a.path.includes('/') ? [`${a.path} ${a.id}: stack-wide`] : []),
    // IAM5 findings are acknowledged one resource pattern at a time.
    ...(a.id.includes('IAM5') && !a.id.includes('[') ? [`${a.path} ${a.id}: every IAM5 finding at once`] : []),
  ]);
}
const unacknowledged = (scope: App, pack: AwsSolutionsChecks | HIPAASecurityChecks) =>
  pack.validateScope(scope).violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);

describe('cdk-nag', () => {
  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks(app)],
    ['HIPAA Security', () => new HIPAASecurityChecks(app)],
  ])('%s pack: no unacknowledged finding', (_name, pack) => {
    expect(unacknowledged(app, pack())).toEqual([]);
  });

  test('every acknowledgement names one finding and gives a specific reason', () => {
    const acks = acknowledgementsOf(app);
    expect(acks.length).toBeGreaterThan(20);
    expect(acknowledgementFindings(acks, 'Chartflow')).toEqual([]);
  });

  test('the checks fail on a bad stack: an unacknowledged finding, a reasonless or stack-wide acknowledgement', () => {
    const bad = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(bad, 'Bad');
    const bucket = new s3.Bucket(stack, 'Plain'); // no TLS deny, no logging, no KMS
    Validations.of(bucket.node.defaultChild!).acknowledge({ id: 'AwsSolutions-S1', reason: 'later' });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-IAM5', reason: 'A long enough reason that is nevertheless stack-wide and too broad.' });
    // S10 (no TLS-only policy) is reported; S1 is hidden by its acknowledgement, which is flagged below
    // (CDK records acknowledgements under an `Annotation::` prefix).
    expect(unacknowledged(bad, new AwsSolutionsChecks(bad))).toEqual([expect.stringMatching(/^AwsSolutions-S10\b/)]);
    expect(acknowledgementFindings(acknowledgementsOf(bad), 'Bad')).toEqual([
      'Bad Annotation::AwsSolutions-IAM5: stack-wide',
      'Bad Annotation::AwsSolutions-IAM5: every IAM5 finding at once',
      'Bad/Plain/Resource Annotation::AwsSolutions-S1: no specific reason',
    ]);
  });
});
