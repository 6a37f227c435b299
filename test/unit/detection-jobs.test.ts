import 'aws-sdk-client-mock-jest';
import {
  DescribeEntitiesDetectionV2JobCommand,
  ListEntitiesDetectionV2JobsCommand,
  StartEntitiesDetectionV2JobCommand,
  StartSNOMEDCTInferenceJobCommand,
} from '@aws-sdk/client-comprehendmedical';
import { Keys, statusKey, type BatchItem, type JobRecord } from '../../contracts/table.js';
import { WorkflowError } from '../../contracts/workflow.js';
import { ensureDetectionJobs, type DetectionJobsDeps } from '../../lambdas/shared/detection-jobs.js';
import {
  BUCKET,
  CapturingLogger,
  FakeComprehend,
  TestClock,
  createWorld,
  getBatch,
  putItem,
  recordingDoc,
  startDynamo,
  type FakeJob,
  type LocalDynamo,
  type World,
} from '../fixtures/ingest/harness.js';

let dynamo: LocalDynamo;
let world: World;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  world = await createWorld(dynamo);
});

const BATCH = 'b001-20260101';
const created = '2026-01-01T07:00:00.000Z';

async function sealedBatch(extra: Partial<BatchItem> = {}, batchId = BATCH): Promise<void> {
  const item: BatchItem = {
    ...Keys.batch(batchId),
    sk: 'BATCH',
    entity: 'BATCH',
    batchId,
    status: 'SEALED',
    documentIds: ['a'.repeat(32)],
    documentCount: 1,
    createdAt: created,
    updatedAt: created,
    gsi1pk: statusKey('BATCH', 'SEALED'),
    gsi1sk: created,
    ...extra,
  };
  await putItem(world, { ...item });
}

function deps(overrides: Partial<DetectionJobsDeps> = {}): DetectionJobsDeps {
  return {
    dynamo: dynamo.doc,
    comprehend: world.comprehend.client,
    config: world.config,
    logger: world.logger,
    now: world.clock.now,
    ...overrides,
  };
}

/** A job as Comprehend Medical would list it (started earlier, by someone). */
function existingJob(type: FakeJob['type'], status: string, JobId: string, batchId = BATCH): FakeJob {
  const job: FakeJob = {
    type,
    JobId,
    JobName: `chartflow-${batchId}-${type === 'entities' ? 'entities' : 'snomedct'}`,
    JobStatus: status,
    SubmitTime: new Date(Date.UTC(2026, 0, 1, 7)),
    input: { InputDataConfig: { S3Bucket: BUCKET }, OutputDataConfig: { S3Bucket: BUCKET }, DataAccessRoleArn: 'arn', LanguageCode: 'en' },
  };
  world.comprehend.jobs.push(job);
  return job;
}

describe('ensureDetectionJobs', () => {
  test('starts both jobs of a sealed batch with the exact parameters, records them and releases the lease', async () => {
    await sealedBatch();

    const ids = await ensureDetectionJobs(BATCH, deps());

    const [entities, snomed] = world.comprehend.jobs;
    expect(ids).toEqual({ entitiesJobId: entities?.JobId, snomedJobId: snomed?.JobId });
    const common = {
      InputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${BATCH}/input/` },
      DataAccessRoleArn: world.config.dataAccessRoleArn,
      KMSKey: world.config.kmsKeyArn,
      LanguageCode: 'en',
    };
    expect(entities?.input).toEqual({
      ...common,
      OutputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${BATCH}/output/entities/` },
      JobName: `chartflow-${BATCH}-entities`,
      ClientRequestToken: `${BATCH}-entities-0`,
    });
    expect(snomed?.input).toEqual({
      ...common,
      OutputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${BATCH}/output/snomedct/` },
      JobName: `chartflow-${BATCH}-snomedct`,
      ClientRequestToken: `${BATCH}-snomedct-0`,
    });
    expect(world.comprehend.mock).toHaveReceivedCommandWith(ListEntitiesDetectionV2JobsCommand, {
      Filter: { JobName: `chartflow-${BATCH}-entities` },
    });
    const batch = await getBatch(world, BATCH);
    expect(batch?.entitiesJob).toEqual({ jobId: entities?.JobId, status: 'SUBMITTED', submitTime: '2026-01-01T08:00:00.000Z' });
    expect(batch?.snomedJob).toEqual({ jobId: snomed?.JobId, status: 'SUBMITTED', submitTime: '2026-01-01T08:00:00.000Z' });
    expect(batch?.jobStartLease).toBeUndefined();
    expect(batch?.status).toBe('SEALED');
  });

  test('live recorded jobs are reused without any Comprehend Medical call or lease', async () => {
    const live: JobRecord = { jobId: 'e'.repeat(32), status: 'IN_PROGRESS' };
    await sealedBatch({ entitiesJob: live, snomedJob: { jobId: 's'.repeat(32), status: 'COMPLETED' } });
    const operations: string[] = [];

    const ids = await ensureDetectionJobs(BATCH, deps({ dynamo: recordingDoc(dynamo, operations) }));

    expect(ids).toEqual({ entitiesJobId: 'e'.repeat(32), snomedJobId: 's'.repeat(32) });
    expect(world.comprehend.mock.calls()).toHaveLength(0);
    expect(operations).toEqual(['GetItem']);
  });

  test('only the missing job is started', async () => {
    await sealedBatch({ entitiesJob: { jobId: 'e'.repeat(32), status: 'SUBMITTED' } });

    const ids = await ensureDetectionJobs(BATCH, deps());

    expect(ids.entitiesJobId).toBe('e'.repeat(32));
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartEntitiesDetectionV2JobCommand, 0);
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartSNOMEDCTInferenceJobCommand, 1);
  });

  test.each(['FAILED', 'STOPPED'])('a %s job is restarted with the next attempt token', async (status) => {
    const dead = existingJob('entities', status, 'd'.repeat(32));
    await sealedBatch({ entitiesJob: { jobId: dead.JobId, status }, snomedJob: { jobId: 's'.repeat(32), status: 'COMPLETED' } });

    const ids = await ensureDetectionJobs(BATCH, deps());

    const restarted = world.comprehend.jobs.at(-1);
    expect(restarted?.input.ClientRequestToken).toBe(`${BATCH}-entities-1`);
    expect(ids).toEqual({ entitiesJobId: restarted?.JobId, snomedJobId: 's'.repeat(32) });
    expect((await getBatch(world, BATCH))?.entitiesJob?.jobId).toBe(restarted?.JobId);
  });

  describe('redrive of a FAILED batch: recorded statuses are checked with Describe*Job', () => {
    /** Both pollers were cut short by the batch's failure: the records still say IN_PROGRESS; at the service entities COMPLETED, SNOMED CT FAILED. */
    async function failedBatchWithStaleRecords(): Promise<void> {
      existingJob('entities', 'COMPLETED', 'e'.repeat(32));
      existingJob('snomed', 'FAILED', 's'.repeat(32));
      await sealedBatch({
        status: 'FAILED',
        entitiesJob: { jobId: 'e'.repeat(32), status: 'IN_PROGRESS' },
        snomedJob: { jobId: 's'.repeat(32), status: 'IN_PROGRESS' },
      });
    }

    test('a job recorded as running but FAILED at the service is restarted; a COMPLETED one is reused', async () => {
      await failedBatchWithStaleRecords();

      const ids = await ensureDetectionJobs(BATCH, deps());

      expect(ids.entitiesJobId).toBe('e'.repeat(32));
      expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartEntitiesDetectionV2JobCommand, 0);
      expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartSNOMEDCTInferenceJobCommand, 1);
      expect(ids.snomedJobId).toBe(world.comprehend.jobs.at(-1)?.JobId);
      expect(world.comprehend.jobs.at(-1)?.input.ClientRequestToken).toBe(`${BATCH}-snomedct-1`);
    });

    test('a recorded job the service no longer knows (expired) is restarted', async () => {
      existingJob('snomed', 'COMPLETED', 's'.repeat(32));
      await sealedBatch({ status: 'FAILED', entitiesJob: { jobId: 'e'.repeat(32), status: 'IN_PROGRESS' }, snomedJob: { jobId: 's'.repeat(32), status: 'COMPLETED' } });

      const ids = await ensureDetectionJobs(BATCH, deps());

      expect(ids.snomedJobId).toBe('s'.repeat(32));
      expect(ids.entitiesJobId).toBe(world.comprehend.jobs.at(-1)?.JobId);
      expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartEntitiesDetectionV2JobCommand, 1);
    });

    test('a Describe that fails once the lease is taken releases the lease (a retry can then go on)', async () => {
      await failedBatchWithStaleRecords();
      // The first check (before the lease) goes through; the re-check under the lease is throttled.
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      const completed = { ComprehendMedicalAsyncJobProperties: { JobId: 'e'.repeat(32), JobStatus: 'COMPLETED' as const } };
      world.comprehend.mock.on(DescribeEntitiesDetectionV2JobCommand).resolvesOnce(completed).rejectsOnce(throttled);

      await expect(ensureDetectionJobs(BATCH, deps())).rejects.toMatchObject({ name: WorkflowError.DetectionJobsThrottled });
      expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();

      world.comprehend.mock.on(DescribeEntitiesDetectionV2JobCommand).resolves(completed);
      const ids = await ensureDetectionJobs(BATCH, deps());
      expect(ids.entitiesJobId).toBe('e'.repeat(32));
      expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartSNOMEDCTInferenceJobCommand, 1);
    });
  });

  test('a recorded dead job that expired from List still counts as an attempt', async () => {
    await sealedBatch({ entitiesJob: { jobId: 'd'.repeat(32), status: 'FAILED' }, snomedJob: { jobId: 's'.repeat(32), status: 'COMPLETED' } });

    await ensureDetectionJobs(BATCH, deps());

    expect(world.comprehend.jobs.at(-1)?.input.ClientRequestToken).toBe(`${BATCH}-entities-1`);
  });

  test('a job started by a caller that died before recording it is found by name and adopted', async () => {
    const orphan = existingJob('entities', 'IN_PROGRESS', 'o'.repeat(32));
    existingJob('entities', 'FAILED', 'f'.repeat(32));
    await sealedBatch();

    const ids = await ensureDetectionJobs(BATCH, deps());

    expect(ids.entitiesJobId).toBe(orphan.JobId);
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartEntitiesDetectionV2JobCommand, 0);
    expect((await getBatch(world, BATCH))?.entitiesJob).toEqual({
      jobId: orphan.JobId,
      status: 'IN_PROGRESS',
      submitTime: '2026-01-01T07:00:00.000Z',
    });
    expect(world.logger.messages()).toContain('detection job adopted');
  });

  test('jobs of another batch are never adopted', async () => {
    existingJob('entities', 'IN_PROGRESS', 'x'.repeat(32), 'b999-20260101');
    await sealedBatch();

    const ids = await ensureDetectionJobs(BATCH, deps());

    expect(ids.entitiesJobId).not.toBe('x'.repeat(32));
  });

  test('a lease held by another caller -> JobStartInProgress, nothing started', async () => {
    await sealedBatch({ jobStartLease: { owner: 'someone-else', expiresAt: '2026-01-01T08:01:00.000Z' } });

    await expect(ensureDetectionJobs(BATCH, deps())).rejects.toMatchObject({ name: WorkflowError.JobStartInProgress });

    expect(world.comprehend.mock.calls()).toHaveLength(0);
    expect((await getBatch(world, BATCH))?.jobStartLease?.owner).toBe('someone-else');
  });

  test('an expired lease (its owner died) is taken over', async () => {
    await sealedBatch({ jobStartLease: { owner: 'dead-caller', expiresAt: '2026-01-01T07:59:59.999Z' } });

    await ensureDetectionJobs(BATCH, deps({ leaseOwner: 'me' }));

    expect(world.comprehend.jobs).toHaveLength(2);
    expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();
  });

  test('the lease lasts two minutes', async () => {
    await sealedBatch();
    let lease: BatchItem['jobStartLease'];
    world.comprehend.mock.on(StartEntitiesDetectionV2JobCommand).callsFake(async () => {
      lease = (await getBatch(world, BATCH))?.jobStartLease;
      return { JobId: 'e'.repeat(32) };
    });

    await ensureDetectionJobs(BATCH, deps({ leaseOwner: 'me' }));

    expect(lease).toEqual({ owner: 'me', expiresAt: '2026-01-01T08:02:00.000Z' });
  });

  test('a lease lost while starting -> JobStartInProgress (the new holder finds the job by name)', async () => {
    await sealedBatch();
    world.comprehend.mock.on(StartEntitiesDetectionV2JobCommand).callsFake(async () => {
      await putItem(world, { ...(await getBatch(world, BATCH)), jobStartLease: { owner: 'usurper', expiresAt: '2026-01-01T09:00:00.000Z' } });
      return { JobId: 'e'.repeat(32) };
    });

    await expect(ensureDetectionJobs(BATCH, deps())).rejects.toMatchObject({ name: WorkflowError.JobStartInProgress });

    const batch = await getBatch(world, BATCH);
    expect(batch?.entitiesJob).toBeUndefined();
    expect(batch?.jobStartLease?.owner).toBe('usurper');
  });

  test('TooManyRequests -> DetectionJobsThrottled (cause kept), lease released, retry starts the job', async () => {
    await sealedBatch();
    world.comprehend.throttled.add('entities');

    const error = await ensureDetectionJobs(BATCH, deps()).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ name: WorkflowError.DetectionJobsThrottled });
    expect((error as Error).cause).toMatchObject({ name: 'TooManyRequestsException' });
    expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();

    world.comprehend.throttled.clear();
    await ensureDetectionJobs(BATCH, deps());
    expect(world.comprehend.jobs.map((j) => j.input.ClientRequestToken)).toEqual([`${BATCH}-entities-0`, `${BATCH}-snomedct-0`]);
  });

  test('transient server errors -> DetectionJobsUnavailable (cause kept), lease released; Describe too', async () => {
    await sealedBatch();
    world.comprehend.mock.on(StartEntitiesDetectionV2JobCommand).rejects(Object.assign(new Error('oops'), { name: 'InternalServerException' }));

    const error = await ensureDetectionJobs(BATCH, deps()).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ name: WorkflowError.DetectionJobsUnavailable });
    expect((error as Error).cause).toMatchObject({ name: 'InternalServerException' });
    expect((await getBatch(world, BATCH))?.jobStartLease).toBeUndefined();

    const comprehend = new FakeComprehend(new TestClock().now);
    comprehend.mock.on(ListEntitiesDetectionV2JobsCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailableException' }));
    await expect(ensureDetectionJobs(BATCH, deps({ comprehend: comprehend.client }))).rejects.toMatchObject({
      name: WorkflowError.DetectionJobsUnavailable,
    });
  });

  test('throttled List is throttled too', async () => {
    await sealedBatch();
    const comprehend = new FakeComprehend(new TestClock().now);
    comprehend.mock.on(ListEntitiesDetectionV2JobsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    await expect(ensureDetectionJobs(BATCH, deps({ comprehend: comprehend.client }))).rejects.toMatchObject({
      name: WorkflowError.DetectionJobsThrottled,
    });
  });

  test('other Comprehend Medical errors pass through unchanged and the lease is released', async () => {
    await sealedBatch();
    world.comprehend.mock.on(StartSNOMEDCTInferenceJobCommand).rejects(Object.assign(new Error('denied'), { name: 'InvalidRequestException' }));

    await expect(ensureDetectionJobs(BATCH, deps())).rejects.toMatchObject({ name: 'InvalidRequestException' });

    const batch = await getBatch(world, BATCH);
    expect(batch?.entitiesJob?.jobId).toBeDefined();
    expect(batch?.jobStartLease).toBeUndefined();
  });

  test.each([
    ['a missing batch', undefined, BATCH],
    ['an OPEN batch', 'OPEN' as const, BATCH],
    ['an invalid batch id', undefined, 'has_underscore'],
  ])('%s -> BatchStateError', async (_label, status, batchId) => {
    if (status) await sealedBatch({ status, documentIds: undefined, documentCount: undefined });

    await expect(ensureDetectionJobs(batchId, deps())).rejects.toMatchObject({ name: WorkflowError.BatchStateError });
    expect(world.comprehend.mock.calls()).toHaveLength(0);
  });

  test('logs carry ids only', async () => {
    await sealedBatch();
    const logger = new CapturingLogger();

    await ensureDetectionJobs(BATCH, deps({ logger }));

    expect(logger.messages()).toEqual(['detection job started', 'detection job started']);
    expect(logger.lines.join()).not.toContain(world.config.dataAccessRoleArn);
  });
});
