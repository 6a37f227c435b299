/**
 * The PHI scanner's negative control: planted PHI in a log line, an event, a DynamoDB item and an
 * execution history is found; ids, ISO timestamps, S3 keys and counts are not taken for PHI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonical, decodeJsonEscapes, loadNeedles, occursIn, PhiScanner, type Needle } from '../support/phi-scan.js';

const note = [
  'NORTH SHORE PRIMARY CARE — OFFICE VISIT',
  'Patient: María Elena González',
  'DOB: 07/22/1972',
  'Assessment: moderate persistent asthma with an exacerbation triggered by wood smoke.',
].join('\n');
const needles: Needle[] = [
  { kind: 'name', value: 'María Elena González' },
  { kind: 'mrn', value: '1058827' },
  { kind: 'phone', value: '(508) 555-0187' },
  { kind: 'email', value: 'maria.gonzalez72@example.com' },
];
const scanner = new PhiScanner({ needles, documents: [note] });
const detectors = (source: string, text: string) => scanner.scan(source, text).map((h) => h.detector);

describe('planted PHI is found', () => {
  test('a needle in a JSON log line, whatever its case and accents', () => {
    const line = JSON.stringify({ level: 'INFO', message: 'document rejected', patient: 'MARIA ELENA GONZALEZ' });
    expect(detectors('log#1', line)).toContain('needle:name');
  });

  test('an MRN in an event detail, standing alone but not inside a longer number', () => {
    const event = JSON.stringify({ 'detail-type': 'Batch Failed', detail: { cause: 'record 1058827 unreadable' } });
    expect(detectors('event#1', event)).toContain('needle:mrn');
    expect(detectors('event#2', JSON.stringify({ size: 41058827 }))).not.toContain('needle:mrn');
  });

  test('a phone number in any format, including digits only', () => {
    expect(detectors('item', JSON.stringify({ pk: 'DOC#x', contact: '5085550187' }))).toContain('needle:phone');
    expect(detectors('item', JSON.stringify({ pk: 'DOC#x', contact: '508.555.0187' }))).toEqual(expect.arrayContaining(['needle:phone', 'detector:phone']));
  });

  test('generic detectors: unknown phone, e-mail, SSN, MRN label, dates of birth in five formats', () => {
    const planted = {
      phone: '(413) 555-0111', email: 'someone.else@example.org', ssn: '123-45-6789', label: 'MRN: 4455667',
      dates: ['3/9/1961', '1961-03-09', '09-Mar-1961', 'March 9, 1961', '3/9/61'],
    };
    expect(new Set(detectors('history', JSON.stringify(planted)))).toEqual(new Set([
      'detector:phone', 'detector:email', 'detector:ssn', 'detector:mrn', 'detector:date-mdy', 'detector:date-iso',
      'detector:date-dmony', 'detector:date-mony', 'detector:date-mdyy',
    ]));
    expect(detectors('log', '{"message":"parsed DOB: Sept 30"}')).toContain('detector:dob-label');
    expect(detectors('workflow', '{"matchingKeys":["name","dob"]}')).toEqual([]);
  });

  test('any 24-character window of a document, even JSON-escaped across a line break', () => {
    const leaked = JSON.stringify({ errorMessage: `parse error near "with an exacerbation trig"` });
    expect(detectors('history', leaked)).toContain('window');
    const acrossLines = JSON.stringify({ text: 'OFFICE VISIT\nPatient: María' }); // "visit\npatient: maria" spans the header line
    expect(detectors('log', acrossLines)).toContain('window');
  });
});

describe('what the pipeline legitimately writes is not PHI', () => {
  test('ids, ISO timestamps of the run, S3 URIs, job names and counts', () => {
    const clean = JSON.stringify({
      batchId: '20260101T000512345Z-bf32fec28972',
      documentId: '06c9bdb5857d512cb48004822b0fcfbd',
      inputS3Uri: 's3://chartflow-storagedocumentscd3fce94/batches/20260101T000512345Z-bf32fec28972/input/',
      jobName: 'chartflow-20260101T000512345Z-bf32fec28972-entities',
      submittedAt: '2026-01-01T00:05:12.345Z',
      key: 'inbox/clinic-south/2025-01-20-asthma-visit.txt',
      documentCount: 34, entityCount: 1287, endTime: 1767225912.345,
    });
    expect(scanner.scan('event', clean)).toEqual([]);
  });
});

describe('helpers', () => {
  test('decodeJsonEscapes and canonical', () => {
    expect(decodeJsonEscapes('a\\nb\\u00e9\\"c\\\\')).toBe('a\nbé"c\\');
    expect(canonical('  María\n\tGONZÁLEZ ')).toBe(' maria gonzalez ');
  });

  test('occursIn keeps the fixture honest: a needle absent from the text is reported absent', () => {
    expect(occursIn({ kind: 'name', value: 'Maria Elena Gonzalez' }, note)).toBe(true);
    expect(occursIn({ kind: 'name', value: 'Elena Gonzalez-Ruiz' }, note)).toBe(false);
  });

  test('loadNeedles reads every kind and refuses a malformed fixture', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'phi-needles-'));
    try {
      const good = path.join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ name: ['A B'], dateOfBirth: ['1/2/1950'], mrn: ['123'], phone: ['555-0100'], email: ['a@b.org'], address: ['1 A St'] }));
      expect(loadNeedles(good)).toHaveLength(6);
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ name: ['A B'], dateOfBirth: [''] }));
      expect(() => loadNeedles(bad)).toThrow(/"dateOfBirth" must be a list of non-empty strings/);
      expect(() => new PhiScanner({ needles: [] })).toThrow(/no needles/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
