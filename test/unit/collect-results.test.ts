import { S3ServiceException } from '@aws-sdk/client-s3';
import { collectResults, type CollectDeps } from '../../lambdas/collect-results/collect.js';
import { crashPoints, noCheckpoint } from '../../lambdas/shared/crash.js';
import { batchEntitiesOutputPrefix, batchInputKey, batchRecordsKey, batchSnomedOutputPrefix, IDENTITY_COLUMNS } from '../../contracts/layout.js';
import { Keys, type BatchItem, type DocumentItem } from '../../contracts/table.js';
import { WorkflowError, type CollectResultsInput } from '../../contracts/workflow.js';
import {
  captureLogger,
  documentItem,
  FakeS3,
  getItem,
  putItem,
  startDynamo,
  thrown,
  type CapturedLogger,
  type LocalTable,
} from '../fixtures/steps/harness.js';
import { ACCOUNT, BATCH, BUCKET, collectInput, DOCS, ENTITIES_JOB, KMS, SECRETS, seedBatch, SNOMED_JOB, writeJob } from '../fixtures/steps/jobs.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const input = collectInput;

let dynamo: LocalTable;
let table: string;
let s3: FakeS3;
let log: CapturedLogger;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.newTable();
  s3 = new FakeS3();
  log = captureLogger();
});
afterEach(() => {
  expect(log.leaks(SECRETS)).toEqual([]);
  s3.restore();
});

function deps(overrides: Partial<CollectDeps> = {}): CollectDeps {
  return {
    clients: { s3: s3.client, ddb: dynamo.doc },
    config: { tableName: table, bucket: BUCKET, kmsKeyArn: KMS },
    logger: log.logger,
    now: () => NOW,
    checkpoint: noCheckpoint,
    ...overrides,
  };
}

const seed = (docs: string[], batch: Partial<BatchItem> = {}) => seedBatch(dynamo, table, s3, docs, batch);
const doc = (id: string) => getItem<DocumentItem>(dynamo.doc, table, Keys.document(id));
const batch = () => getItem<BatchItem>(dynamo.doc, table, Keys.batch(BATCH));
const csv = () => s3.get(BUCKET, batchRecordsKey(BATCH));

describe('collect-results', () => {
  it('reads both jobs, writes one identity record per document and records every count', async () => {
    await seed(['doc-a', 'doc-b']);
    writeJob(s3, 'entities', ['doc-a', 'doc-b']);
    writeJob(s3, 'snomed', ['doc-a', 'doc-b']);

    const output = await collectResults(input(), deps());

    expect(output).toEqual({
      processedCount: 2,
      unprocessedCount: 0,
      entityCount: 19 + 12,
      snomedConceptCount: 5 + 1,
      identityRecordCount: 2,
      recordsS3Uri: `s3://${BUCKET}/records/${BATCH}.csv`,
      outcome: 'COMPLETED',
    });

    const records = csv();
    expect(records?.put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS, ContentType: 'text/csv; charset=utf-8' });
    expect(records?.body).toBe(
      `${IDENTITY_COLUMNS.join(',')}\r\n` +
        `doc-a,${BATCH},Maria Elena Lopez,1962-03-14,(217) 555-0142,maria.lopez@example.com,"1452 Oak Street, Springfield, IL 62704",00482913\r\n` +
        `doc-b,${BATCH},John A. Smith,1953-07-04,617-555-0100,,"88 Harbor Rd, Apt 4, Boston, MA 02110",A-99812\r\n`,
    );

    expect(await doc('doc-a')).toMatchObject({
      status: 'PROCESSED',
      batchId: BATCH,
      entityCount: 19,
      entitiesByCategory: { PROTECTED_HEALTH_INFORMATION: 11, MEDICAL_CONDITION: 4, MEDICATION: 2, TEST_TREATMENT_PROCEDURE: 2 },
      snomedConceptCount: 5,
      updatedAt: NOW.toISOString(),
      gsi1pk: 'DOC#PROCESSED',
      gsi1sk: NOW.toISOString(),
    });
    expect((await doc('doc-a'))?.reason).toBeUndefined();

    expect(await batch()).toMatchObject({
      status: 'AWAITING_MATCH',
      processedCount: 2,
      unprocessedCount: 0,
      entityCount: 31,
      snomedConceptCount: 6,
      identityRecordCount: 2,
      outcome: 'COMPLETED',
      // The submit times recorded by the pollers stay; the end times come from Describe*Job.
      entitiesJob: { jobId: ENTITIES_JOB, status: 'COMPLETED', submitTime: '2026-03-01T11:00:00.000Z', endTime: '2026-03-01T11:20:00.000Z' },
      snomedJob: { jobId: SNOMED_JOB, status: 'COMPLETED', submitTime: '2026-03-01T11:00:01.000Z', endTime: '2026-03-01T11:21:30.000Z' },
      gsi1pk: 'BATCH#AWAITING_MATCH',
      gsi1sk: NOW.toISOString(),
    });
    expect(log.lines.join('\n')).toContain('results collected');
  });

  it('is PARTIAL_SUCCESS when a job failed a document or wrote no output for it: those are UNPROCESSED with the reason', async () => {
    await seed(DOCS);
    writeJob(s3, 'entities', DOCS, { failed: [{ doc: 'doc-c', code: 'INTERNAL_ERROR', message: 'Internal server error while processing the file' }] });
    writeJob(s3, 'snomed', DOCS, { outputs: ['doc-a', 'doc-b', 'doc-c'] });

    const output = await collectResults(input({ entities: 'PARTIAL_SUCCESS' }), deps());

    expect(output).toMatchObject({ processedCount: 2, unprocessedCount: 2, identityRecordCount: 2, outcome: 'PARTIAL_SUCCESS' });
    expect(await doc('doc-c')).toMatchObject({
      status: 'UNPROCESSED',
      reason: 'entities: INTERNAL_ERROR: Internal server error while processing the file',
      gsi1pk: 'DOC#UNPROCESSED',
    });
    expect(await doc('doc-d')).toMatchObject({ status: 'UNPROCESSED', reason: expect.stringMatching(/^snomedct: NO_OUTPUT: job f0e1/) });
    expect((await doc('doc-d'))?.entityCount).toBeUndefined();
    const rows = csv()?.body.trim().split('\r\n') ?? [];
    expect(rows.map((r) => r.split(',')[0])).toEqual(['record_id', 'doc-a', 'doc-b']);
    expect(await batch()).toMatchObject({ outcome: 'PARTIAL_SUCCESS', unprocessedCount: 2, entitiesJob: { status: 'PARTIAL_SUCCESS' } });
    // Logged by id and reason code, never by text.
    expect(log.lines.some((l) => l.includes('doc-c') && l.includes('INTERNAL_ERROR'))).toBe(true);
  });

  it('finds the file lists through the summary locations (JSON lines) and ignores other jobs under the same prefix', async () => {
    await seed(['doc-a', 'doc-c']);
    writeJob(s3, 'entities', ['doc-a', 'doc-c'], { lists: 'summary-locations', failed: [{ doc: 'doc-c', code: 'UNSUPPORTED', message: 'bad file' }] });
    writeJob(s3, 'snomed', ['doc-a', 'doc-c'], { lists: 'summary-locations' });
    // An earlier job of the same batch (a redrive started new jobs): never read.
    s3.put(BUCKET, `${batchEntitiesOutputPrefix(BATCH)}${ACCOUNT}-EntitiesDetection-0000aaaa/Manifest`, '{"Summary":{}}');
    s3.put(BUCKET, `${batchEntitiesOutputPrefix(BATCH)}${ACCOUNT}-EntitiesDetection-0000aaaa/doc-c.txt.out`, '{"Entities":[]}');
    s3.pageSize = 2; // and list in pages

    const output = await collectResults(input(), deps());

    expect(output).toMatchObject({ processedCount: 1, unprocessedCount: 1 });
    expect(await doc('doc-c')).toMatchObject({ status: 'UNPROCESSED', reason: 'entities: UNSUPPORTED: bad file' });
    expect(s3.gets.some((k) => k.includes('0000aaaa'))).toBe(false);
  });

  it('records an unreadable .out and a vanished input as reasons, not crashes', async () => {
    await seed(['doc-a', 'doc-b', 'doc-c']);
    writeJob(s3, 'entities', ['doc-a', 'doc-b', 'doc-c'], { overrides: { 'doc-b': '{"NotEntities": true}' } });
    writeJob(s3, 'snomed', ['doc-a', 'doc-b', 'doc-c']);
    s3.objects.delete(`${BUCKET}/${batchInputKey(BATCH, 'doc-c')}`);

    const output = await collectResults(input(), deps());

    expect(output).toMatchObject({ processedCount: 1, unprocessedCount: 2, outcome: 'PARTIAL_SUCCESS' });
    expect((await doc('doc-b'))?.reason).toMatch(/^entities: OUTPUT_UNREADABLE/);
    expect((await doc('doc-c'))?.reason).toMatch(/^input: INPUT_MISSING/);
  });

  it('lets other S3 errors through instead of recording them as a reason', async () => {
    await seed(['doc-a']);
    writeJob(s3, 'entities', ['doc-a']);
    writeJob(s3, 'snomed', ['doc-a']);
    s3.failures.set(batchInputKey(BATCH, 'doc-a'), new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: {} }));

    expect((await thrown(() => collectResults(input(), deps()))).name).toBe('AccessDenied');
    expect((await doc('doc-a'))?.status).toBe('CLAIMED');
  });

  it('throws OutputsUnreadable when no document has outputs of both jobs, after recording each reason', async () => {
    await seed(['doc-a', 'doc-b']);
    writeJob(s3, 'entities', ['doc-a', 'doc-b'], { outputs: ['doc-a'] });
    writeJob(s3, 'snomed', ['doc-a', 'doc-b'], { outputs: ['doc-b'] });

    const error = await thrown(() => collectResults(input(), deps()));

    expect(error.name).toBe(WorkflowError.OutputsUnreadable);
    expect(await doc('doc-a')).toMatchObject({ status: 'UNPROCESSED', reason: expect.stringContaining('snomedct: NO_OUTPUT') });
    expect(await doc('doc-b')).toMatchObject({ status: 'UNPROCESSED', reason: expect.stringContaining('entities: NO_OUTPUT') });
    expect((await batch())?.status).toBe('SUBMITTED');
    expect(csv()).toBeUndefined();
  });

  it.each([
    ['no output folder', () => writeJob(s3, 'snomed', ['doc-a'], { outputs: [], manifest: 'missing', lists: 'none' }), /snomedct job .*: no output folder/],
    ['no Manifest', () => writeJob(s3, 'snomed', ['doc-a'], { manifest: 'missing' }), /snomedct job .*: no Manifest/],
    ['a malformed Manifest', () => writeJob(s3, 'snomed', ['doc-a'], { manifest: 'malformed' }), /snomedct job .*: Manifest is not JSON/],
  ])('throws OutputsUnreadable for %s, and writes nothing', async (_case, arrange, message) => {
    await seed(['doc-a']);
    writeJob(s3, 'entities', ['doc-a']);
    arrange();

    const error = await thrown(() => collectResults(input(), deps()));

    expect(error.name).toBe(WorkflowError.OutputsUnreadable);
    expect(error.message).toMatch(message);
    expect(csv()).toBeUndefined();
    expect((await doc('doc-a'))?.status).toBe('CLAIMED');
  });

  it('a malformed failed list is OutputsUnreadable', async () => {
    await seed(['doc-a']);
    writeJob(s3, 'entities', ['doc-a']);
    writeJob(s3, 'snomed', ['doc-a']);
    s3.put(BUCKET, `${batchSnomedOutputPrefix(BATCH)}Manifest_${ACCOUNT}-InferSNOMEDCT-${SNOMED_JOB}/failed/FailedFiles.json`, 'not json\n{');
    expect((await thrown(() => collectResults(input(), deps()))).name).toBe(WorkflowError.OutputsUnreadable);
  });

  it('is idempotent: a second run leaves the same records and items', async () => {
    await seed(DOCS);
    writeJob(s3, 'entities', DOCS, { failed: [{ doc: 'doc-d', code: 'X', message: 'y' }] });
    writeJob(s3, 'snomed', DOCS);

    const first = await collectResults(input(), deps());
    const firstCsv = csv()?.body;
    const firstItems = await Promise.all([batch(), ...DOCS.map(doc)]);
    const second = await collectResults(input(), deps({ now: () => new Date(NOW.getTime() + 60_000) }));

    expect(second).toEqual(first);
    expect(csv()?.body).toBe(firstCsv);
    const strip = (item: object | undefined) => ({ ...item, updatedAt: undefined, gsi1sk: undefined });
    const secondItems = await Promise.all([batch(), ...DOCS.map(doc)]);
    expect(secondItems.map(strip)).toEqual(firstItems.map(strip));
  });

  it.each(['outputs-located', 'outputs-read', 'records-written', 'documents-updated'])(
    'survives a crash at %s: the retry ends as one clean run',
    async (step) => {
      await seed(['doc-a', 'doc-b']);
      writeJob(s3, 'entities', ['doc-a', 'doc-b']);
      writeJob(s3, 'snomed', ['doc-a', 'doc-b']);
      const checkpoint = crashPoints('collect-results', `collect-results:${step}`);

      expect((await thrown(() => collectResults(input(), deps({ checkpoint })))).name).toBe('InjectedCrash');
      const output = await collectResults(input(), deps({ checkpoint }));

      expect(output).toMatchObject({ processedCount: 2, outcome: 'COMPLETED' });
      expect((await batch())?.status).toBe('AWAITING_MATCH');
      expect(csv()?.body.split('\r\n')).toHaveLength(4);
    },
  );

  it('re-collects a FAILED batch (redrive) and clears its old error', async () => {
    await seed(['doc-a'], { status: 'FAILED', error: 'OutputsUnreadable', cause: 'earlier' });
    writeJob(s3, 'entities', ['doc-a']);
    writeJob(s3, 'snomed', ['doc-a']);
    await collectResults(input(), deps());
    const item = await batch();
    expect(item?.status).toBe('AWAITING_MATCH');
    expect(item?.error).toBeUndefined();
    expect(item?.cause).toBeUndefined();
  });

  it.each([
    ['a missing batch', async () => {}, /not found/],
    ['a COMPLETED batch', () => seed(['doc-a'], { status: 'COMPLETED' }), /is COMPLETED/],
    ['a batch without documents', () => seed([], { status: 'SUBMITTED' }), /has no documents/],
  ])('throws BatchStateError for %s', async (_case, arrange, message) => {
    await arrange();
    const error = await thrown(() => collectResults(input(), deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect(error.message).toMatch(message);
  });

  it('throws BatchStateError when a document belongs to another batch', async () => {
    await seed(['doc-a']);
    await putItem(dynamo.doc, table, { ...documentItem('doc-a', 'b-other') });
    writeJob(s3, 'entities', ['doc-a']);
    writeJob(s3, 'snomed', ['doc-a']);
    const error = await thrown(() => collectResults(input(), deps()));
    expect(error.name).toBe(WorkflowError.BatchStateError);
    expect(error.message).toMatch(/doc-a .* another batch/);
  });

  it('rejects malformed input with a clear error', async () => {
    const bad = { batchId: 'has spaces', entities: {}, snomed: {} } as unknown as CollectResultsInput;
    const error = await thrown(() => collectResults(bad, deps()));
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toMatch(/collect-results expects/);
  });
});
