// The engine's pipeline: tokens -> sections -> PHI -> dictionary entities -> attributes ->
// time expressions -> traits. Pure and deterministic: the same text always gives the same result.
import { getLexicon, type EntityEntry, type Lexicon, type ModifierEntry, type TriggerEntry, type TrieValue } from './lexicon.js';
import { round4, type Analysis, type Mention } from './model.js';
import { detectPhi } from './phi.js';
import { findSections, type Section } from './sections.js';
import { isTransparent, segmentSentences, tokenize, type Token } from './text.js';
import { trieMatchesAt, type TrieHit } from './trie.js';
import { stickyMatch, TEST_VALUE_RE } from './patterns.js';
import { attachAttributes } from './attributes.js';
import { attachTimeExpressions } from './time.js';
import { applyTraits } from './traits.js';
import { composeMentions } from './compose.js';

/** A modifier word or phrase (route, frequency, form, acuity, direction, quality) in the text. */
export interface ModMatch {
  readonly type: ModifierEntry['type'];
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
}
/** A context trigger (negation, family, hypothetical ...) in the text. */
export interface TriggerMatch extends TriggerEntry {
  readonly first: number;
  readonly last: number;
}

/** Everything later stages need about the note. */
export interface Doc {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly sections: readonly Section[];
  readonly lexicon: Lexicon;
  readonly mentions: Mention[];
  /** Mention covering each token, if any. */
  readonly mentionAt: (Mention | undefined)[];
  readonly mods: ModMatch[];
  readonly modAt: (ModMatch | undefined)[];
  readonly triggers: TriggerMatch[];
  /** Character ranges already used (PHI, headers, attributes): triggers and time inside are ignored. */
  readonly claimed: Uint8Array;
}

const CATEGORY_PRIORITY: Record<EntityEntry['category'], number> = {
  NONE: -1,
  MEDICATION: 0,
  TEST_TREATMENT_PROCEDURE: 1,
  MEDICAL_CONDITION: 2,
  BEHAVIORAL_ENVIRONMENTAL_SOCIAL: 3,
  ANATOMY: 4,
  PROFESSION: 5,
};

function surface(text: string, tokens: readonly Token[], first: number, last: number): string {
  return text.slice((tokens[first] as Token).start, (tokens[last] as Token).end);
}

/** The best acceptable lexicon value of a hit, or undefined (case mismatch, missing test value). */
function pickValue<E>(text: string, tokens: readonly Token[], hit: TrieHit<TrieValue<E>>, accept: (v: TrieValue<E>) => boolean): TrieValue<E> | undefined {
  const span = surface(text, tokens, hit.first, hit.last);
  let best: TrieValue<E> | undefined;
  for (const v of hit.values) {
    if (v.exact !== undefined && v.exact !== span) continue;
    if (!accept(v)) continue;
    if (best === undefined) best = v;
  }
  return best;
}

function entityScore(v: TrieValue<EntityEntry>, tokenCount: number, caseMatches: boolean): number {
  let s = 0.9 + Math.min(3, tokenCount) * 0.02;
  if (v.variant === 'plural') s -= 0.03;
  if (v.abbrev) s -= caseMatches ? 0.04 : 0.08;
  return round4(s);
}

const PHI_CATEGORY = 'PROTECTED_HEALTH_INFORMATION' as const;

/** Devices that name a drug class alone ("uses her inhaler") and a form after a drug's name. */
const DEVICE_FORMS = new Set(['inhaler', 'inhalers']);

/** A size ("3 cm", "5-7 mm", "1.2 x 0.8 cm") or a grade ("grade 2", "LA grade B", "grade II"). */
const SIZE_OR_GRADE_RE = /(?:\d+(?:\.\d+)?(?:\s*(?:-|to|x)\s*\d+(?:\.\d+)?)*\s*(?:mm|cm)|(?:[A-Z]{2,4}\s+)?[Gg]rade\s+(?:[0-4]|[IV]{1,3}|[A-D])[ab]?)(?![\w/])/y;

/** Words before an occupation that are not part of it ("works as a", "retired", "45 yo"). */
const NOT_TRADE = new Set([
  'a', 'an', 'the', 'as', 'is', 'was', 'are', 'were', 'be', 'been', 'retired', 'former', 'formerly', 'works', 'worked', 'working', 'work', 'employed',
  'unemployed', 'job', 'part', 'full', 'time', 'and', 'or', 'her', 'his', 'their', 'my', 'yo', 'old', 'year', 'years', 'male', 'female', 'man', 'woman',
  'boy', 'girl', 'who', 'with', 'currently', 'previously', 'now', 'still', 'of', 'at', 'for', 'in', 'on', 'by', 'to', 'from', 'self', 'also', 'lives',
  'married', 'single', 'divorced', 'widowed', 'patient', 'pt', 'she', 'he', 'they', 'occupation', 'occupational', 'retiree',
]);
const MAX_TRADE_WORDS = 3;

function extendOccupation(text: string, tokens: readonly Token[], m: Mention, mentionAt: (Mention | undefined)[], isClaimed: (t: Token) => boolean): Mention {
  let first = m.first;
  for (let j = m.first - 1; j >= 0 && m.first - j <= MAX_TRADE_WORDS; j--) {
    const t = tokens[j] as Token;
    const next = tokens[j + 1] as Token;
    if (t.kind !== 'word' || t.sentence !== next.sentence || mentionAt[j] !== undefined || isClaimed(t)) break;
    if (!/^[a-z]+$/.test(t.text) || NOT_TRADE.has(t.norm) || text.slice(t.end, next.start) !== ' ') break;
    first = j;
  }
  if (first === m.first) return m;
  const extended: Mention = { ...m, first, start: (tokens[first] as Token).start };
  for (let j = first; j <= m.last; j++) mentionAt[j] = extended;
  return extended;
}

// The emulator runs both operations on every document of a batch, the two jobs side by side (their
// documents interleave): keep the most recent analyses, keyed by the text, least recently used out.
const RECENT_ANALYSES = 64;
const recent = new Map<string, Analysis>();

/** Analyses a note (the result is shared and must not be mutated). */
export function analyze(text: string): Analysis {
  const cached = recent.get(text);
  if (cached !== undefined) {
    recent.delete(text);
    recent.set(text, cached);
    return cached;
  }
  const analysis = analyzeUncached(text);
  recent.set(text, analysis);
  if (recent.size > RECENT_ANALYSES) recent.delete(recent.keys().next().value as string);
  return analysis;
}

/** Exam headings that name a body region (the others name a system or a service: "CV:", "Neuro:", "Gen:"). */
const EXAM_REGION_HEADER = /^(?:HEENT|Lungs|Heart|Abd|Abdomen|Extremities|Skin)(?![A-Za-z])/i;

function analyzeUncached(text: string): Analysis {
  const lexicon = getLexicon();
  const tokens = tokenize(text);
  segmentSentences(text, tokens);
  const sections = findSections(text);
  const claimed = new Uint8Array(text.length);
  const claim = (start: number, end: number): void => {
    claimed.fill(1, start, end);
  };
  const sigPhrase = new Uint8Array(text.length);
  const isClaimed = (t: Token): boolean => claimed[t.start] === 1 || claimed[t.end - 1] === 1;

  const mentions: Mention[] = [];
  const mentionAt: (Mention | undefined)[] = new Array(tokens.length).fill(undefined);
  for (const s of sections) {
    // An exam heading that names a body region ("Lungs:", "Abdomen:") is the subject of its finding,
    // an ANATOMY entity (eval/GUIDELINES.md): only its colon is claimed.
    const region = s.kind === 'EXAM' ? EXAM_REGION_HEADER.exec(text.slice(s.headerStart, s.headerEnd)) : null;
    claim(region === null ? s.headerStart : s.headerStart + region[0].length, s.headerEnd);
  }

  // 1. PHI patterns claim their spans first.
  const tokenIndexAt = (offset: number): number => {
    let lo = 0;
    let hi = tokens.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((tokens[mid] as Token).end <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const p of detectPhi(text)) {
    claim(p.start, p.end);
    const first = tokenIndexAt(p.start);
    const last = Math.max(first, tokenIndexAt(p.end - 1));
    const m: Mention = { category: PHI_CATEGORY, type: p.type, start: p.start, end: p.end, first, last, score: p.score, traits: new Map(), attributes: [] };
    mentions.push(m);
    for (let k = first; k <= last; k++) mentionAt[k] = m;
  }

  // "72 y.o. M", "19 yo F": the letter after an age is the gender.
  for (const p of mentions.filter((x) => x.type === 'AGE')) {
    const g = /^\s{1,2}([MF])(?![A-Za-z])/.exec(text.slice(p.end, p.end + 4));
    if (g === null) continue;
    const start = p.end + g[0].length - 1;
    const first = tokenIndexAt(start);
    if (mentionAt[first] !== undefined) continue;
    const m: Mention = { category: 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL', type: 'GENDER', start, end: start + 1, first, last: first, score: 0.85, traits: new Map(), attributes: [] };
    mentions.push(m);
    mentionAt[first] = m;
    claim(start, start + 1);
  }

  // 2. Sig phrases of several words ("by mouth", "in each eye", "at bedtime", "eye drops") are not entities.
  for (let k = 0; k < tokens.length; k++) {
    const hit = trieMatchesAt(lexicon.modifiers, tokens, k)[0];
    if (hit === undefined || hit.last === hit.first) continue;
    if (!hit.values.some((v) => v.entry.type === 'ROUTE_OR_MODE' || v.entry.type === 'FREQUENCY' || v.entry.type === 'FORM')) continue;
    if (pickValue(text, tokens, hit, () => true) === undefined) continue;
    const startTok = tokens[hit.first] as Token;
    const endTok = tokens[hit.last] as Token;
    sigPhrase.fill(1, startTok.start, endTok.end);
    k = hit.last;
  }

  // 3. Longest-match dictionary entities.
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k] as Token;
    if (tok.kind === 'punct' || mentionAt[k] !== undefined || isClaimed(tok)) continue;
    // The tail of a hyphenated word is not a term of its own ("pre-pregnancy", "post-op").
    const hyphen = tokens[k - 1];
    const head = tokens[k - 2];
    // "non-smoker" is the exception: the entity with its negation.
    if (hyphen !== undefined && head !== undefined && isTransparent(hyphen) && hyphen.start === head.end && tok.start === hyphen.end && head.kind === 'word' && head.norm !== 'non') continue;
    const hits = trieMatchesAt(lexicon.entities, tokens, k);
    for (const hit of hits) {
      let blocked = false;
      for (let j = hit.first; j <= hit.last; j++) {
        const t = tokens[j] as Token;
        if (mentionAt[j] !== undefined || isClaimed(t) || sigPhrase[t.start] === 1) blocked = true;
      }
      if (blocked) continue;
      const endTok = tokens[hit.last] as Token;
      // A vital sign or lab written with its value ("K 4.1", "potassium 3.2") is a test, not a drug.
      const valueRule = (v: TrieValue<EntityEntry>): 'require' | 'prefer' | 'none' => (v.entry.category === 'TEST_TREATMENT_PROCEDURE' ? v.entry.value : 'none');
      const sorted = [...hit.values].sort((a, b) => CATEGORY_PRIORITY[a.entry.category] - CATEGORY_PRIORITY[b.entry.category]);
      const withValue = sorted.some((v) => valueRule(v) !== 'none') && /\d/.test(stickyMatch(TEST_VALUE_RE, text, endTok.end)?.[1] ?? '');
      if (withValue) sorted.sort((a, b) => Number(valueRule(b) !== 'none') - Number(valueRule(a) !== 'none'));
      const value = pickValue(text, tokens, { ...hit, values: sorted }, (v) => valueRule(v) !== 'require' || withValue);
      if (value === undefined) continue;
      if (value.entry.category === 'NONE') {
        // Not an entity, and no shorter entity inside it either.
        claim(tok.start, endTok.end);
        k = hit.last;
        break;
      }
      // "Surgeon: Dr. ...", "Principal diagnosis", "ED PHYSICIAN NOTE": a field label or title, not an occupation.
      if (value.entry.category === 'PROFESSION' && isFieldLabel(text, tok.start, endTok.end)) continue;
      const span = surface(text, tokens, hit.first, hit.last);
      // "a cold", "the flu": the article tells the term from an ordinary word but is not part of it.
      const first = hit.last > hit.first && ARTICLES.has(tok.norm) ? hit.first + 1 : hit.first;
      const m = toMention(value, span, tokens, first, hit.last);
      mentions.push(m);
      for (let j = first; j <= hit.last; j++) mentionAt[j] = m;
      k = hit.last;
      break;
    }
  }

  // "civil engineer", "hotel housekeeper", "high school chemistry teacher": the words naming the
  // trade before an occupation belong to it.
  for (let k = 0; k < mentions.length; k++) {
    const m = mentions[k] as Mention;
    if (m.type === 'PROFESSION') mentions[k] = extendOccupation(text, tokens, m, mentionAt, isClaimed);
  }

  // Combination products written with a hyphen or slash ("losartan-hydrochlorothiazide",
  // "tobramycin/dexamethasone") are one medication.
  mentions.sort((a, b) => a.start - b.start);
  for (let k = 0; k + 1 < mentions.length; k++) {
    const a = mentions[k] as Mention;
    const b = mentions[k + 1] as Mention;
    if (a.category !== 'MEDICATION' || b.category !== 'MEDICATION' || !/^[-/]$/.test(text.slice(a.end, b.start))) continue;
    const merged: Mention = { ...a, end: b.end, last: b.last, type: a.type === 'BRAND_NAME' && b.type === 'BRAND_NAME' ? 'BRAND_NAME' : 'GENERIC_NAME', traits: new Map(), attributes: [] };
    mentions.splice(k, 2, merged);
    for (let j = merged.first; j <= merged.last; j++) mentionAt[j] = merged;
    k--;
  }

  // "albuterol inhaler": after a drug's name the device is its FORM, not a second medication.
  for (let k = 1; k < mentions.length; k++) {
    const a = mentions[k - 1] as Mention;
    const b = mentions[k] as Mention;
    if (a.category !== 'MEDICATION' || b.category !== 'MEDICATION' || !/^\s+$/.test(text.slice(a.end, b.start)) || !DEVICE_FORMS.has(text.slice(b.start, b.end).toLowerCase())) continue;
    mentions.splice(k--, 1);
    for (let j = b.first; j <= b.last; j++) mentionAt[j] = undefined;
  }

  composeMentions(text, tokens, mentions, mentionAt);

  // "smokes marijuana": the verb belongs to the drug, not to tobacco.
  for (let k = 0; k < mentions.length; k++) {
    const m = mentions[k] as Mention;
    if (m.type !== 'TOBACCO_USE' || !/^smok/i.test(text.slice(m.start, m.end)) || m.last !== m.first) continue;
    const next = mentionAt[m.last + 1];
    if (next !== undefined && next.type === 'REC_DRUG_USE') {
      mentions.splice(k--, 1);
      mentionAt[m.first] = undefined;
    }
  }

  // 4. Modifier words and context triggers outside entities.
  const mods: ModMatch[] = [];
  const modAt: (ModMatch | undefined)[] = new Array(tokens.length).fill(undefined);
  const triggers: TriggerMatch[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k] as Token;
    if (mentionAt[k] !== undefined || isClaimed(tok)) continue;
    const modHit = firstFree(trieMatchesAt(lexicon.modifiers, tokens, k), mentionAt);
    const modValue = modHit === undefined ? undefined : pickValue(text, tokens, modHit, () => true);
    const trigHit = firstFree(trieMatchesAt(lexicon.triggers, tokens, k), mentionAt);
    // A trigger word may act both ways ("prophylaxis"): keep every reading that fits the case.
    const trigValues = trigHit === undefined ? [] : trigHit.values.filter((v) => v.exact === undefined || v.exact === surface(text, tokens, trigHit.first, trigHit.last));
    if (trigHit !== undefined && trigValues.length > 0 && (modHit === undefined || trigHit.last >= modHit.last)) {
      for (const v of trigValues) triggers.push({ ...v.entry, first: trigHit.first, last: trigHit.last });
      if (modHit !== undefined && modValue !== undefined && modHit.last === trigHit.last) addMod(modHit, modValue.entry);
      k = trigHit.last;
    } else if (modHit !== undefined && modValue !== undefined) {
      addMod(modHit, modValue.entry);
      k = modHit.last;
    }
  }
  // Sizes and grades written before a finding describe it: "3 cm hiatal hernia", "5-7 mm polyps",
  // "grade 2 nasal polyps", "LA grade B esophagitis".
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k] as Token;
    // Only a number, "grade" or a short capitalised prefix ("LA") can start one: no regex elsewhere.
    if (tok.kind !== 'num' && tok.norm !== 'grade' && !/^[A-Z]{2,4}$/.test(tok.text)) continue;
    if (mentionAt[k] !== undefined || modAt[k] !== undefined || isClaimed(tok)) continue;
    const hit = stickyMatch(SIZE_OR_GRADE_RE, text, tok.start);
    if (hit === null) continue;
    const end = tok.start + hit[0].length;
    let last = k;
    while (last + 1 < tokens.length && (tokens[last + 1] as Token).end <= end) last++;
    if ((tokens[last] as Token).end !== end || mentionAt[last + 1]?.category !== 'MEDICAL_CONDITION' || mentionAt[last + 1]?.first !== last + 1) continue;
    if (mentionAt.slice(k, last + 1).some((x) => x !== undefined) || modAt.slice(k, last + 1).some((x) => x !== undefined)) continue;
    addMod({ first: k, last, values: [] }, { type: 'QUALITY' });
    k = last;
  }
  function addMod(hit: TrieHit<unknown>, entry: ModifierEntry): void {
    const m: ModMatch = { type: entry.type, first: hit.first, last: hit.last, start: (tokens[hit.first] as Token).start, end: (tokens[hit.last] as Token).end };
    mods.push(m);
    for (let j = hit.first; j <= hit.last; j++) modAt[j] = m;
  }

  mentions.sort((a, b) => a.start - b.start || b.end - a.end);
  const doc: Doc = { text, tokens, sections, lexicon, mentions, mentionAt, mods, modAt, triggers, claimed };

  attachAttributes(doc);
  attachTimeExpressions(doc);
  applyTraits(doc);

  const entities = doc.mentions.filter((m) => m.consumedBy === undefined && m.dropped !== true);
  entities.sort((a, b) => a.start - b.start || b.end - a.end);
  return { text, entities };
}

const ARTICLES = new Set(['a', 'an', 'the']);

function firstFree<T>(hits: TrieHit<T>[], mentionAt: readonly (Mention | undefined)[]): TrieHit<T> | undefined {
  return hits.find((h) => {
    for (let j = h.first; j <= h.last; j++) if (mentionAt[j] !== undefined) return false;
    return true;
  });
}

function toMention(v: TrieValue<EntityEntry>, span: string, tokens: readonly Token[], first: number, last: number): Mention {
  const e = v.entry;
  const start = (tokens[first] as Token).start;
  const end = (tokens[last] as Token).end;
  const caseMatches = v.exact !== undefined || span === span.toUpperCase();
  const score = entityScore(v, last - first + 1, caseMatches);
  const base = { start, end, first, last, score, traits: new Map(), attributes: [] };
  switch (e.category) {
    case 'MEDICAL_CONDITION':
      return { ...base, category: 'MEDICAL_CONDITION', type: 'DX_NAME', concept: e.concept, kind: e.kind, negated: e.negated };
    case 'ANATOMY':
      return { ...base, category: 'ANATOMY', type: 'SYSTEM_ORGAN_SITE', concept: e.concept };
    case 'TEST_TREATMENT_PROCEDURE':
      return { ...base, category: 'TEST_TREATMENT_PROCEDURE', type: e.type, concept: e.concept };
    case 'MEDICATION':
      return { ...base, category: 'MEDICATION', type: e.type };
    case 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL':
      return { ...base, category: 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL', type: e.type, negated: e.negated };
    case 'PROFESSION':
      return { ...base, category: PHI_CATEGORY, type: 'PROFESSION', score: round4(score - 0.05) };
    case 'NONE':
      throw new Error('a non-entity phrase has no mention');
  }
}

const LABEL_AFTER_RE = /^[ \t]*(?::|diagnos[ie]s\b|notes?\b|consult(?:ation)?\b)/i;

/** A word written as a field label (followed by ':' or 'diagnosis') or in a capitalised title line. */
function isFieldLabel(text: string, start: number, end: number): boolean {
  if (LABEL_AFTER_RE.test(text.slice(end, end + 24))) return true;
  const word = text.slice(start, end);
  return word.length > 3 && word === word.toUpperCase();
}
