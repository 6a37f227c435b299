/**
 * Rule-based matching (RULE_MATCHING with simple rules), pure: records in, clusters out.
 *
 * - A match key is the set of schema attributes carrying that `matchKey`. Fields that share a
 *   `groupName` form one attribute whose value is their parts in schema order (first, middle,
 *   last name compare as one full name; normalized, "John"+"Smith" equals NAME "John Smith").
 * - Two records match under a rule when, for every one of its matching keys, they have an equal,
 *   non-empty value. ONE_TO_ONE compares an attribute only with an attribute of the same type and
 *   sub-type (home phone with home phone); MANY_TO_MANY compares across every attribute sharing the
 *   match key (any email with any email).
 * - Rules apply in order, most precise first; a record's MatchRule is the first rule that linked
 *   it to another record. Links are transitive (union-find): each connected set is one MatchID.
 *   A record linked to nothing gets a MatchID of its own and an empty MatchRule.
 * - MatchIDs are 32 hex digits derived from `seed` (the job id) and the cluster's first record,
 *   so a job's output is reproducible and two jobs never share MatchIDs.
 */
import { createHash } from 'node:crypto';
import { baseType, normalizeValue, type SchemaAttributeType } from './normalize.js';

export type AttributeMatchingModel = 'ONE_TO_ONE' | 'MANY_TO_MANY';

export interface MatchField {
  fieldName: string;
  type: SchemaAttributeType;
  matchKey?: string;
  groupName?: string;
  subType?: string;
}

/** One input source of the workflow: its schema and whether its values are normalized. */
export interface MatchSource {
  sourceArn: string;
  fields: MatchField[];
  applyNormalization: boolean;
}

export interface MatchRecord {
  sourceArn: string;
  recordId: string;
  /** Raw values by schema field name; absent or blank means no value. */
  values: Readonly<Record<string, string | undefined>>;
}

export interface MatchRuleDefinition {
  ruleName: string;
  matchingKeys: string[];
}

export interface MatchInput {
  sources: MatchSource[];
  records: MatchRecord[];
  rules: MatchRuleDefinition[];
  attributeMatchingModel: AttributeMatchingModel;
  /** Makes MatchIDs unique to a run (the job id). */
  seed: string;
}

export interface MatchResult {
  sourceArn: string;
  recordId: string;
  matchId: string;
  /** The first rule that linked this record, or '' when it matched nothing. */
  matchRule: string;
}

export interface MatchOutput {
  /** One result per input record, in input order. */
  results: MatchResult[];
  /** The number of distinct MatchIDs (clusters, singletons included). */
  matchIdCount: number;
}

/** Beyond this many value combinations for one record under one rule, extra ones are ignored. */
const MAX_TOKENS_PER_RECORD = 1024;
const SEP = '\u001f';

interface Attribute {
  /** What ONE_TO_ONE compares: the same type and sub-type. */
  slot: string;
  fields: MatchField[];
}

/** The attributes of each match key of one source, built once per source. */
function attributesByKey(source: MatchSource): Map<string, Attribute[]> {
  const byKey = new Map<string, Attribute[]>();
  const groups = new Map<string, Attribute>();
  for (const field of source.fields) {
    if (!field.matchKey) continue;
    let list = byKey.get(field.matchKey);
    if (!list) byKey.set(field.matchKey, (list = []));
    if (field.groupName) {
      const groupId = `${field.matchKey}${SEP}${field.groupName}`;
      const group = groups.get(groupId);
      if (group) {
        group.fields.push(field);
        continue;
      }
      const attribute = { slot: `${baseType(field.type)}${SEP}${field.subType ?? ''}`, fields: [field] };
      groups.set(groupId, attribute);
      list.push(attribute);
    } else {
      list.push({ slot: `${field.type}${SEP}${field.subType ?? ''}`, fields: [field] });
    }
  }
  return byKey;
}

function fieldValue(field: MatchField, raw: string | undefined, normalize: boolean): string {
  if (raw === undefined || raw.trim() === '') return '';
  return normalize ? normalizeValue(field.type, raw) : raw;
}

/** The comparable values of one record for one match key (slot-qualified for ONE_TO_ONE). */
function keyTokens(
  attributes: Attribute[] | undefined,
  record: MatchRecord,
  normalize: boolean,
  model: AttributeMatchingModel,
): string[] {
  if (!attributes) return [];
  const tokens = new Set<string>();
  for (const attribute of attributes) {
    const parts = attribute.fields.map((f) => fieldValue(f, record.values[f.fieldName], normalize));
    if (parts.every((p) => p === '')) continue;
    // Normalized parts join with nothing, as the normalized whole would ("john"+"smith" ==
    // normalize("John Smith")), so a grouped name matches a single NAME field of another source.
    const value = normalize ? parts.join('') : parts.filter(Boolean).join(' ');
    tokens.add(model === 'ONE_TO_ONE' ? `${attribute.slot}${SEP}${SEP}${value}` : value);
  }
  return [...tokens];
}

/** Every combination of one token per key: two records sharing one satisfy all keys at once. */
function combine(perKey: string[][]): string[] {
  let out = [''];
  for (const tokens of perKey) {
    const next: string[] = [];
    for (const prefix of out) {
      for (const token of tokens) {
        if (next.length >= MAX_TOKENS_PER_RECORD) break;
        next.push(prefix === '' ? token : `${prefix}${SEP}${SEP}${SEP}${token}`);
      }
    }
    out = next;
  }
  return out;
}

class UnionFind {
  private readonly parent: number[];
  constructor(size: number) {
    this.parent = Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root]!;
    while (this.parent[i] !== root) {
      const next = this.parent[i]!;
      this.parent[i] = root;
      i = next;
    }
    return root;
  }
  /** Keeps the smaller index as the root, so a cluster's root is its first record. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

export function matchIdFor(seed: string, record: Pick<MatchRecord, 'sourceArn' | 'recordId'>): string {
  return createHash('sha256').update(`${seed}\n${record.sourceArn}\n${record.recordId}`).digest('hex').slice(0, 32);
}

export function matchRecords(input: MatchInput): MatchOutput {
  const sources = new Map(input.sources.map((s) => [s.sourceArn, { source: s, attributes: attributesByKey(s) }]));
  const records = input.records;
  const uf = new UnionFind(records.length);
  const matchRule: string[] = records.map(() => '');

  for (const rule of input.rules) {
    const firstWithToken = new Map<string, number>();
    records.forEach((record, i) => {
      const entry = sources.get(record.sourceArn);
      if (!entry) throw new Error(`record of an unknown input source: ${record.sourceArn}`);
      const perKey = rule.matchingKeys.map((key) =>
        keyTokens(entry.attributes.get(key), record, entry.source.applyNormalization, input.attributeMatchingModel),
      );
      if (perKey.some((tokens) => tokens.length === 0)) return;
      for (const token of combine(perKey)) {
        const j = firstWithToken.get(token);
        if (j === undefined) {
          firstWithToken.set(token, i);
          continue;
        }
        uf.union(i, j);
        if (!matchRule[i]) matchRule[i] = rule.ruleName;
        if (!matchRule[j]) matchRule[j] = rule.ruleName;
      }
    });
  }

  const matchIds = new Map<number, string>();
  const results = records.map((record, i) => {
    const root = uf.find(i);
    let matchId = matchIds.get(root);
    if (!matchId) matchIds.set(root, (matchId = matchIdFor(input.seed, records[root]!)));
    return { sourceArn: record.sourceArn, recordId: record.recordId, matchId, matchRule: matchRule[i]! };
  });
  return { results, matchIdCount: matchIds.size };
}
