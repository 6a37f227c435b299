import { matchIdFor, matchRecords, type MatchField, type MatchInput, type MatchRecord, type MatchSource } from './match.js';

const A = 'arn:aws:glue:us-east-1:123456789012:table/db/a';
const B = 'arn:aws:glue:us-east-1:123456789012:table/db/b';

const patientFields: MatchField[] = [
  { fieldName: 'record_id', type: 'UNIQUE_ID' },
  { fieldName: 'full_name', type: 'NAME', matchKey: 'Name' },
  { fieldName: 'date_of_birth', type: 'DATE', matchKey: 'DOB' },
  { fieldName: 'phone', type: 'PHONE', matchKey: 'Phone' },
  { fieldName: 'email', type: 'EMAIL_ADDRESS', matchKey: 'Email' },
  { fieldName: 'mrn', type: 'STRING', matchKey: 'MRN' },
];

const rules = [
  { ruleName: 'MRN', matchingKeys: ['MRN'] },
  { ruleName: 'NameDOB', matchingKeys: ['Name', 'DOB'] },
  { ruleName: 'NameEmail', matchingKeys: ['Name', 'Email'] },
  { ruleName: 'NamePhone', matchingKeys: ['Name', 'Phone'] },
];

function rec(recordId: string, values: Record<string, string>, sourceArn = A): MatchRecord {
  return { sourceArn, recordId, values };
}

function run(records: MatchRecord[], overrides: Partial<MatchInput> = {}, sources?: MatchSource[]) {
  const out = matchRecords({
    sources: sources ?? [{ sourceArn: A, fields: patientFields, applyNormalization: true }],
    records,
    rules,
    attributeMatchingModel: 'ONE_TO_ONE',
    seed: 'job-1',
    ...overrides,
  });
  const by = Object.fromEntries(out.results.map((r) => [r.recordId, r]));
  return { ...out, by, same: (a: string, b: string) => by[a]!.matchId === by[b]!.matchId };
}

describe('rule-based matching', () => {
  it('links records equal on all keys of a rule after normalization', () => {
    const r = run([
      rec('1', { full_name: 'Ann Smith', date_of_birth: '1980-03-04' }),
      rec('2', { full_name: ' ann  SMITH ', date_of_birth: '03/04/1980' }),
      rec('3', { full_name: 'Ann Smith', date_of_birth: '1981-03-04' }),
    ]);
    expect(r.same('1', '2')).toBe(true);
    expect(r.same('1', '3')).toBe(false);
    expect(r.by['1']!.matchRule).toBe('NameDOB');
    expect(r.by['3']!.matchRule).toBe('');
    expect(r.matchIdCount).toBe(2);
    expect(r.by['1']!.matchId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('needs every key of the rule, and empty values never match', () => {
    const r = run([
      rec('1', { full_name: 'Ann Smith', date_of_birth: '' , email: 'a@x.org' }),
      rec('2', { full_name: 'Ann Smith', date_of_birth: '' , email: 'b@x.org' }),
      rec('3', { full_name: '', mrn: '' }),
      rec('4', { full_name: '  ', mrn: '  ' }),
    ]);
    expect(r.same('1', '2')).toBe(false);
    expect(r.same('3', '4')).toBe(false);
    expect(r.matchIdCount).toBe(4);
  });

  it('compares raw values when normalization is off', () => {
    const sources = [{ sourceArn: A, fields: patientFields, applyNormalization: false }];
    const r = run([rec('1', { mrn: 'MRN-1' }), rec('2', { mrn: 'mrn-1' }), rec('3', { mrn: 'MRN-1' })], {}, sources);
    expect(r.same('1', '3')).toBe(true);
    expect(r.same('1', '2')).toBe(false);
  });

  it('clusters transitively and records the first rule, in rule order, that linked each record', () => {
    const r = run([
      rec('1', { full_name: 'Ann Smith', email: 'ann.smith@x.org', mrn: 'M1' }),
      rec('2', { full_name: 'Ann Smith', email: 'annsmith+er@x.org' }),
      rec('3', { full_name: 'Ann Smith', phone: '555-0100', mrn: 'M1' }),
      rec('4', { full_name: 'ANN SMITH', phone: '(555) 0100' }),
      rec('5', { full_name: 'Bob Jones', phone: '555-0100' }),
    ]);
    expect(new Set(['1', '2', '3', '4'].map((id) => r.by[id]!.matchId)).size).toBe(1);
    expect(r.same('1', '5')).toBe(false);
    expect(r.by['1']!.matchRule).toBe('MRN');
    expect(r.by['3']!.matchRule).toBe('MRN');
    expect(r.by['2']!.matchRule).toBe('NameEmail');
    expect(r.by['4']!.matchRule).toBe('NamePhone');
    expect(r.by['5']!.matchRule).toBe('');
    expect(r.matchIdCount).toBe(2);
  });

  it('matches across input sources with different field names', () => {
    const bFields: MatchField[] = [
      { fieldName: 'id', type: 'UNIQUE_ID' },
      { fieldName: 'first', type: 'NAME_FIRST', matchKey: 'Name', groupName: 'name' },
      { fieldName: 'last', type: 'NAME_LAST', matchKey: 'Name', groupName: 'name' },
      { fieldName: 'dob', type: 'DATE', matchKey: 'DOB' },
    ];
    const sources = [
      { sourceArn: A, fields: patientFields, applyNormalization: true },
      { sourceArn: B, fields: bFields, applyNormalization: true },
    ];
    const r = run(
      [rec('1', { full_name: 'Ann Smith', date_of_birth: '1980-03-04' }), rec('1', { first: 'Ann', last: 'Smith', dob: '19800304' }, B)],
      { attributeMatchingModel: 'MANY_TO_MANY' },
      sources,
    );
    expect(r.results[0]!.matchId).toBe(r.results[1]!.matchId);
    expect(r.results.map((x) => x.sourceArn)).toEqual([A, B]);
  });

  describe('attribute matching model', () => {
    const fields: MatchField[] = [
      { fieldName: 'id', type: 'UNIQUE_ID' },
      { fieldName: 'home_phone', type: 'PHONE', subType: 'HOME', matchKey: 'Phone' },
      { fieldName: 'mobile_phone', type: 'PHONE', subType: 'MOBILE', matchKey: 'Phone' },
    ];
    const sources = [{ sourceArn: A, fields, applyNormalization: true }];
    const records = [rec('1', { home_phone: '555-0100', mobile_phone: '555-0199' }), rec('2', { home_phone: '555-0142', mobile_phone: '555-0100' })];
    const phoneRule = [{ ruleName: 'Phone', matchingKeys: ['Phone'] }];

    it('ONE_TO_ONE compares a field only with a field of the same type and sub-type', () => {
      const r = run(records, { rules: phoneRule, attributeMatchingModel: 'ONE_TO_ONE' }, sources);
      expect(r.same('1', '2')).toBe(false);
      const r2 = run([...records, rec('3', { mobile_phone: '555-0199' })], { rules: phoneRule, attributeMatchingModel: 'ONE_TO_ONE' }, sources);
      expect(r2.same('1', '3')).toBe(true);
    });

    it('MANY_TO_MANY compares across every field of the match key', () => {
      const r = run(records, { rules: phoneRule, attributeMatchingModel: 'MANY_TO_MANY' }, sources);
      expect(r.same('1', '2')).toBe(true);
      expect(r.by['2']!.matchRule).toBe('Phone');
    });
  });

  it('gives MatchIDs that depend on the run and the cluster, not on the order of links', () => {
    const records = [rec('1', { mrn: 'M1' }), rec('2', { mrn: 'M1' }), rec('3', { mrn: 'M2' })];
    const first = run(records);
    expect(first.by['1']!.matchId).toBe(matchIdFor('job-1', { sourceArn: A, recordId: '1' }));
    expect(run(records).by['1']!.matchId).toBe(first.by['1']!.matchId);
    expect(run(records, { seed: 'job-2' }).by['1']!.matchId).not.toBe(first.by['1']!.matchId);
  });

  it('handles thousands of records quickly (blocking, not pairwise comparison)', () => {
    const records = Array.from({ length: 20_000 }, (_, i) => rec(String(i), { mrn: `M${Math.floor(i / 2)}`, email: `p${i % 7}@x.org` }));
    const started = Date.now();
    const out = run(records);
    expect(out.matchIdCount).toBe(10_000);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
