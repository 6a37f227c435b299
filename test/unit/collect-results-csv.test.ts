import { toCsv } from '../../lambdas/collect-results/csv.js';
import { IDENTITY_COLUMNS, type IdentityRecord } from '../../contracts/layout.js';

const record = (fields: Partial<IdentityRecord>): IdentityRecord => ({
  record_id: 'doc-1', batch_id: 'b-1', full_name: '', date_of_birth: '', phone: '', email: '', address: '', mrn: '', ...fields,
});

/** A minimal RFC 4180 reader, to prove that what toCsv writes reads back to the same values. */
function parse(csv: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && csv[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  return rows;
}

describe('toCsv (RFC 4180)', () => {
  it('writes the header in IDENTITY_COLUMNS order and CRLF line ends', () => {
    expect(toCsv(IDENTITY_COLUMNS, [record({ full_name: 'Ann Lee' })])).toBe(
      'record_id,batch_id,full_name,date_of_birth,phone,email,address,mrn\r\ndoc-1,b-1,Ann Lee,,,,,\r\n',
    );
    expect(toCsv(IDENTITY_COLUMNS, [])).toBe('record_id,batch_id,full_name,date_of_birth,phone,email,address,mrn\r\n');
  });

  it('quotes commas, quotes and line breaks, and keeps UTF-8 text as is', () => {
    const tricky = record({ full_name: 'O"Neil, Seán', address: '1 Main St\nApt 2', mrn: ' 007 ', phone: '(555) 010-0000' });
    const csv = toCsv(IDENTITY_COLUMNS, [tricky]);
    expect(csv.split('\r\n')[1]).toBe('doc-1,b-1,"O""Neil, Seán",,(555) 010-0000,,"1 Main St\nApt 2", 007 ');
    expect(parse(csv)).toEqual([[...IDENTITY_COLUMNS], IDENTITY_COLUMNS.map((c) => tricky[c])]);
  });
});
