// Loads the TSV lexicons under ./lexicons once, lazily, and builds the tries the engine searches.
// File formats are described in README.md; every file is plain data so it can be reviewed and
// extended without touching code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { termKey } from './text.js';
import { newTrie, trieInsert, type TrieNode } from './trie.js';

export type ConditionKind = 'DIAGNOSIS' | 'SIGN' | 'SYMPTOM';
export type TtpType = 'TEST_NAME' | 'PROCEDURE_NAME' | 'TREATMENT_NAME';
export type BesType = 'ALCOHOL_CONSUMPTION' | 'ALLERGIES' | 'GENDER' | 'RACE_ETHNICITY' | 'REC_DRUG_USE' | 'TOBACCO_USE';
export type ModifierType = 'ACUITY' | 'DIRECTION' | 'QUALITY' | 'ROUTE_OR_MODE' | 'FREQUENCY' | 'FORM';
export type TriggerType =
  | 'NEGATION'
  | 'PSEUDO'
  | 'PERTAINS_TO_FAMILY'
  | 'HYPOTHETICAL'
  | 'LOW_CONFIDENCE'
  | 'PAST_HISTORY'
  | 'FUTURE'
  | 'TERMINATE'
  /** Ends only negation scopes ("denies fever, has cough"; but "father has colitis"). */
  | 'TERMINATE_NEGATION';
export type TriggerDirection = 'PRE' | 'POST' | 'NEXT';

/** A SNOMED CT concept of the local lexicon. */
export interface Concept {
  readonly index: number;
  readonly code: string;
  readonly description: string;
  readonly category: 'MEDICAL_CONDITION' | 'ANATOMY' | 'TEST_TREATMENT_PROCEDURE';
  /** Normalised tokens of every term of the concept, for fuzzy candidate ranking. */
  readonly termKeys: readonly (readonly string[])[];
}

export type EntityEntry =
  | { readonly category: 'MEDICAL_CONDITION'; readonly kind: ConditionKind; readonly concept: Concept; readonly negated: boolean }
  | { readonly category: 'ANATOMY'; readonly concept: Concept }
  | {
      readonly category: 'TEST_TREATMENT_PROCEDURE';
      readonly type: TtpType;
      /** 'require': only with a value ("K 4.1", "T 38.5"); 'prefer': a test rather than a drug when a value follows. */
      readonly value: 'require' | 'prefer' | 'none';
      readonly concept: Concept;
    }
  | { readonly category: 'MEDICATION'; readonly type: 'GENERIC_NAME' | 'BRAND_NAME'; readonly generic: string }
  | { readonly category: 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL'; readonly type: BesType; readonly negated: boolean }
  | { readonly category: 'PROFESSION' }
  /** A phrase that looks like an entity but is not one ("sinus rhythm", "cranial nerves"). */
  | { readonly category: 'NONE' };

/** How a term was entered: as written, a generated plural, or an exact-case abbreviation. */
export interface TrieValue<E> {
  readonly entry: E;
  /** Exact surface required (case-sensitive terms, written with a leading '=' in the files). */
  readonly exact?: string;
  readonly variant: 'term' | 'plural';
  /** The term is an abbreviation or acronym (scored a little lower). */
  readonly abbrev: boolean;
}

export interface ModifierEntry {
  readonly type: ModifierType;
}
export interface TriggerEntry {
  readonly type: TriggerType;
  readonly direction: TriggerDirection;
}

export interface Lexicon {
  readonly entities: TrieNode<TrieValue<EntityEntry>>;
  readonly modifiers: TrieNode<TrieValue<ModifierEntry>>;
  readonly triggers: TrieNode<TrieValue<TriggerEntry>>;
  readonly concepts: readonly Concept[];
  /** Concept indices by normalised token, for fuzzy SNOMED CT candidates. */
  readonly conceptsByToken: ReadonlyMap<string, readonly number[]>;
  readonly stats: Readonly<Record<string, number>>;
  readonly manifest: LexiconManifest;
}

export interface LexiconManifest {
  readonly name: string;
  readonly version: string;
  readonly snomedct: { readonly edition: string; readonly language: string; readonly versionDate: string };
}

const DIR = fileURLToPath(new URL('./lexicons/', import.meta.url));

function readRows(file: string, minColumns: number): string[][] {
  const body = readFileSync(DIR + file, 'utf8');
  const rows: string[][] = [];
  body.split('\n').forEach((line, n) => {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed.trim() === '' || trimmed.startsWith('#')) return;
    const cols = trimmed.split('\t').map((c) => c.trim());
    if (cols.length < minColumns) throw new Error(`lexicon ${file} line ${n + 1}: expected ${minColumns} tab-separated columns`);
    rows.push(cols);
  });
  return rows;
}

function splitTerms(cell: string | undefined): string[] {
  if (cell === undefined || cell === '' || cell === '-') return [];
  return cell
    .split('|')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const IRREGULAR_PLURALS: Record<string, string> = {
  foot: 'feet', tooth: 'teeth', child: 'children', ovary: 'ovaries', diagnosis: 'diagnoses', metastasis: 'metastases',
  lymph: 'lymph', vertebra: 'vertebrae', bronchus: 'bronchi', calculus: 'calculi', thrombus: 'thrombi', embolus: 'emboli',
  polyp: 'polyps', phalanx: 'phalanges', testis: 'testes', stenosis: 'stenoses', anastomosis: 'anastomoses',
  keratosis: 'keratoses', psychosis: 'psychoses', neurosis: 'neuroses', thrombosis: 'thromboses', prognosis: 'prognoses',
};

/** English plural of the last word, or undefined when no plural should be generated. */
export function pluralOf(word: string): string | undefined {
  const w = word.toLowerCase();
  // Three-letter words are mostly abbreviations written in lower case ("doe" -> not "does").
  if (w.length < 4 || /[0-9]/.test(w) || word === word.toUpperCase()) return undefined;
  const irregular = IRREGULAR_PLURALS[w];
  if (irregular !== undefined) return irregular === w ? undefined : irregular;
  if (/(itis|osis|emia|algia|ia|ism|ness|ing|ed|ous|al|ic|ive|ful|less|ary|ory)$/.test(w)) return undefined;
  if (/(s|x|z|ch|sh)$/.test(w)) return w.endsWith('is') ? undefined : `${w}es`;
  if (/[^aeiou]y$/.test(w)) return `${w.slice(0, -1)}ies`;
  return `${w}s`;
}

/** All capitals, or short with two capitals ("HbA1c", "AFib"): scored as an abbreviation. */
const isAbbrev = (term: string): boolean => /^[A-Z0-9/&]+$/.test(term.replace(/[\s-]/g, '')) || (/[A-Z].*[A-Z]/.test(term) && term.length <= 6);

function addTerm<E>(root: TrieNode<TrieValue<E>>, raw: string, entry: E, plurals: boolean): number {
  const exact = raw.startsWith('=') ? raw.slice(1) : undefined;
  const term = exact ?? raw;
  const key = termKey(term);
  if (key.length === 0) return 0;
  const abbrev = isAbbrev(term);
  trieInsert(root, key, { entry, exact, variant: 'term', abbrev });
  let added = 1;
  if (plurals && exact === undefined && !abbrev) {
    const last = key[key.length - 1] as string;
    const plural = pluralOf(last);
    if (plural !== undefined) {
      trieInsert(root, [...key.slice(0, -1), plural], { entry, variant: 'plural', abbrev });
      added++;
    }
  }
  return added;
}

const stripTag = (d: string): string => d.replace(/\s*\([^)]*\)$/, '');

/** Quality words that grade severity: an attribute even when a lexicon term starts with them. */
const SEVERITY = new Set(['mild', 'moderate', 'severe', 'mild to moderate', 'moderate to severe', 'very severe', 'mild-moderate', 'slight', 'minimal', 'significant', 'massive', 'extensive', 'mildly', 'moderately', 'severely', 'markedly', 'slightly', 'minimally']);

/** Exact-case abbreviations that are also symbols or words: a test only when a value follows. */
const VALUE_ONLY = new Set(['Na', 'Cl', 'Ca', 'Mg', 'CO2', 'PR', 'Tm', 'Hb', 'Vt', 'PCV', 'Mag', 'Bicarb', 'Phos', 'iCa', 'K+', 'Na+', 'H/H', 'H&H', 'QT', 'MAPs', 'I/O', 'PVR', 'SVR', 'UOP']);

let cached: Lexicon | undefined;

/** The lexicon, loaded from disk at first use and kept for the life of the process. */
export function getLexicon(): Lexicon {
  cached ??= loadLexicon();
  return cached;
}

function loadLexicon(): Lexicon {
  const entities = newTrie<TrieValue<EntityEntry>>();
  const modifiers = newTrie<TrieValue<ModifierEntry>>();
  const triggers = newTrie<TrieValue<TriggerEntry>>();
  const concepts: Concept[] = [];
  const stats: Record<string, number> = {};
  const count = (name: string, n: number): void => {
    stats[name] = (stats[name] ?? 0) + n;
  };

  // Descriptions are written without the SNOMED CT semantic tag unless it differs from the default.
  const concept = (code: string, description: string, category: Concept['category'], terms: string[], tag: string): Concept => {
    const c: Concept = {
      index: concepts.length,
      code: code === '-' ? '' : code,
      description: /\)$/.test(description) ? description : `${description} (${tag})`,
      category,
      termKeys: terms.map((t) => termKey(t.replace(/^=/, ''))),
    };
    concepts.push(c);
    return c;
  };

  // Modifier words that open a condition term ("acute otitis media") become attributes instead,
  // when the rest of the term names the same concept: drop such synonyms.
  const modifierWords = new Set<string>();
  for (const [type, terms] of readRows('modifiers.tsv', 2)) {
    for (const t of splitTerms(terms)) {
      // Acuity and severity stay attributes; descriptive qualities ("productive cough",
      // "secondary syphilis") are part of the term as clinicians write it.
      if (t.startsWith('=') || !(type === 'ACUITY' || (type === 'QUALITY' && SEVERITY.has(t)))) continue;
      modifierWords.add(termKey(t).join(' '));
    }
  }
  const redundant = (term: string, all: readonly string[]): boolean => {
    const key = termKey(term.replace(/^=/, ''));
    const keys = new Set(all.map((t) => termKey(t.replace(/^=/, '')).join(' ')));
    for (let i = 1; i < key.length; i++) {
      if (modifierWords.has(key.slice(0, i).join(' ')) && keys.has(key.slice(i).join(' '))) return true;
    }
    return false;
  };

  for (const [code, description, kindCell, terms] of readRows('conditions.tsv', 4)) {
    // A trailing '-' marks terms that state the finding absent ("afebrile": fever, negated).
    const negated = kindCell?.endsWith('-') ?? false;
    const kind = negated ? kindCell?.slice(0, -1) : kindCell;
    if (kind !== 'DIAGNOSIS' && kind !== 'SIGN' && kind !== 'SYMPTOM') throw new Error(`conditions.tsv: bad kind ${kindCell}`);
    // A description written with a leading '!' names the concept but is not a term itself
    // ("Nausea and vomiting": annotators and the service report "nausea" and "vomiting").
    const described = (description as string).startsWith('!');
    const name = described ? (description as string).slice(1) : (description as string);
    const all = [...(described ? [] : [stripTag(name)]), ...splitTerms(terms)];
    const list = all.filter((t, i) => (i === 0 && !described) || !redundant(t, all));
    const c = concept(code as string, name, 'MEDICAL_CONDITION', list, kind === 'DIAGNOSIS' ? 'disorder' : 'finding');
    count('conditionConcepts', 1);
    for (const t of list) count('conditionTerms', addTerm(entities, t, { category: 'MEDICAL_CONDITION', kind, concept: c, negated }, true));
  }
  for (const [code, description, terms] of readRows('anatomy.tsv', 3)) {
    const list = [stripTag(description as string), ...splitTerms(terms)];
    const c = concept(code as string, description as string, 'ANATOMY', list, 'body structure');
    count('anatomyConcepts', 1);
    for (const t of list) count('anatomyTerms', addTerm(entities, t, { category: 'ANATOMY', concept: c }, true));
  }
  for (const [code, description, rawType, terms] of readRows('procedures.tsv', 4)) {
    const valued = rawType?.endsWith('!') ?? false;
    const type = `${rawType?.replace('!', '')}_NAME`;
    if (type !== 'TEST_NAME' && type !== 'PROCEDURE_NAME' && type !== 'TREATMENT_NAME') throw new Error(`procedures.tsv: bad type ${rawType}`);
    const list = [stripTag(description as string), ...splitTerms(terms)];
    const c = concept(code as string, description as string, 'TEST_TREATMENT_PROCEDURE', list, type === 'TREATMENT_NAME' ? 'regime/therapy' : 'procedure');
    count('ttpConcepts', 1);
    for (const t of list) {
      // Single letters, lower-case short words ("hr", "sat") and element symbols ("Na", "Cl")
      // are tests only with a value; "BP", "Hgb", "pH" written in their own case are tests anyway.
      const bare = t.replace(/^=/, '');
      const exactCase = t.startsWith('=');
      const needsValue = bare.length === 1 || (!exactCase && bare.length <= 4) || VALUE_ONLY.has(bare);
      const value = !valued ? 'none' : needsValue ? 'require' : 'prefer';
      count('ttpTerms', addTerm(entities, t, { category: 'TEST_TREATMENT_PROCEDURE', type, value, concept: c }, !valued));
    }
  }
  for (const [generic, synonyms, brands] of readRows('medications.tsv', 1)) {
    const g = generic as string;
    count('medicationGenerics', 1);
    for (const t of [g, ...splitTerms(synonyms)]) count('medicationTerms', addTerm(entities, t, { category: 'MEDICATION', type: 'GENERIC_NAME', generic: g }, false));
    for (const t of splitTerms(brands)) count('medicationTerms', addTerm(entities, t, { category: 'MEDICATION', type: 'BRAND_NAME', generic: g }, false));
  }
  for (const [type, terms] of readRows('behavioral.tsv', 2)) {
    // A trailing '-' marks terms that are negated in themselves ("non-smoker", "NKDA").
    const negated = type?.endsWith('-') ?? false;
    const t = type?.replace(/-$/, '') as BesType;
    for (const term of splitTerms(terms)) count('behavioralTerms', addTerm(entities, term, { category: 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL', type: t, negated }, false));
  }
  for (const [terms] of readRows('professions.tsv', 1)) {
    for (const term of splitTerms(terms)) count('professionTerms', addTerm(entities, term, { category: 'PROFESSION' }, true));
  }
  for (const [terms] of readRows('nonentities.tsv', 1)) {
    for (const term of splitTerms(terms)) count('nonEntityTerms', addTerm(entities, term, { category: 'NONE' }, true));
  }
  for (const [type, terms] of readRows('modifiers.tsv', 2)) {
    for (const term of splitTerms(terms)) count('modifierTerms', addTerm(modifiers, term, { type: type as ModifierType }, type === 'FORM'));
  }
  for (const [type, direction, terms] of readRows('triggers.tsv', 3)) {
    if (direction !== 'PRE' && direction !== 'POST' && direction !== 'NEXT') throw new Error(`triggers.tsv: bad direction ${direction}`);
    for (const term of splitTerms(terms)) count('triggerTerms', addTerm(triggers, term, { type: type as TriggerType, direction }, false));
  }

  const conceptsByToken = new Map<string, number[]>();
  for (const c of concepts) {
    if (c.code === '') continue;
    const seen = new Set<string>();
    for (const key of c.termKeys) {
      for (const tok of key) {
        if (seen.has(tok) || tok.length < 2) continue;
        seen.add(tok);
        const list = conceptsByToken.get(tok) ?? [];
        list.push(c.index);
        conceptsByToken.set(tok, list);
      }
    }
  }
  const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as LexiconManifest;
  return { entities, modifiers, triggers, concepts, conceptsByToken, stats, manifest };
}
