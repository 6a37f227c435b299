/** The collect-results handler as Lambda runs it: middy, the powertools logger, env configuration, crash points. */
import type { CollectResultsOutput } from '../../contracts/workflow.js';
import { Env } from '../../contracts/env.js';
import { batchRecordsKey } from '../../contracts/layout.js';
import { captureOutput, FakeS3, lambdaContext, setEnvironment, startHandlerWorld, type HandlerWorld, type LocalTable } from '../fixtures/steps/harness.js';
import { BATCH, BUCKET, collectInput, KMS, SECRETS, seedBatch, writeJob } from '../fixtures/steps/jobs.js';

type Handler = (event: unknown, context: unknown) => Promise<CollectResultsOutput>;

let dynamo: LocalTable;
let table: string;
let s3: FakeS3;
let world: HandlerWorld<Awaited<ReturnType<Handler>>>;
let handler: Handler;

beforeAll(async () => {
  world = await startHandlerWorld('collect-results', {
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    [Env.DocumentsBucket]: BUCKET,
    [Env.KmsKeyArn]: KMS,
    [Env.CrashAt]: 'collect-results:records-written',
  });
  ({ dynamo, table, handler } = world);
});
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  s3 = new FakeS3();
});
afterEach(() => {
  s3.restore();
});

describe('collect-results handler', () => {
  it('runs the core with the environment, crashes once at the configured point, and logs JSON without PHI', async () => {
    await seedBatch(dynamo, table, s3, ['doc-a', 'doc-b']);
    writeJob(s3, 'entities', ['doc-a', 'doc-b']);
    writeJob(s3, 'snomed', ['doc-a', 'doc-b']);

    const crashed = await captureOutput(() => handler(collectInput(), lambdaContext('CollectResults')));
    expect(crashed.error?.name).toBe('InjectedCrash');

    const run = await captureOutput(() => handler(collectInput(), lambdaContext('CollectResults')));
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ processedCount: 2, outcome: 'COMPLETED', recordsS3Uri: `s3://${BUCKET}/${batchRecordsKey(BATCH)}` });
    expect(s3.get(BUCKET, batchRecordsKey(BATCH))?.put?.SSEKMSKeyId).toBe(KMS);

    const lines = run.output.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'results collected')).toMatchObject({
      batchId: BATCH,
      function_name: 'CollectResults',
      processedCount: 2,
    });
    const everything = `${crashed.output}${run.output}`.toLowerCase();
    expect(SECRETS.filter((s) => everything.includes(s.toLowerCase()))).toEqual([]);
  });

  it('fails with the error name the state machine catches', async () => {
    const { error } = await captureOutput(() => handler({ ...collectInput(), batchId: 'b-unknown' }, lambdaContext('CollectResults')));
    expect(error?.name).toBe('BatchStateError');
  });

  it('names a missing environment variable', async () => {
    const restore = setEnvironment({ [Env.KmsKeyArn]: '' });
    try {
      const { error } = await captureOutput(() => handler(collectInput(), lambdaContext('CollectResults')));
      expect(error?.message).toBe(`Missing environment variable ${Env.KmsKeyArn}`);
    } finally {
      restore();
    }
  });
});
