import {
  DescribeEntitiesDetectionV2JobCommand,
  DescribeSNOMEDCTInferenceJobCommand,
  DetectEntitiesV2Command,
  InferSNOMEDCTCommand,
  InvalidEncodingException,
  InvalidRequestException,
  ListEntitiesDetectionV2JobsCommand,
  ListSNOMEDCTInferenceJobsCommand,
  ResourceNotFoundException,
  StartEntitiesDetectionV2JobCommand,
  StartSNOMEDCTInferenceJobCommand,
  StopEntitiesDetectionV2JobCommand,
  StopSNOMEDCTInferenceJobCommand,
  TextSizeLimitExceededException,
  ValidationException,
  type StartEntitiesDetectionV2JobCommandInput,
} from '@aws-sdk/client-comprehendmedical';
import { ENGINE_MODEL_VERSION } from '../../nlp/index.js';
import { loadModel } from './model.js';
import { InputValidator } from './validate.js';
import { ROLE, failure, jobRequest, rawCall, startFixture, type Fixture } from './test-support.js';

const TARGET = 'ComprehendMedical_20181030';

describe('Comprehend Medical emulator: request validation (over the wire, real SDK client)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  const start = (input: Partial<StartEntitiesDetectionV2JobCommandInput>) =>
    f.cm.send(new StartEntitiesDetectionV2JobCommand(input as StartEntitiesDetectionV2JobCommandInput));

  describe('Start*Job', () => {
    it('accepts a valid request and answers a 32-hex JobId', async () => {
      const out = await start(jobRequest('in/', 'out/', { JobName: 'batch-01:x/y=z+1%@', KMSKey: 'alias/chartflow' }));
      expect(out.JobId).toMatch(/^[0-9a-f]{32}$/);
      const snomed = await f.cm.send(new StartSNOMEDCTInferenceJobCommand(jobRequest('in/', 'out/')));
      expect(snomed.JobId).toMatch(/^[0-9a-f]{32}$/);
    });

    it('reports every missing required member with the AWS message', async () => {
      const error = await failure(start({ JobName: 'x' }));
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(error.message).toBe(
        '4 validation errors detected: ' +
          "Value null at 'inputDataConfig' failed to satisfy constraint: Member must not be null; " +
          "Value null at 'outputDataConfig' failed to satisfy constraint: Member must not be null; " +
          "Value null at 'dataAccessRoleArn' failed to satisfy constraint: Member must not be null; " +
          "Value null at 'languageCode' failed to satisfy constraint: Member must not be null",
      );
    });

    it('checks nested required members, lengths and patterns of buckets', async () => {
      const error = await failure(
        start({ ...jobRequest('in/', 'out/'), InputDataConfig: { S3Bucket: 'ab' }, OutputDataConfig: { S3Bucket: 'Bad_Bucket' } }),
      );
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect(error.message).toMatch(/^2 validation errors detected: /);
      expect(error.message).toContain("Value 'ab' at 'inputDataConfig.s3Bucket' failed to satisfy constraint: Member must have length greater than or equal to 3");
      expect(error.message).toContain(
        "Value 'Bad_Bucket' at 'outputDataConfig.s3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-z\\.\\-_]*(?!\\.)$",
      );
      const missingBucket = await failure(start({ ...jobRequest('in/', 'out/'), InputDataConfig: { S3Key: 'in/' } as never }));
      expect(missingBucket.message).toContain("Value null at 'inputDataConfig.s3Bucket' failed to satisfy constraint: Member must not be null");
    });

    it.each([
      ['DataAccessRoleArn', 'arn:aws:iam::123:role/x', 'dataAccessRoleArn', 'regular expression pattern'],
      ['DataAccessRoleArn', 'arn:aws:iam::1', 'dataAccessRoleArn', 'length greater than or equal to 20; '],
      ['JobName', 'bad|name', 'jobName', 'regular expression pattern'],
      ['JobName', 'n'.repeat(257), 'jobName', 'length less than or equal to 256'],
      ['ClientRequestToken', 'token_with_underscore', 'clientRequestToken', 'regular expression pattern: ^[a-zA-Z0-9-]+$'],
      ['ClientRequestToken', 't'.repeat(65), 'clientRequestToken', 'length less than or equal to 64'],
      ['KMSKey', '', 'kMSKey', 'length greater than or equal to 1'],
      ['LanguageCode', 'fr', 'languageCode', 'Member must satisfy enum value set: [en]'],
    ])('rejects %s = %j', async (member, value, wireName, constraint) => {
      const error = await failure(start({ ...jobRequest('in/', 'out/'), [member]: value }));
      expect(error).toBeInstanceOf(InvalidRequestException);
      // A value may break several constraints (a short ARN also misses the pattern): all are listed.
      expect(error.message).toMatch(/^[12] validation errors? detected: /);
      expect(error.message).toContain(`at '${wireName}' failed to satisfy constraint: `);
      expect(error.message).toContain(constraint);
    });

    it('accepts a Unicode job name (the pattern uses \\p{L}) and an S3Key up to 1024 characters', async () => {
      await expect(start(jobRequest('k'.repeat(1024), 'out/', { JobName: 'Prüfung 2026' }))).resolves.toHaveProperty('JobId');
      const error = await failure(start(jobRequest('k'.repeat(1025), 'out/')));
      expect(error.message).toContain("at 'inputDataConfig.s3Key' failed to satisfy constraint: Member must have length less than or equal to 1024");
    });

    it('answers SerializationException for a member of the wrong JSON type', async () => {
      const body = JSON.stringify({ ...jobRequest('in/', 'out/'), JobName: 42 });
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.StartEntitiesDetectionV2Job`, body);
      expect(res.status).toBe(400);
      expect(res.json.__type).toBe('SerializationException');
    });
  });

  describe('Describe*Job and Stop*Job', () => {
    it('requires a JobId of 1 to 32 characters', async () => {
      const missing = await failure(f.cm.send(new DescribeEntitiesDetectionV2JobCommand({} as never)));
      expect(missing).toBeInstanceOf(InvalidRequestException);
      expect(missing.message).toBe("1 validation error detected: Value null at 'jobId' failed to satisfy constraint: Member must not be null");
      const long = await failure(f.cm.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId: 'a'.repeat(33) })));
      expect(long.message).toContain("at 'jobId' failed to satisfy constraint: Member must have length less than or equal to 32");
      const pattern = await failure(f.cm.send(new StopEntitiesDetectionV2JobCommand({ JobId: 'a|b' })));
      expect(pattern).toBeInstanceOf(InvalidRequestException);
      expect(pattern.message).toContain('regular expression pattern');
    });

    it('answers ResourceNotFoundException (404) for an unknown job, and for a job of the other type', async () => {
      const unknown = await failure(f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: '0'.repeat(32) })));
      expect(unknown).toBeInstanceOf(ResourceNotFoundException);
      expect(unknown.$metadata?.httpStatusCode).toBe(404);
      const { JobId } = await f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('in/', 'out/')));
      const otherType = await failure(f.cm.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId })));
      expect(otherType).toBeInstanceOf(ResourceNotFoundException);
      const stopOther = await failure(f.cm.send(new StopSNOMEDCTInferenceJobCommand({ JobId })));
      expect(stopOther).toBeInstanceOf(ResourceNotFoundException);
    });
  });

  describe('List*Jobs', () => {
    it.each([0, 501])('rejects MaxResults %d', async (max) => {
      const error = await failure(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ MaxResults: max })));
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect(error.message).toContain(`Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value ${max === 0 ? 'greater than or equal to 1' : 'less than or equal to 500'}`);
    });

    it('accepts MaxResults 1 and 500', async () => {
      await expect(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ MaxResults: 1 }))).resolves.toBeDefined();
      await expect(f.cm.send(new ListSNOMEDCTInferenceJobsCommand({ MaxResults: 500 }))).resolves.toBeDefined();
    });

    it('rejects an empty, a forged and a tampered NextToken', async () => {
      const empty = await failure(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ NextToken: '' })));
      expect(empty).toBeInstanceOf(InvalidRequestException);
      expect(empty.message).toContain("at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1");
      const forged = await failure(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ NextToken: 'not-a-token' })));
      expect(forged).toBeInstanceOf(InvalidRequestException);
      expect(forged.message).toMatch(/Invalid NextToken/);
      const tampered = await failure(
        f.cm.send(new ListEntitiesDetectionV2JobsCommand({ NextToken: `${Buffer.from('{"t":0,"s":0,"q":"x"}').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA` })),
      );
      expect(tampered).toBeInstanceOf(InvalidRequestException);
    });

    it('answers ValidationException for an invalid filter', async () => {
      const status = await failure(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ Filter: { JobStatus: 'DONE' as never } })));
      expect(status).toBeInstanceOf(ValidationException);
      expect(status.message).toContain("Value 'DONE' at 'filter.jobStatus' failed to satisfy constraint: Member must satisfy enum value set: [SUBMITTED, IN_PROGRESS, COMPLETED, PARTIAL_SUCCESS, FAILED, STOP_REQUESTED, STOPPED]");
      const name = await failure(f.cm.send(new ListSNOMEDCTInferenceJobsCommand({ Filter: { JobName: '' } })));
      expect(name).toBeInstanceOf(ValidationException);
      const two = await failure(
        f.cm.send(new ListEntitiesDetectionV2JobsCommand({ Filter: { JobStatus: 'COMPLETED', SubmitTimeAfter: new Date(0) } })),
      );
      expect(two).toBeInstanceOf(ValidationException);
      expect(two.message).toMatch(/only set one filter at a time/);
    });

    it('answers SerializationException for a timestamp that is not epoch seconds', async () => {
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.ListEntitiesDetectionV2Jobs`, JSON.stringify({ Filter: { SubmitTimeBefore: '2026-01-01T00:00:00Z' } }));
      expect(res.status).toBe(400);
      expect(res.json.__type).toBe('SerializationException');
    });
  });

  describe('synchronous DetectEntitiesV2 and InferSNOMEDCT', () => {
    it('answers the engine result for valid text', async () => {
      const entities = await f.cm.send(new DetectEntitiesV2Command({ Text: 'aspirin 81 mg po daily' }));
      expect(entities.Entities?.[0]).toMatchObject({ Text: 'aspirin', Category: 'MEDICATION', BeginOffset: 0, EndOffset: 7 });
      expect(entities.ModelVersion).toBe(ENGINE_MODEL_VERSION);
      const snomed = await f.cm.send(new InferSNOMEDCTCommand({ Text: 'Patient has pneumonia.' }));
      expect(Array.isArray(snomed.Entities)).toBe(true);
    });

    it('rejects empty text with InvalidRequestException and never echoes the text', async () => {
      const error = await failure(f.cm.send(new DetectEntitiesV2Command({ Text: '' })));
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect(error.message).toBe("1 validation error detected: Value '***' at 'text' failed to satisfy constraint: Member must have length greater than or equal to 1");
    });

    it('answers TextSizeLimitExceededException above the model limits (20,000 and 10,000 characters)', async () => {
      await expect(f.cm.send(new DetectEntitiesV2Command({ Text: 'a'.repeat(20_000) }))).resolves.toBeDefined();
      const entities = await failure(f.cm.send(new DetectEntitiesV2Command({ Text: 'a'.repeat(20_001) })));
      expect(entities).toBeInstanceOf(TextSizeLimitExceededException);
      expect(entities.$metadata?.httpStatusCode).toBe(400);
      expect(entities.message).toContain('20000');
      const snomed = await failure(f.cm.send(new InferSNOMEDCTCommand({ Text: 'a'.repeat(10_001) })));
      expect(snomed).toBeInstanceOf(TextSizeLimitExceededException);
      // Length is counted in code points: 10,000 emoji are 20,000 UTF-16 units but within the limit.
      await expect(f.cm.send(new InferSNOMEDCTCommand({ Text: '😀'.repeat(10_000) }))).resolves.toBeDefined();
    });

    it('answers InvalidEncodingException for text that is not valid Unicode or a body that is not UTF-8', async () => {
      const lone = await failure(f.cm.send(new DetectEntitiesV2Command({ Text: 'fever \ud800 cough' })));
      expect(lone).toBeInstanceOf(InvalidEncodingException);
      const bytes = Buffer.concat([Buffer.from('{"Text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.InferSNOMEDCT`, bytes);
      expect(res).toEqual({ status: 400, json: { __type: 'InvalidEncodingException', Message: expect.any(String) } });
    });
  });

  describe('protocol', () => {
    it('answers UnknownOperationException for operations it does not serve', async () => {
      for (const target of [`${TARGET}.DescribeWidgets`, `${TARGET}.DetectPHI`, 'Other_2020.DetectEntitiesV2', undefined]) {
        const res = await rawCall(f.emulator.endpoint, target, '{}');
        expect(res.status).toBe(400);
        expect(res.json.__type).toBe('UnknownOperationException');
        expect(typeof res.json.Message).toBe('string');
      }
    });

    it('answers SerializationException for a body that is not JSON', async () => {
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.DescribeEntitiesDetectionV2Job`, '{"JobId":');
      expect(res).toEqual({ status: 400, json: { __type: 'SerializationException', Message: 'The request body is not valid JSON.' } });
    });

    it('treats JSON null as an absent member', async () => {
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.ListEntitiesDetectionV2Jobs`, JSON.stringify({ Filter: { JobName: null, JobStatus: 'FAILED' }, NextToken: null }));
      expect(res).toEqual({ status: 200, json: { ComprehendMedicalAsyncJobPropertiesList: [] } });
    });

    it('ignores members the model does not declare, as awsJson does', async () => {
      const body = JSON.stringify({ ...jobRequest('in/', 'out/'), Unknown: { x: 1 } });
      const res = await rawCall(f.emulator.endpoint, `${TARGET}.StartSNOMEDCTInferenceJob`, body);
      expect(res.status).toBe(200);
      expect(res.json.JobId).toMatch(/^[0-9a-f]{32}$/);
    });
  });
});

describe('model-driven validator', () => {
  const model = loadModel();
  const validator = new InputValidator(model);

  it('compiles every pattern of the model and validates every implemented operation input', () => {
    for (const operation of ['StartEntitiesDetectionV2Job', 'StartSNOMEDCTInferenceJob', 'ListEntitiesDetectionV2Jobs', 'ListSNOMEDCTInferenceJobs']) {
      expect(() => validator.validate(model.inputShapeId(operation), {})).not.toThrow();
    }
    expect(validator.validate(model.inputShapeId('StartSNOMEDCTInferenceJob'), jobRequest('a', 'b'))).toEqual([]);
    expect(validator.validate(model.inputShapeId('StartSNOMEDCTInferenceJob'), { ...jobRequest('a', 'b'), DataAccessRoleArn: ROLE.replace('000000000000', '0') })).toEqual([
      expect.objectContaining({ path: ['DataAccessRoleArn'], kind: 'pattern' }),
    ]);
  });

  it('reads limits from the model rather than from code', () => {
    expect(model.shape('BoundedLengthString').traits?.['smithy.api#length']).toEqual({ min: 1, max: 20000 });
    expect(model.errorStatus('TooManyRequestsException')).toBe(429);
    expect(model.errorStatus('ResourceNotFoundException')).toBe(404);
    expect(model.operationErrors('StopEntitiesDetectionV2Job')).not.toContain('TooManyRequestsException');
  });
});
