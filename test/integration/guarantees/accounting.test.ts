/**
 * The audit itself: clean on a clean run, and it catches each planted violation — an output
 * deleted, a second job started for the same documents, an event missing, a document lost.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ComprehendMedicalClient, StartEntitiesDetectionV2JobCommand } from '@aws-sdk/client-comprehendmedical';
import { auditRun, auditState, collectRunState, type RunState } from '../../support/accounting.js';
import { dropAndSettle, sampleDrops, startScenario, type Scenario } from './harness.js';

let scenario: Scenario;
let clean: RunState;
const drops = [...sampleDrops('clinic-south'), { key: 'inbox/empty.txt', body: '' }];
const dropped = drops.map((d) => d.key);

beforeAll(async () => {
  scenario = await startScenario();
  await dropAndSettle(scenario.runtime, drops);
  clean = await collectRunState(scenario.runtime);
}, 120_000);
afterAll(() => scenario?.stop());

test('a clean run passes, with every document counted once', () => {
  const { counts, violations } = auditState(clean, { dropped });
  expect(violations).toEqual([]);
  expect(counts).toMatchObject({ documents: 7, processed: 6, rejected: 1, lost: 0, duplicated: 0, duplicateJobs: 0, batches: 1, comprehendJobs: 2 });
});

test('a document nobody dropped, or one expected to be ignored, is reported', () => {
  const { violations } = auditState(clean, { dropped: dropped.slice(1), ignored: [dropped[0]!] });
  expect(violations.join('\n')).toMatch(/should be ignored, but has a document record/);
  expect(violations.join('\n')).toMatch(/was never dropped/);
});

test('a dropped document without a record is lost', () => {
  const { counts, violations } = auditState(clean, { dropped: [...dropped, 'inbox/never-arrived.txt'] });
  expect(counts.lost).toBe(1);
  expect(violations).toEqual([expect.stringMatching(/^inbox\/never-arrived\.txt .*: lost \(no document record\)$/)]);
});

test('a missing terminal event is reported', () => {
  const state = { ...clean, events: clean.events.filter((e) => e.detailType !== 'Batch Completed') };
  expect(auditState(state, { dropped }).violations).toEqual([expect.stringMatching(/COMPLETED without a terminal event$/)]);
  const noRejection = { ...clean, events: clean.events.filter((e) => e.detailType !== 'Document Rejected') };
  expect(auditState(noRejection, { dropped }).violations).toEqual([expect.stringMatching(/rejected without a Document Rejected event$/)]);
});

test('a document listed in two batches is duplicated', () => {
  const items = structuredClone(clean.items);
  const batch = items.find((i) => i.entity === 'BATCH')!;
  items.push({ ...batch, pk: 'BATCH#copy', batchId: 'copy', status: 'FAILED' });
  const { counts, violations } = auditState({ ...clean, items }, { dropped, allowFailed: true });
  expect(counts.duplicated).toBe(6);
  expect(violations.some((m) => /duplicated \(batches .*copy/.test(m))).toBe(true);
});

// The last two plant their violation in the real run: order matters.
test('a deleted output is caught', async () => {
  const out = [...clean.keys].find((k) => /\/output\/entities\/.*\.txt\.out$/.test(k))!;
  await scenario.runtime.s3Client().send(new DeleteObjectCommand({ Bucket: clean.bucket, Key: out }));
  const { counts, violations } = await auditRun(scenario.runtime, { dropped });
  expect(violations).toEqual([expect.stringMatching(/the entities \.out file of job [0-9a-f]{32} is missing$/)]);
  expect(counts.processed).toBe(5);
});

test('a second job started for the same documents is caught', async () => {
  const batch = clean.items.find((i) => i.entity === 'BATCH')!;
  const cm = new ComprehendMedicalClient({ endpoint: scenario.runtime.endpoints.comprehendmedical, region: 'us-east-1', credentials: scenario.runtime.credentials });
  await scenario.runtime.scheduler.track(cm.send(new StartEntitiesDetectionV2JobCommand({
    InputDataConfig: { S3Bucket: clean.bucket, S3Key: `batches/${String(batch.batchId)}/input/` },
    OutputDataConfig: { S3Bucket: clean.bucket, S3Key: `batches/${String(batch.batchId)}/output/entities/` },
    DataAccessRoleArn: 'arn:aws:iam::000000000000:role/planted',
    LanguageCode: 'en',
  })));
  cm.destroy();
  const { counts, violations } = await auditRun(scenario.runtime, { dropped });
  expect(counts.duplicateJobs).toBe(1);
  expect(violations).toContainEqual(expect.stringMatching(/^duplicate job: EntitiesDetectionV2 batches\/.*\/input\/: [0-9a-f]{32} started while [0-9a-f]{32} was COMPLETED$/));
});

test('an empty OPEN candidate nobody points at is counted, one with a claim is a violation', () => {
  const items = structuredClone(clean.items);
  items.push({ pk: 'BATCH#orphan', sk: 'BATCH', entity: 'BATCH', batchId: 'orphan', status: 'OPEN' });
  expect(auditState({ ...clean, items }, { dropped })).toMatchObject({ violations: [], counts: { orphanCandidates: 1 } });
  const doc = items.find((i) => i.entity === 'DOCUMENT' && i.status === 'PROCESSED')!;
  doc.batchId = 'orphan';
  expect(auditState({ ...clean, items }, { dropped }).violations).toContainEqual(expect.stringMatching(/left OPEN, without a terminal status$/));
});
