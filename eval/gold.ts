// The annotated notes of eval/notes/: loading, resolving gold text to offsets, and checking the
// labels against the DetectEntitiesV2 schema (aws-facts.md), so an annotation error is caught
// before it is scored.
import { readdirSync, readFileSync } from 'node:fs';

export interface GoldEntity {
  readonly text: string;
  /** Which occurrence of `text` in the note (1-based, case-sensitive); default 1. */
  readonly n?: number;
  readonly category: string;
  readonly type: string;
  readonly traits?: readonly string[];
  /**
   * [attribute type, attribute text, occurrence?]: the occurrence nearest to the entity (after it
   * preferred), or, with a third element, the k-th occurrence from the entity's start on.
   */
  readonly attributes?: readonly (readonly [string, string, number?])[];
  /** Expected top SNOMED CT concept code. */
  readonly snomed?: string;
}

export interface GoldNote {
  readonly file: string;
  readonly split: string;
  readonly text: string;
  readonly entities: readonly GoldEntity[];
}

export interface Span {
  readonly begin: number;
  readonly end: number;
}

export const NOTES_DIR = new URL('./notes/', import.meta.url);

/**
 * Every `NN-name.txt` with its `NN-name.gold.json`, in file order; with `select`, only the files it
 * accepts (the others are not read, so half-written notes elsewhere do no harm).
 */
export function loadNotes(dir: URL = NOTES_DIR, select: (file: string) => boolean = () => true): GoldNote[] {
  return readdirSync(dir).filter((f) => f.endsWith('.txt') && select(f)).sort().map((file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const goldName = file.replace(/\.txt$/, '.gold.json');
    let gold: { split?: string; entities?: GoldEntity[] };
    try {
      gold = JSON.parse(readFileSync(new URL(goldName, dir), 'utf8')) as typeof gold;
    } catch (error) {
      throw new Error(`${goldName}: ${(error as Error).message}`);
    }
    if (!Array.isArray(gold.entities)) throw new Error(`${goldName}: no "entities" array`);
    return { file, split: gold.split ?? 'dev', text, entities: gold.entities };
  });
}

/**
 * A note filter from a list of note numbers and ranges, e.g. "01-08,27-44" or "9": a file is
 * selected when its leading number falls in one of them.
 */
export function noteFilter(spec: string): (file: string) => boolean {
  const ranges = spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (m === null) throw new Error(`bad note range "${part}" (expected e.g. 01-08,27-44)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`bad note range "${part}": ${hi} < ${lo}`);
    return [lo, hi] as const;
  });
  return (file) => {
    const m = /^(\d+)/.exec(file);
    if (m === null) return false;
    const n = Number(m[1]);
    return ranges.some(([lo, hi]) => n >= lo && n <= hi);
  };
}

/** Offsets of `needle` as a whole word or phrase (not inside a longer word). */
function* wordOccurrences(text: string, needle: string): Generator<number> {
  const isWord = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    if (!isWord(text[at - 1]) && !isWord(text[at + needle.length])) yield at;
  }
}

export function occurrence(text: string, needle: string, n: number, file: string): Span {
  let i = 0;
  for (const at of wordOccurrences(text, needle)) if (++i === n) return { begin: at, end: at + needle.length };
  // Glued forms ("72M" for an age of 72): fall back to plain substrings.
  i = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) if (++i === n) return { begin: at, end: at + needle.length };
  throw new Error(`${file}: occurrence ${n} of "${needle}" not found`);
}

/**
 * The occurrence of an attribute's text that belongs to an entity: the k-th from the entity's start
 * when k is given, else the nearest, text after the entity counting as three times closer.
 * (Substring search: units such as "%" touch their digits.)
 */
export function attributeSpan(text: string, needle: string, entity: Span, file: string, k?: number): Span {
  let best: Span | undefined;
  let bestDistance = Infinity;
  let seen = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    if (k !== undefined) {
      if (at >= entity.begin && ++seen === k) return { begin: at, end: at + needle.length };
      continue;
    }
    const distance = at >= entity.begin ? at - entity.begin : (entity.begin - at) * 3;
    if (distance < bestDistance) {
      best = { begin: at, end: at + needle.length };
      bestDistance = distance;
    }
  }
  if (best === undefined) throw new Error(`${file}: attribute text "${needle}" not found`);
  return best;
}

/** Category -> its types, attribute types and traits (DetectEntitiesV2, aws-facts.md). */
const SCHEMA: Record<string, { types: string[]; attributes: string[]; traits: string[] }> = {
  ANATOMY: { types: ['SYSTEM_ORGAN_SITE'], attributes: ['DIRECTION'], traits: [] },
  BEHAVIORAL_ENVIRONMENTAL_SOCIAL: {
    types: ['ALCOHOL_CONSUMPTION', 'ALLERGIES', 'GENDER', 'RACE_ETHNICITY', 'REC_DRUG_USE', 'TOBACCO_USE'],
    attributes: ['AMOUNT', 'DURATION', 'FREQUENCY'],
    traits: ['NEGATION', 'PAST_HISTORY'],
  },
  MEDICAL_CONDITION: {
    types: ['DX_NAME'],
    attributes: ['ACUITY', 'DIRECTION', 'SYSTEM_ORGAN_SITE', 'QUALITY'],
    // PAST_HISTORY on conditions: the service marks them too, and issue 4 asks for it.
    traits: ['DIAGNOSIS', 'HYPOTHETICAL', 'LOW_CONFIDENCE', 'NEGATION', 'PAST_HISTORY', 'PERTAINS_TO_FAMILY', 'SIGN', 'SYMPTOM'],
  },
  MEDICATION: {
    types: ['BRAND_NAME', 'GENERIC_NAME'],
    attributes: ['DOSAGE', 'DURATION', 'FORM', 'FREQUENCY', 'RATE', 'ROUTE_OR_MODE', 'STRENGTH'],
    traits: ['NEGATION', 'PAST_HISTORY'],
  },
  PROTECTED_HEALTH_INFORMATION: {
    types: ['ADDRESS', 'AGE', 'DATE', 'EMAIL', 'ID', 'NAME', 'PHONE_OR_FAX', 'PROFESSION', 'URL'],
    attributes: [],
    traits: [],
  },
  TEST_TREATMENT_PROCEDURE: {
    types: ['PROCEDURE_NAME', 'TEST_NAME', 'TREATMENT_NAME'],
    attributes: ['TEST_VALUE', 'TEST_UNIT'],
    traits: ['FUTURE', 'HYPOTHETICAL', 'NEGATION', 'PAST_HISTORY'],
  },
  TIME_EXPRESSION: {
    types: ['TIME_TO_MEDICATION_NAME', 'TIME_TO_DX_NAME', 'TIME_TO_TEST_NAME', 'TIME_TO_PROCEDURE_NAME', 'TIME_TO_TREATMENT_NAME'],
    attributes: [],
    traits: [],
  },
};

/**
 * Every problem with a note's annotations: unknown labels, text or attribute text not found, the
 * same span annotated twice, SNOMED codes that are not SCTIDs. Empty when the note is sound.
 */
export function checkNote(note: GoldNote): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const g of note.entities) {
    const where = `${note.file}: "${g.text}"${g.n === undefined ? '' : ` (n=${g.n})`}`;
    const schema = SCHEMA[g.category];
    if (!schema) {
      problems.push(`${where}: unknown category ${g.category}`);
      continue;
    }
    if (!schema.types.includes(g.type)) problems.push(`${where}: ${g.category} has no type ${g.type}`);
    for (const t of g.traits ?? []) if (!schema.traits.includes(t)) problems.push(`${where}: ${g.category} has no trait ${t}`);
    if (g.snomed !== undefined && !/^\d{6,18}$/.test(g.snomed)) problems.push(`${where}: "${g.snomed}" is not a SNOMED CT identifier`);
    let span: Span;
    try {
      span = occurrence(note.text, g.text, g.n ?? 1, note.file);
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    const k = `${span.begin}:${span.end}`;
    if (seen.has(k)) problems.push(`${where}: the same span is annotated twice`);
    seen.add(k);
    for (const [type, attrText, nth] of g.attributes ?? []) {
      if (!schema.attributes.includes(type)) problems.push(`${where}: ${g.category} has no attribute ${type}`);
      try {
        attributeSpan(note.text, attrText, span, note.file, nth);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
