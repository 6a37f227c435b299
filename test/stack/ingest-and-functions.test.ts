import { Match } from 'aws-cdk-lib/assertions';
import { synthesize } from '../support/stack.js';

describe('ingest with defaults', () => {
  const { template } = synthesize();

  test('inbox/ ObjectCreated notifications go to the queue', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [Match.objectLike({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inbox/' }] } },
        })],
      },
    });
  });

  test('queues are KMS-encrypted, TLS-only, with a DLQ after 5 receives and visibility >= 6 x timeout', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    for (const queue of Object.values(queues)) {
      expect(queue.Properties.KmsMasterKeyId).toEqual(expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] }));
    }
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 720,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    const ingest = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Claims') } }))[0]!;
    expect(720).toBeGreaterThanOrEqual(6 * ingest.Properties.Timeout);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(3);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]));
    }
  });

  test('event source: batch size, batching window, partial failures, bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 60,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('every function: Node.js 22, arm64, traced, its own encrypted log group, powertools env', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: Match.anyValue() } } },
    }));
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
      expect(fn.Properties.Handler).toBe('index.handler');
    }
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.KmsKeyId).toBeDefined();
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });
});

describe('ingest configuration from context', () => {
  test('batch size, window and concurrency follow chartflow:* context', () => {
    const { template } = synthesize({}, { 'chartflow:batchSize': 1000, 'chartflow:batchingWindowSeconds': 120, 'chartflow:ingestMaxConcurrency': 5 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000, MaximumBatchingWindowInSeconds: 120, ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  test('bad values fail synthesis with a clear message', () => {
    expect(() => synthesize({}, { 'chartflow:batchSize': 20000 })).toThrow(/batchSize must be an integer 1–5000/);
    expect(() => synthesize({ batchSize: 50, batchingWindowSeconds: 0 })).toThrow(/batchingWindowSeconds >= 1/);
  });
});
