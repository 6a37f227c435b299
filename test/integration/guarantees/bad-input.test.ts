/**
 * Bad input: every odd file gets a clear, recorded outcome — processed, rejected with a reason, or
 * ignored because it is not a document under `inbox/` — nothing crashes, nothing reaches the DLQ,
 * and the accounting audit passes.
 *
 * Keys with `//` (rejected UNREADABLE_KEY: Comprehend Medical cannot read them) are not here: the
 * local S3 (s3rver) cannot store them at all (it answers 404), so their rejection is covered by
 * test/unit/ingest.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DocumentItem } from '../../../contracts/table.js';
import { documentId } from '../../../lambdas/shared/documents.js';
import { scanAll } from '../../../local/runtime/summary.js';
import { auditRun } from '../../support/accounting.js';
import { dropAndSettle, startScenario, type Drop, type Scenario } from './harness.js';

type Outcome = 'processed' | 'ignored' | `rejected:${string}`;

const note = 'Patient seen for follow-up of hypertension. Blood pressure 128/82. Continue lisinopril 10 mg daily.\n';
const bytes = (...b: number[]) => Uint8Array.from(b);
const MAX = 70_000;

const cases: Array<Drop & { outcome: Outcome; why: string }> = [
  { key: 'inbox/bad/empty.txt', body: '', outcome: 'rejected:EMPTY', why: 'an empty file' },
  { key: 'inbox/bad/one-byte.txt', body: 'a', outcome: 'processed', why: 'the smallest document' },
  { key: 'inbox/bad/whitespace.txt', body: ' \n\t\n', outcome: 'processed', why: 'text, if no entities' },
  { key: 'inbox/bad/image.png', body: bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52), outcome: 'rejected:NOT_UTF8', why: 'binary' },
  { key: 'inbox/bad/scan.pdf', body: Buffer.concat([Buffer.from('%PDF-1.7\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n1 0 obj\n')]), outcome: 'rejected:NOT_UTF8', why: 'a PDF' },
  { key: 'inbox/bad/utf16.txt', body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(note, 'utf16le')]), outcome: 'rejected:NOT_UTF8', why: 'UTF-16 with a BOM' },
  { key: 'inbox/bad/latin1.txt', body: Buffer.from('Patient: Zoë Müller, café au lait spots.\n', 'latin1'), outcome: 'rejected:NOT_UTF8', why: 'Latin-1' },
  { key: 'inbox/bad/overlong.txt', body: bytes(0x61, 0xc0, 0xaf, 0x62), outcome: 'rejected:NOT_UTF8', why: 'an overlong encoding' },
  { key: 'inbox/bad/surrogate.txt', body: bytes(0x61, 0xed, 0xa0, 0x80, 0x62), outcome: 'rejected:NOT_UTF8', why: 'an encoded surrogate' },
  { key: 'inbox/bad/truncated.txt', body: Buffer.concat([Buffer.from(note), Buffer.from([0xe6, 0x97])]), outcome: 'rejected:NOT_UTF8', why: 'a cut multi-byte character' },
  { key: 'inbox/bad/bom.txt', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(note)]), outcome: 'processed', why: 'UTF-8 with a BOM' },
  { key: 'inbox/bad/at-limit.txt', body: note.repeat(Math.ceil(MAX / note.length)).slice(0, MAX), outcome: 'processed', why: 'exactly the limit' },
  { key: 'inbox/bad/over-limit.txt', body: note.repeat(Math.ceil((MAX + 1) / note.length)).slice(0, MAX + 1), outcome: 'rejected:TOO_LARGE', why: 'one byte over' },
  { key: 'inbox/bad/multibyte-over.txt', body: 'é'.repeat(MAX / 2 + 1), outcome: 'rejected:TOO_LARGE', why: 'over the limit in bytes, not characters' },
  { key: 'inbox/bad/huge.txt', body: Buffer.alloc(5 * 1024 * 1024, 0x61), outcome: 'rejected:TOO_LARGE', why: 'a 5 MB file' },
  { key: 'inbox/', body: '', outcome: 'ignored', why: 'the folder marker of inbox/' },
  { key: 'inbox/upload/', body: '', outcome: 'ignored', why: 'a folder marker' },
  { key: 'inbox/notes with spaces/visit note.txt', body: note, outcome: 'processed', why: 'spaces' },
  { key: 'inbox/plus+sign & ampersand=1.txt', body: note, outcome: 'processed', why: 'characters form encoding changes' },
  { key: 'inbox/percent %20 literal.txt', body: note, outcome: 'processed', why: 'a literal %20' },
  { key: 'inbox/ünïcødé/日本語 ノート 🩺.txt', body: note, outcome: 'processed', why: 'unicode and an emoji' },
  { key: 'inbox/trailing space .txt', body: note, outcome: 'processed', why: 'a space before the extension' },
  { key: 'inbox/upload/2025/01/02/ward-3/deep.txt', body: note, outcome: 'processed', why: 'a folder upload, nested' },
  { key: 'inbox/upload/2025/01/02/ward-3/empty.txt', body: '', outcome: 'rejected:EMPTY', why: 'a nested rejection keeps its path' },
  { key: 'inbox/no-extension', body: note, outcome: 'processed', why: 'no extension' },
  { key: 'outside.txt', body: note, outcome: 'ignored', why: 'outside inbox/' },
  { key: 'inboxed/visit.txt', body: note, outcome: 'ignored', why: 'a prefix that only looks like inbox' },
  { key: 'Inbox/visit.txt', body: note, outcome: 'ignored', why: 'keys are case-sensitive' },
  { key: 'rejected/visit.txt', body: note, outcome: 'ignored', why: 'a pipeline folder' },
];

let scenario: Scenario;
let docs: Map<string, DocumentItem>;

beforeAll(async () => {
  scenario = await startScenario();
  await dropAndSettle(scenario.runtime, cases, 4);
  const dynamo = new DynamoDBClient({ endpoint: scenario.runtime.endpoints.dynamodb, region: 'us-east-1', credentials: scenario.runtime.credentials });
  docs = new Map((await scanAll(dynamo, scenario.runtime.tableName)).filter((i) => i.entity === 'DOCUMENT').map((i) => [String(i.documentId), i as unknown as DocumentItem]));
  dynamo.destroy();
}, 120_000);
afterAll(() => scenario?.stop());

test.each(cases.map((c) => [c.why, c.key, c.outcome] as const))('%s (%j): %s', (_why, key, outcome) => {
  const doc = docs.get(documentId({ bucket: scenario.runtime.bucketName, key }));
  const actual: Outcome = !doc ? 'ignored' : doc.status === 'REJECTED' ? `rejected:${doc.reason ?? ''}` : doc.status === 'PROCESSED' ? 'processed' : (doc.status as Outcome);
  expect(actual).toBe(outcome);
});

test('the accounting holds and nothing reached the dead-letter queue', async () => {
  const documents = cases.filter((c) => c.outcome !== 'ignored');
  const { counts, violations } = await auditRun(scenario.runtime, {
    dropped: documents.map((c) => c.key),
    ignored: cases.filter((c) => c.outcome === 'ignored').map((c) => c.key),
  });
  expect(violations).toEqual([]);
  expect(counts).toMatchObject({
    documents: documents.length,
    processed: documents.filter((c) => c.outcome === 'processed').length,
    rejected: documents.filter((c) => c.outcome.startsWith('rejected')).length,
    lost: 0,
    duplicated: 0,
  });
});
