import { formatCsv, parseCsv } from './csv.js';

describe('CSV (RFC 4180)', () => {
  it('reads plain, quoted, escaped and multi-line fields with CRLF or LF', () => {
    const text = 'id,name,note\r\n1,"Smith, Ann","said ""hi"""\n2,Bob,"line one\nline two"\n3,,\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['id', 'name', 'note'] },
      { line: 2, fields: ['1', 'Smith, Ann', 'said "hi"'] },
      { line: 3, fields: ['2', 'Bob', 'line one\nline two'] },
      { line: 5, fields: ['3', '', ''] },
    ]);
  });

  it('skips empty lines and a BOM; a last line without newline is a row', () => {
    expect(parseCsv('\uFEFFa,b\n\n\nc,d')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 4, fields: ['c', 'd'] },
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it('flags malformed rows and keeps reading the next ones', () => {
    const rows = parseCsv('1,"open\n2,ok');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error).toBe('unterminated quoted field');

    const more = parseCsv('1,"a"b,c\n2,x"y,z\n3,fine,row\n');
    expect(more.map((r) => r.error)).toEqual(['unexpected character after a closing quote', 'a quote inside an unquoted field', undefined]);
    expect(more[2]!.fields).toEqual(['3', 'fine', 'row']);
  });

  it('writes what it reads', () => {
    const rows = [['a', 'b, c', 'say "x"'], ['multi\nline', ' padded', '']];
    const text = formatCsv(rows);
    expect(text).toBe('a,"b, c","say ""x"""\n"multi\nline"," padded",\n');
    expect(parseCsv(text).map((r) => r.fields)).toEqual(rows);
  });
});
