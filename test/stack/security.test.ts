import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { flatten, synthesize } from '../support/stack.js';

const { app, template } = synthesize();

interface Statement { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown }
const identityStatements = (): Array<{ policy: string; statement: Statement }> =>
  Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, p]) =>
    (p.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({ policy, statement })));
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Actions that have no resource-level permissions in IAM, so `*` is the only valid Resource. */
const NO_RESOURCE_LEVEL = [
  /^comprehendmedical:/i,
  /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)$/,
  /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/,
  /^s3:PutBucketNotification$/, // the CDK helper that configures notifications at deploy time
];

describe('IAM', () => {
  test('Resource "*" only for actions without resource-level permissions', () => {
    const offenders = identityStatements()
      .filter(({ statement }) => list(statement.Resource as string | string[]).includes('*'))
      .flatMap(({ policy, statement }) => list(statement.Action).filter((a) => !NO_RESOURCE_LEVEL.some((r) => r.test(a))).map((a) => `${policy}: ${a}`));
    expect(offenders).toEqual([]);
  });

  test('no wildcard actions anywhere', () => {
    const wild = identityStatements().flatMap(({ policy, statement }) => list(statement.Action).filter((a) => a.includes('*')).map((a) => `${policy}: ${a}`));
    expect(wild).toEqual([]);
  });

  test('iam:PassRole only for the Comprehend Medical data-access role, only to that service', () => {
    const passRoles = identityStatements().filter(({ statement }) => list(statement.Action).includes('iam:PassRole'));
    expect(passRoles.length).toBe(2); // ingest and start-jobs
    for (const { statement } of passRoles) {
      expect(list(statement.Resource as object)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ComprehendDataAccessRole/), 'Arn'] }]);
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'comprehendmedical.amazonaws.com' } });
    }
  });

  test('service roles trust only their service, for this account', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role')).map((r) => r.Properties.AssumeRolePolicyDocument.Statement[0]);
    const byService = (service: string) => roles.find((s) => JSON.stringify(s.Principal).includes(service));
    for (const service of ['comprehendmedical.amazonaws.com', 'entityresolution.amazonaws.com']) {
      expect(byService(service)).toMatchObject({ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    }
  });

  test('the Comprehend Medical role reads only batch inputs and writes only batch outputs, with the key', () => {
    const policy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ComprehendDataAccessRole'))![1];
    const statements = (policy.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
      actions: list(s.Action), resources: list(s.Resource as object).map((r) => flatten(r as never)),
    }));
    expect(statements).toEqual(expect.arrayContaining([
      { actions: ['s3:GetObject'], resources: [expect.stringMatching(/\/batches\/\*\/input\/\*$/)] },
      { actions: ['s3:PutObject'], resources: [expect.stringMatching(/\/batches\/\*\/output\/\*$/)] },
      { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [expect.stringMatching(/^\$\{StorageDataKey.*\.Arn\}$/)] },
    ]));
  });

  test('Comprehend Medical jobs get the KMS key for their output (the key ARN is passed to the functions that start them)', () => {
    const starters = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.COMPREHEND_DATA_ACCESS_ROLE_ARN);
    expect(starters).toHaveLength(2);
    for (const fn of starters) expect(fn.Properties.Environment.Variables.KMS_KEY_ARN).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] });
  });
});

describe('cdk-nag', () => {
  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks(app)],
    ['HIPAA Security', () => new HIPAASecurityChecks(app)],
  ])('%s pack: no unacknowledged finding', (_name, pack) => {
    const report = pack().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });

  test('every acknowledgement names one finding and gives a specific reason', () => {
    const acknowledgements = app.node.findAll().flatMap((c) =>
      c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));
    expect(acknowledgements.length).toBeGreaterThan(20);
    for (const a of acknowledgements) {
      expect({ ...a, reasonLongEnough: a.reason.length >= 40 }).toEqual({ ...a, reasonLongEnough: true });
      expect(a.path).not.toBe('Chartflow'); // never stack-wide
    }
    // IAM5 findings are acknowledged one resource pattern at a time.
    expect(acknowledgements.filter((a) => a.id.includes('IAM5') && !a.id.includes('['))).toEqual([]);
  });
});
