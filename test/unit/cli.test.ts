import { collectFiles, parseArgs } from '../../local/cli.js';

describe('chartflow CLI arguments', () => {
  test('start is the default; paths, --data-dir and --faults in both spellings', () => {
    expect(parseArgs([])).toEqual({ command: 'start', paths: [], dataDir: '.chartflow' });
    expect(parseArgs(['start', 'a', '--data-dir', 'out', '--faults=cm.throttle=0.3', 'b'])).toEqual({
      command: 'start', paths: ['a', 'b'], dataDir: 'out', faults: 'cm.throttle=0.3',
    });
    expect(parseArgs(['up', '--data-dir=x'])).toMatchObject({ command: 'up', dataDir: 'x' });
  });

  test('unknown commands and options, and options without values, are refused with the usage', () => {
    expect(() => parseArgs(['deploy'])).toThrow(/unknown command deploy\nusage:/);
    expect(() => parseArgs(['start', '--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(['start', '--faults'])).toThrow(/--faults needs a value/);
  });
});

describe('files to drop', () => {
  test('every file under a folder, keyed below inbox/ by its path; the samples README is not a note', () => {
    const files = collectFiles(['samples']);
    const keys = files.map((f) => f.key);
    expect(keys).toContain('inbox/bad/note with spaces é.txt');
    expect(keys.some((k) => k.endsWith('README.md'))).toBe(false);
    expect(keys.every((k) => k.startsWith('inbox/') && !k.includes('samples/'))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('a single file is keyed by its name; a missing path is a clear error', () => {
    expect(collectFiles(['samples/bad/empty.txt'])).toEqual([{ file: 'samples/bad/empty.txt', key: 'inbox/empty.txt' }]);
    expect(() => collectFiles(['no/such/folder'])).toThrow(/ENOENT.*no\/such\/folder/);
  });
});
