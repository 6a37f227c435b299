import { generateNotes, withIdentity } from '../../bench/corpus.js';
import { packageOf, median } from '../../bench/bundles.js';
import { parseBenchArgs } from '../../bench/run.js';

const patient = { name: 'Ana Rossi', dob: '02/03/1960', mrn: '512345', phone: '(617) 555-0101', email: 'ana.rossi60@example.org', address: '12 Elm Street, Quincy, MA 02169' };

describe('bench corpus', () => {
  test('replaces every identity field of a header, whatever the label style', () => {
    const note = [
      'CLINIC NOTE', '', 'Patient: Linda M. Chen', 'DOB: 04/18/1966', 'MRN: 908172', 'Phone: (617) 555-0175',
      'Email: linda.chen66@example.com', 'Address: 88 Beacon Hill Terrace, Newton, MA 02458', '', 'Body mentions nothing.',
    ].join('\n');
    const out = withIdentity(note, patient);
    for (const old of ['Linda', '04/18/1966', '908172', '0175', 'linda.chen66', 'Beacon']) expect(out).not.toContain(old);
    for (const now of [patient.name, patient.dob, patient.mrn, patient.phone, patient.email, patient.address]) expect(out).toContain(now);
    const inline = withIdentity('Name: Bob Miller        DOB: 1958-03-14        MRN: 482913', patient);
    expect(inline).toBe(`Name: ${patient.name}        DOB: ${patient.dob}        MRN: ${patient.mrn}`);
  });

  test('deterministic for a seed, distinct notes, realistic sizes, patients recur', () => {
    const a = generateNotes({ count: 60, seed: 3 });
    expect(generateNotes({ count: 60, seed: 3 })).toEqual(a);
    expect(new Set(a.map(([, t]) => t)).size).toBe(60);
    expect(new Set(a.map(([n]) => n)).size).toBe(60);
    const sizes = a.map(([, t]) => t.length);
    expect(Math.min(...sizes)).toBeGreaterThan(500);
    expect(Math.max(...sizes)).toBeLessThan(70_000);
    const mrns = a.map(([, t]) => /MRN:\s*(\d+)/.exec(t)?.[1]).filter(Boolean);
    expect(new Set(mrns).size).toBeLessThan(mrns.length);
    const small = generateNotes({ count: 5, small: true, seed: 3 });
    for (const [, t] of small) expect(t.split('\n').length).toBeLessThanOrEqual(18);
  });
});

describe('bench helpers', () => {
  test('packages of esbuild inputs', () => {
    expect(packageOf('node_modules/@aws-sdk/client-s3/dist-es/index.js')).toBe('@aws-sdk/client-s3');
    expect(packageOf('node_modules/.pnpm/x/node_modules/mnemonist/lru.js')).toBe('mnemonist');
    expect(packageOf('lambdas/ingest/handler.ts')).toBe('lambdas');
  });

  test('median', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('arguments: --quick, --only with known sections, clear errors otherwise', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, only: ['polling', 'drop', 'throughput', 'bundles'] });
    expect(parseBenchArgs(['--quick', '--only', 'polling,bundles'])).toEqual({ quick: true, only: ['polling', 'bundles'] });
    expect(parseBenchArgs(['--only=drop']).only).toEqual(['drop']);
    expect(() => parseBenchArgs(['--only', 'speed'])).toThrow(/unknown section speed/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
