import {
  DescribeEntitiesDetectionV2JobCommand,
  DescribeSNOMEDCTInferenceJobCommand,
  InvalidRequestException,
  ListEntitiesDetectionV2JobsCommand,
  ListSNOMEDCTInferenceJobsCommand,
  ResourceNotFoundException,
  StartEntitiesDetectionV2JobCommand,
  StartSNOMEDCTInferenceJobCommand,
  StopEntitiesDetectionV2JobCommand,
  StopSNOMEDCTInferenceJobCommand,
  TooManyRequestsException,
  type ListEntitiesDetectionV2JobsCommandInput,
} from '@aws-sdk/client-comprehendmedical';
import { ACCOUNT, BUCKET, ROLE, failure, jobRequest, listKeys, putText, startFixture, type Fixture } from './test-support.js';

const MINUTE = 60_000;

describe('Comprehend Medical emulator: batch job lifecycle on virtual time', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ cmJobMinutes: 5 });
    await putText(f.s3Client, 'life/input/a.txt', 'Patient reports headache.');
  });
  afterAll(async () => {
    await f.close();
  });

  const describeEntities = async (JobId: string) =>
    (await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId }))).ComprehendMedicalAsyncJobProperties;

  it('goes SUBMITTED -> IN_PROGRESS -> COMPLETED as the clock moves, with epoch timestamps parsed by the SDK', async () => {
    const submittedAt = f.clock.now();
    const { JobId } = await f.cm.send(
      new StartEntitiesDetectionV2JobCommand(jobRequest('life/input/', 'life/output/', { JobName: 'life-1', KMSKey: 'alias/cm' })),
    );
    if (!JobId) throw new Error('no JobId');

    let job = await describeEntities(JobId);
    expect(job).toMatchObject({
      JobId,
      JobName: 'life-1',
      JobStatus: 'SUBMITTED',
      LanguageCode: 'en',
      DataAccessRoleArn: ROLE,
      KMSKey: 'alias/cm',
      InputDataConfig: { S3Bucket: BUCKET, S3Key: 'life/input/' },
      // As on AWS, the described output location is the job's own folder.
      OutputDataConfig: { S3Bucket: BUCKET, S3Key: `life/output/${ACCOUNT}-EntitiesDetection-${JobId}/` },
    });
    expect(job?.SubmitTime).toEqual(new Date(submittedAt));
    expect(job?.ExpirationTime).toEqual(new Date(submittedAt + 120 * 24 * 60 * MINUTE));
    expect(job?.EndTime).toBeUndefined();
    expect(job?.ManifestFilePath).toBeUndefined();
    expect(typeof job?.ModelVersion).toBe('string');

    f.clock.advance(30_000);
    expect((await describeEntities(JobId))?.JobStatus).toBe('IN_PROGRESS');
    f.clock.advance(5 * MINUTE - 30_001);
    expect((await describeEntities(JobId))?.JobStatus).toBe('IN_PROGRESS');
    expect(await listKeys(f.s3Client, 'life/output/')).toEqual([]);

    f.clock.advance(1);
    job = await describeEntities(JobId);
    expect(job?.JobStatus).toBe('COMPLETED');
    expect(job?.EndTime).toEqual(new Date(submittedAt + 5 * MINUTE));
    expect(job?.ManifestFilePath).toBe(`s3://${BUCKET}/life/output/${ACCOUNT}-EntitiesDetection-${JobId}/Manifest`);
    // Outputs were written before Describe answered.
    expect(await listKeys(f.s3Client, 'life/output/')).toContain(`life/output/${ACCOUNT}-EntitiesDetection-${JobId}/a.txt.out`);
    expect(f.emulator.jobs().find((j) => j.jobId === JobId)).toMatchObject({ status: 'COMPLETED', finalised: true, kind: 'EntitiesDetectionV2' });
  });

  it('Stop*Job moves an active job to STOP_REQUESTED, then STOPPED 30 s later; stopping a finished job changes nothing', async () => {
    const { JobId } = await f.cm.send(new StartSNOMEDCTInferenceJobCommand(jobRequest('life/input/', 'life/stop/')));
    if (!JobId) throw new Error('no JobId');
    f.clock.advance(MINUTE);
    expect(await f.cm.send(new StopSNOMEDCTInferenceJobCommand({ JobId }))).toMatchObject({ JobId });
    const describe = async () => (await f.cm.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId }))).ComprehendMedicalAsyncJobProperties;
    expect((await describe())?.JobStatus).toBe('STOP_REQUESTED');
    // A second stop is accepted and changes nothing.
    await f.cm.send(new StopSNOMEDCTInferenceJobCommand({ JobId }));
    f.clock.advance(29_999);
    expect((await describe())?.JobStatus).toBe('STOP_REQUESTED');
    f.clock.advance(1);
    const stopped = await describe();
    expect(stopped?.JobStatus).toBe('STOPPED');
    expect(stopped?.EndTime?.getTime()).toBe(f.clock.now());
    expect(await listKeys(f.s3Client, 'life/stop/')).not.toContainEqual(expect.stringMatching(/\.out$/));

    f.clock.advance(10 * MINUTE);
    await f.cm.send(new StopSNOMEDCTInferenceJobCommand({ JobId }));
    expect((await describe())?.JobStatus).toBe('STOPPED');
  });

  it('forgets job metadata after its ExpirationTime (outputs stay)', async () => {
    const { JobId } = await f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('life/input/', 'life/expire/')));
    if (!JobId) throw new Error('no JobId');
    f.clock.advance(120 * 24 * 60 * MINUTE);
    const error = await failure(f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    const listed = await f.cm.send(new ListEntitiesDetectionV2JobsCommand({}));
    expect(listed.ComprehendMedicalAsyncJobPropertiesList?.map((j) => j.JobId)).not.toContain(JobId);
    expect((await listKeys(f.s3Client, 'life/expire/')).length).toBeGreaterThan(0);
  });
});

describe('Comprehend Medical emulator: quotas, idempotency and listing', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture({ cmJobMinutes: 10 });
    await putText(f.s3Client, 'q/input/a.txt', 'Chest pain.');
  });
  afterEach(async () => {
    await f.close();
  });

  const startEntities = (extra: Record<string, string> = {}) =>
    f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('q/input/', 'q/output/', extra)));

  it('allows at most 10 active jobs per operation, and frees a slot when a job ends', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push((await startEntities({ JobName: `job-${i}` })).JobId ?? '');
      f.clock.advance(1000);
    }
    const error = await failure(startEntities());
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error.$metadata?.httpStatusCode).toBe(429);
    // The other operation has its own quota.
    await expect(f.cm.send(new StartSNOMEDCTInferenceJobCommand(jobRequest('q/input/', 'q/output/')))).resolves.toHaveProperty('JobId');
    // A stop request keeps the job active until it is STOPPED.
    await f.cm.send(new StopEntitiesDetectionV2JobCommand({ JobId: ids[0] }));
    expect(await failure(startEntities())).toBeInstanceOf(TooManyRequestsException);
    f.clock.advance(30_000);
    await expect(startEntities()).resolves.toHaveProperty('JobId');
    expect(await failure(startEntities())).toBeInstanceOf(TooManyRequestsException);
    // The oldest running job ends 10 minutes after its submission.
    f.clock.advance(10 * 60_000);
    await expect(startEntities()).resolves.toHaveProperty('JobId');
  });

  it('replays a ClientRequestToken: same JobId, no second job; a different token or operation starts a new job', async () => {
    const first = await startEntities({ ClientRequestToken: 'batch-7-entities' });
    const again = await startEntities({ ClientRequestToken: 'batch-7-entities' });
    expect(again.JobId).toBe(first.JobId);
    expect(f.emulator.jobs()).toHaveLength(1);
    // Still the same job after it finished.
    f.clock.advance(60 * 60_000);
    expect((await startEntities({ ClientRequestToken: 'batch-7-entities' })).JobId).toBe(first.JobId);
    const other = await startEntities({ ClientRequestToken: 'batch-8-entities' });
    expect(other.JobId).not.toBe(first.JobId);
    const snomed = await f.cm.send(new StartSNOMEDCTInferenceJobCommand({ ...jobRequest('q/input/', 'q/output/'), ClientRequestToken: 'batch-7-entities' }));
    expect(snomed.JobId).not.toBe(first.JobId);
    const mismatch = await failure(startEntities({ ClientRequestToken: 'batch-7-entities', JobName: 'different' }));
    expect(mismatch).toBeInstanceOf(InvalidRequestException);
    expect(f.emulator.jobs()).toHaveLength(3);
  });

  it('a replayed token is answered even at the active-jobs limit', async () => {
    const first = await startEntities({ ClientRequestToken: 'replay-at-limit' });
    for (let i = 0; i < 9; i++) await startEntities();
    expect((await startEntities({ ClientRequestToken: 'replay-at-limit' })).JobId).toBe(first.JobId);
  });

  describe('List*Jobs', () => {
    const all = async (input: ListEntitiesDetectionV2JobsCommandInput) => {
      const ids: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await f.cm.send(new ListEntitiesDetectionV2JobsCommand({ ...input, NextToken }));
        ids.push(...(page.ComprehendMedicalAsyncJobPropertiesList ?? []).map((j) => j.JobId ?? ''));
        NextToken = page.NextToken;
        pages++;
      } while (NextToken);
      return { ids, pages };
    };

    it('filters by JobName and JobStatus, orders by SubmitTimeBefore ascending and SubmitTimeAfter descending, and pages', async () => {
      const t0 = f.clock.now();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two jobs share each submit instant: ties keep submission order.
        ids.push((await startEntities({ JobName: i % 2 === 0 ? 'even' : 'odd' })).JobId ?? '');
        if (i % 2 === 1) f.clock.advance(60_000);
      }
      // The first four (submitted by t0 + 1 min) are done once the clock is 10 minutes past them.
      f.clock.advanceTo(t0 + 11 * 60_000 + 1);

      expect((await all({})).ids).toEqual(ids);
      expect((await all({ Filter: { SubmitTimeBefore: new Date(t0 + 60_001) } })).ids).toEqual(ids.slice(0, 4));
      expect((await all({ Filter: { SubmitTimeAfter: new Date(t0) } })).ids).toEqual(ids.slice(2).reverse());
      expect((await all({ Filter: { JobName: 'odd' } })).ids).toEqual([ids[1], ids[3], ids[5]]);
      expect((await all({ Filter: { JobStatus: 'COMPLETED' } })).ids).toEqual(ids.slice(0, 4));
      expect((await all({ Filter: { JobStatus: 'IN_PROGRESS' } })).ids).toEqual(ids.slice(4));
      expect(await f.cm.send(new ListSNOMEDCTInferenceJobsCommand({}))).toMatchObject({ ComprehendMedicalAsyncJobPropertiesList: [] });

      // Pagination gives the same sequence, in both orders, whatever the page size.
      const paged = await all({ MaxResults: 2 });
      expect(paged).toEqual({ ids, pages: 4 });
      const pagedDesc = await all({ MaxResults: 3, Filter: { SubmitTimeAfter: new Date(t0 - 1) } });
      expect(pagedDesc).toEqual({ ids: [...ids].reverse(), pages: 3 });
      const exact = await f.cm.send(new ListEntitiesDetectionV2JobsCommand({ MaxResults: 7 }));
      expect(exact.NextToken).toBeUndefined();
    });

    it('a NextToken is valid only for the filter that issued it, and survives new submissions', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await startEntities({ JobName: 'n' })).JobId ?? '');
        f.clock.advance(1000);
      }
      const first = await f.cm.send(new ListEntitiesDetectionV2JobsCommand({ MaxResults: 2, Filter: { JobName: 'n' } }));
      const NextToken = first.NextToken;
      expect(NextToken).toBeDefined();
      const reused = await failure(f.cm.send(new ListEntitiesDetectionV2JobsCommand({ NextToken, Filter: { JobName: 'other' } })));
      expect(reused).toBeInstanceOf(InvalidRequestException);
      const snomed = await failure(f.cm.send(new ListSNOMEDCTInferenceJobsCommand({ NextToken, Filter: { JobName: 'n' } })));
      expect(snomed).toBeInstanceOf(InvalidRequestException);
      // A job submitted between pages appears at the end (oldest-first order), not as a duplicate.
      const late = (await startEntities({ JobName: 'n' })).JobId;
      const second = await f.cm.send(new ListEntitiesDetectionV2JobsCommand({ MaxResults: 2, NextToken, Filter: { JobName: 'n' } }));
      expect(second.ComprehendMedicalAsyncJobPropertiesList?.map((j) => j.JobId)).toEqual([ids[2], late]);
    });
  });
});
