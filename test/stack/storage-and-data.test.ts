import { Match } from 'aws-cdk-lib/assertions';
import { synthesize } from '../support/stack.js';

const { template } = synthesize();
const keyRef = () => Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageDataKey'), 'Arn'] });

describe('data key', () => {
  test('rotates and is kept on stack deletion', () => {
    template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
  });
});

describe('documents bucket', () => {
  const documents = () => {
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } },
    });
    const entries = Object.entries(buckets);
    expect(entries).toHaveLength(1);
    return entries[0]!;
  };

  test('is KMS-encrypted with the data key, versioned, private and logged', () => {
    const [, bucket] = documents();
    const props = bucket.Properties;
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID).toEqual(
      expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] }),
    );
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(props.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: expect.stringMatching(/^StorageAccessLogs/) });
  });

  test('lifecycle: inbox and rejected expire, old versions expire, results are kept', () => {
    const [, bucket] = documents();
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ Prefix: 'inbox/', ExpirationInDays: 30, Status: 'Enabled' }),
      expect.objectContaining({ Prefix: 'rejected/', ExpirationInDays: 90, Status: 'Enabled' }),
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]));
    expect(rules.some((r) => typeof r.Prefix === 'string' && /^(batches|records|matches)\//.test(r.Prefix))).toBe(false);
  });

  test('denies any request without TLS', () => {
    const [id] = documents();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('metrics table', () => {
  test('on demand, PITR, the data key, a status GSI, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyRef() },
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        GlobalSecondaryIndexes: [Match.objectLike({
          IndexName: 'byStatus',
          KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }],
        })],
        DeletionProtectionEnabled: true,
      },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('event bus', () => {
  test('is encrypted, archived, and has a schema per detail-type', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: keyRef() });
    template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['chartflow'] },
      RetentionDays: 365,
    });
    const schemas = Object.values(template.findResources('AWS::EventSchemas::Schema')).map((s) => s.Properties.SchemaName);
    expect(schemas.sort()).toEqual([
      'chartflow@BatchCompleted', 'chartflow@BatchFailed', 'chartflow@BatchSubmitted', 'chartflow@DocumentRejected', 'chartflow@MatchingCompleted',
    ]);
  });

  test('Batch Failed reaches the alarm topic through a rule with a DLQ, retries and a max age', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['chartflow'], 'detail-type': ['Batch Failed'] },
      Targets: [Match.objectLike({
        DeadLetterConfig: { Arn: Match.anyValue() },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
      })],
    });
  });
});

describe('matching', () => {
  test('Glue table over records/ with the CSV SerDe and a header', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Parameters: Match.objectLike({ 'skip.header.line.count': '1' }),
        StorageDescriptor: Match.objectLike({
          Location: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/records/'])] }),
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde' }),
        }),
      }),
    });
  });

  test('rule-based workflow: rules from most to least precise, output to matches/ with the key', () => {
    const [workflow] = Object.values(template.findResources('AWS::EntityResolution::MatchingWorkflow'));
    const props = workflow!.Properties;
    expect(props.ResolutionTechniques.ResolutionType).toBe('RULE_MATCHING');
    expect(props.ResolutionTechniques.RuleBasedProperties.Rules).toEqual([
      { RuleName: 'MedicalRecordNumber', MatchingKeys: ['mrn'] },
      { RuleName: 'NameAndDateOfBirth', MatchingKeys: ['name', 'dob'] },
      { RuleName: 'NameAndPhone', MatchingKeys: ['name', 'phone'] },
      { RuleName: 'Email', MatchingKeys: ['email'] },
    ]);
    expect(props.OutputSourceConfig[0].KMSArn).toEqual(expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] }));
    expect(JSON.stringify(props.OutputSourceConfig[0].OutputS3Path)).toContain('/matches/');
  });

  test('the schema mapping has one UNIQUE_ID and match keys for every rule key', () => {
    const [mapping] = Object.values(template.findResources('AWS::EntityResolution::SchemaMapping'));
    const fields = mapping!.Properties.MappedInputFields as Array<{ FieldName: string; Type: string; MatchKey?: string }>;
    expect(fields.filter((f) => f.Type === 'UNIQUE_ID').map((f) => f.FieldName)).toEqual(['record_id']);
    const keys = new Set(fields.map((f) => f.MatchKey).filter(Boolean));
    for (const key of ['mrn', 'name', 'dob', 'phone', 'email']) expect(keys.has(key)).toBe(true);
  });
});
