/**
 * The whole pipeline on the bundled samples, offline: the synthesized stack on the emulators,
 * driven through the real SDK clients (S3 in, DynamoDB / EventBridge archive / S3 outputs read
 * back). Checks the accounting: every dropped document ends processed in exactly one batch or
 * rejected with a reason, and the table, the events and the objects agree.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import Ajv from 'ajv';
import { detailSchemas } from '../../contracts/event-schemas.js';
import type { DetailTypeName } from '../../contracts/events.js';
import { collectFiles } from '../../local/cli.js';
import { LocalRuntime } from '../../local/runtime/runtime.js';
import { summarize, type RunSummary } from '../../local/runtime/summary.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-it-'));
let runtime: LocalRuntime;
let summary: RunSummary;
const files = collectFiles(['samples']);

beforeAll(async () => {
  runtime = await LocalRuntime.start({ dataDir });
  const s3 = runtime.s3Client();
  await runtime.scheduler.track((async () => {
    for (const { file, key } of files) await s3.send(new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: readFileSync(file) }));
  })());
  await runtime.settled();
  summary = await summarize(runtime);
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('every document ends in exactly one terminal state', () => {
  const bad = files.filter((f) => f.key.startsWith('inbox/bad/') && !f.key.includes('spaces')).length;
  expect(summary.documents.dropped).toBe(files.length);
  expect(summary.documents.rejected).toBe(bad);
  expect(summary.documents.processed + summary.documents.rejected + summary.documents.unprocessed).toBe(files.length);
  expect(summary.documents.rejectedReasons).toEqual({ EMPTY: 1, NOT_UTF8: 1, TOO_LARGE: 1 });
  expect(summary.deadLetters).toBe(0);
});

test('batches complete; never one job per document', () => {
  expect(summary.batches.length).toBeGreaterThanOrEqual(1);
  for (const b of summary.batches) expect(b.status).toBe('COMPLETED');
  expect(summary.batches.reduce((n, b) => n + b.documents, 0)).toBe(summary.documents.processed);
  expect(summary.comprehendJobs).toBe(2 * summary.batches.length);
});

test('every category of entity is found and SNOMED CT concepts are linked', () => {
  for (const category of ['MEDICAL_CONDITION', 'MEDICATION', 'ANATOMY', 'TEST_TREATMENT_PROCEDURE', 'PROTECTED_HEALTH_INFORMATION', 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL', 'TIME_EXPRESSION']) {
    expect(summary.entitiesByCategory[category] ?? 0).toBeGreaterThan(0);
  }
  expect(summary.snomedConcepts).toBeGreaterThan(0);
});

test('patients who appear in several notes are linked by Entity Resolution', () => {
  expect(summary.matchingRuns.every((r) => r.status === 'SUCCEEDED')).toBe(true);
  expect(summary.matchingRuns.length).toBeLessThanOrEqual(summary.batches.length);
  expect(summary.patients.records).toBe(summary.documents.processed);
  expect(summary.patients.linkedGroups).toBeGreaterThanOrEqual(6);
});

test('the outputs are in the Comprehend Medical layout, one .out per document per job', async () => {
  const s3 = runtime.s3Client();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: runtime.bucketName, Prefix: 'batches/', ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  expect(keys.filter((k) => /\/output\/entities\/000000000000-EntitiesDetection-[0-9a-f]{32}\/[0-9a-f]{32}\.txt\.out$/.test(k))).toHaveLength(summary.documents.processed);
  expect(keys.filter((k) => /\/output\/snomedct\/000000000000-SNOMEDCTInference-[0-9a-f]{32}\/[0-9a-f]{32}\.txt\.out$/.test(k))).toHaveLength(summary.documents.processed);
  expect(keys.filter((k) => k.endsWith('/Manifest'))).toHaveLength(2 * summary.batches.length);
});

test('every event matches its JSON Schema and carries no document text', () => {
  const ajv = new Ajv({ strict: false, validateFormats: false });
  const texts = files.filter((f) => !f.key.startsWith('inbox/bad/')).map((f) => readFileSync(f.file, 'utf8'));
  const phrases = texts.flatMap((t) => t.split(/\n/).map((l) => l.trim()).filter((l) => l.length > 40));
  const events = runtime.eventsSeen().map((e) => e.event);
  expect(events.length).toBe(Object.values(summary.events).reduce((a, b) => a + b, 0));
  for (const event of events) {
    const validate = ajv.compile(detailSchemas[event['detail-type'] as DetailTypeName]);
    expect({ type: event['detail-type'], valid: validate(event.detail), errors: validate.errors }).toMatchObject({ valid: true });
    const json = JSON.stringify(event);
    for (const phrase of phrases) expect(json.includes(phrase)).toBe(false);
  }
});
