import { createHash } from 'node:crypto';
import { buildOutputTable, jobOutputLocation, parseS3Uri } from './io.js';
import type { MatchField } from './match.js';

const A = 'arn:aws:glue:us-east-1:123456789012:table/db/a';
const B = 'arn:aws:glue:us-east-1:123456789012:table/db/b';
const fieldsA: MatchField[] = [
  { fieldName: 'id', type: 'UNIQUE_ID' },
  { fieldName: 'batch_id', type: 'STRING' },
  { fieldName: 'first', type: 'NAME_FIRST', groupName: 'name' },
  { fieldName: 'last', type: 'NAME_LAST', groupName: 'name' },
  { fieldName: 'email', type: 'EMAIL_ADDRESS' },
];
const fieldsB: MatchField[] = [{ fieldName: 'id', type: 'UNIQUE_ID' }, { fieldName: 'email', type: 'EMAIL_ADDRESS' }];
const fields = new Map([[A, fieldsA], [B, fieldsB]]);
const records = [
  { sourceArn: A, recordId: 'a1', values: { id: 'a1', batch_id: '01JBATCH', first: 'Ann', last: 'Smith', email: 'Ann.Smith+x@X.org' } },
  { sourceArn: B, recordId: 'b1', values: { id: 'b1', email: 'bob@x.org' } },
  { sourceArn: A, recordId: 'a2', values: { id: 'a2', batch_id: '01JBATCH', first: 'Ann', last: '', email: '' } },
];
const results = [
  { sourceArn: A, recordId: 'a1', matchId: 'm1', matchRule: 'R' },
  { sourceArn: B, recordId: 'b1', matchId: 'm2', matchRule: '' },
  { sourceArn: A, recordId: 'a2', matchId: 'm1', matchRule: 'R' },
];
const columns = [{ name: 'batch_id', hashed: false }, { name: 'name', hashed: false }, { name: 'email', hashed: true }];

describe('output table', () => {
  it('has the documented columns, rows grouped by MatchID, groups joined, hashes of non-empty values', () => {
    const table = buildOutputTable(columns, fields, records, results, false);
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    expect(table).toEqual([
      ['InputSourceARN', 'batch_id', 'name', 'email', 'RecordId', 'MatchID', 'MatchRule'],
      [A, '01JBATCH', 'Ann Smith', sha('Ann.Smith+x@X.org'), 'a1', 'm1', 'R'],
      [A, '01JBATCH', 'Ann', '', 'a2', 'm1', 'R'],
      [B, '', '', sha('bob@x.org'), 'b1', 'm2', ''],
    ]);
  });

  it('normalizes output values by field type when asked, identifiers untouched', () => {
    const table = buildOutputTable(columns.map((c) => ({ ...c, hashed: false })), fields, records, results, true);
    expect(table[1]).toEqual([A, '01JBATCH', 'annsmith', 'annsmith@x.org', 'a1', 'm1', 'R']);
  });
});

describe('S3 locations', () => {
  it('parses S3 URIs and places job output under <path>/<workflow>/<jobId>/', () => {
    expect(parseS3Uri('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', key: 'a/b/' });
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(() => parseS3Uri('https://bucket/x')).toThrow(/not an S3 URI/);
    for (const path of ['s3://out/matches', 's3://out/matches/']) {
      expect(jobOutputLocation(path, 'wf', 'j1')).toEqual({ bucket: 'out', prefix: 'matches/wf/j1/' });
    }
    expect(jobOutputLocation('s3://out', 'wf', 'j1')).toEqual({ bucket: 'out', prefix: 'wf/j1/' });
  });
});
