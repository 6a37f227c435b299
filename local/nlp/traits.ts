// Traits: NegEx-style context triggers with scopes that stop at clause boundaries ("but",
// "however", sentence ends), section defaults (PMH, FH, plan), and sign/symptom/diagnosis.
import type { AttributeName, EntityType } from '@aws-sdk/client-comprehendmedical';
import type { Doc } from './analyze.js';
import { addTrait, type Mention } from './model.js';
import { sectionAt, type SectionKind } from './sections.js';
import type { Token } from './text.js';

const ALLOWED: Partial<Record<EntityType, ReadonlySet<AttributeName>>> = {
  MEDICAL_CONDITION: new Set(['NEGATION', 'PERTAINS_TO_FAMILY', 'HYPOTHETICAL', 'LOW_CONFIDENCE', 'PAST_HISTORY', 'SIGN', 'SYMPTOM', 'DIAGNOSIS']),
  MEDICATION: new Set(['NEGATION', 'PAST_HISTORY']),
  TEST_TREATMENT_PROCEDURE: new Set(['NEGATION', 'PAST_HISTORY', 'FUTURE', 'HYPOTHETICAL']),
  BEHAVIORAL_ENVIRONMENTAL_SOCIAL: new Set(['NEGATION', 'PAST_HISTORY']),
};

const BASE_SCORE: Record<string, number> = {
  NEGATION: 0.97,
  PERTAINS_TO_FAMILY: 0.93,
  HYPOTHETICAL: 0.9,
  LOW_CONFIDENCE: 0.88,
  PAST_HISTORY: 0.91,
  FUTURE: 0.9,
};

/** Words after a comma that start a finding stated present ("no edema, mild crepitus"). */
const POSITIVE_OPENER = new Set(['mild', 'mildly', 'moderate', 'moderately', 'severe', 'marked', 'trace', 'slight', 'minimal', 'some', 'positive', 'but', 'has', 'with']);

/** Prepositions that introduce the test a finding was seen on. */
const EVIDENCE = new Set(['on', 'by', 'per', 'via', 'at']);

function allowed(m: Mention, name: AttributeName): boolean {
  return ALLOWED[m.category]?.has(name) ?? false;
}

export function applyTraits(doc: Doc): void {
  const { tokens, mentions } = doc;
  const targets = mentions.filter((m) => ALLOWED[m.category] !== undefined && m.consumedBy === undefined);

  for (const m of targets) {
    const section = sectionAt(doc.sections, m.start);
    // What the examiner finds is a sign, whatever the patient would call it ("Abd: tender").
    const kind = conditionKind(doc, m, section);
    if (kind !== undefined) addTrait(m, kind, kind === 'DIAGNOSIS' ? 0.86 : 0.83);
    if (m.negated === true) addTrait(m, 'NEGATION', 0.95);
    // "non-smoker": the prefix negates the entity that follows it.
    if (/\bnon-$/i.test(doc.text.slice(Math.max(0, m.start - 4), m.start)) && allowed(m, 'NEGATION')) addTrait(m, 'NEGATION', 0.94);
    // "nontender", "non-distended": the finding is stated absent by the word itself.
    if (m.category === 'MEDICAL_CONDITION' && /^non-?(?:tender|distended|erythematous|edematous|palpable|focal|reactive)/i.test(doc.text.slice(m.start, m.end))) addTrait(m, 'NEGATION', 0.93);
    // A medication listed in the history ("hypothyroidism on levothyroxine") is usually current.
    if (section === 'PMH' && m.category !== 'MEDICATION' && allowed(m, 'PAST_HISTORY')) addTrait(m, 'PAST_HISTORY', 0.85);
    if (section === 'PSH' && m.category !== 'MEDICATION' && allowed(m, 'PAST_HISTORY')) addTrait(m, 'PAST_HISTORY', 0.87);
    if (section === 'FH' && allowed(m, 'PERTAINS_TO_FAMILY')) addTrait(m, 'PERTAINS_TO_FAMILY', 0.88);
  }

  // Triggers inside attributes ("Troponin negative") or PHI are not context cues.
  const live = doc.triggers.filter((t) => {
    for (let k = t.first; k <= t.last; k++) if (doc.claimed[(tokens[k] as Token).start] === 1) return false;
    return true;
  });
  const terminators = new Set<number>();
  const negationTerminators = new Set<number>();
  for (const t of live) {
    if (t.type === 'TERMINATE') terminators.add(t.first);
    if (t.type === 'TERMINATE_NEGATION') negationTerminators.add(t.first);
  }
  const ends = (k: number, name: AttributeName): boolean => terminators.has(k) || (name === 'NEGATION' && negationTerminators.has(k));

  // Mentions starting at each token, for scope look-ups.
  const startingAt = new Map<number, Mention>();
  for (const m of targets) startingAt.set(m.first, m);

  for (const trig of live) {
    if (trig.type === 'TERMINATE' || trig.type === 'TERMINATE_NEGATION' || trig.type === 'PSEUDO') continue;
    const sentence = (tokens[trig.first] as Token).sentence;
    const name = trig.type as AttributeName;
    const base = BASE_SCORE[trig.type] ?? 0.85;
    if (trig.direction === 'NEXT') {
      // Adjectives ("former smoker", "prior MI") qualify only the entity right after them.
      for (let k = trig.last + 1; k < tokens.length && k <= trig.last + 4; k++) {
        const t = tokens[k] as Token;
        if (t.sentence !== sentence || ends(k, name)) break;
        const m = startingAt.get(k);
        if (m !== undefined) {
          if (allowed(m, name)) addTrait(m, name, base);
          break;
        }
      }
    } else if (trig.direction === 'PRE') {
      for (let k = trig.last + 1; k < tokens.length; k++) {
        const t = tokens[k] as Token;
        // A colon ends the scope ("No pain. Exam: ..."), except right after the trigger ("Denies: fever").
        if (t.sentence !== sentence || ends(k, name) || (t.text === ':' && k !== trig.last + 1)) break;
        // "no fever, mild cough": a comma then a stated finding opens a positive clause.
        if (name === 'NEGATION' && t.text === ',' && k > trig.last + 1 && POSITIVE_OPENER.has(tokens[k + 1]?.norm ?? '')) break;
        const m = startingAt.get(k);
        // "no pneumonia on CXR", "no muscle aches on the statin": the test is the evidence and the
        // drug the suspected cause, not what is negated ("not on CPAP" is: its "on" is the trigger's).
        const cue = k - 1 > trig.last ? (tokens[k - 1]?.norm ?? '') : '';
        const cue2 = k - 2 > trig.last && cue === 'the' ? (tokens[k - 2]?.norm ?? '') : '';
        if (m !== undefined && name !== 'FUTURE' && (m.category === 'TEST_TREATMENT_PROCEDURE' || (m.category === 'MEDICATION' && name === 'NEGATION')) && (EVIDENCE.has(cue) || EVIDENCE.has(cue2))) continue;
        if (m !== undefined && allowed(m, name)) {
          addTrait(m, name, base - Math.min(0.2, Math.max(0, k - trig.last - 3) * 0.005));
        }
      }
    } else {
      // Post triggers ("pneumonia was ruled out") reach back a few tokens within the clause.
      for (let k = trig.first - 1, n = 0; k >= 0 && n < 8; k--, n++) {
        const t = tokens[k] as Token;
        if (t.sentence !== sentence || ends(k, name)) break;
        // "Two loose stools yesterday, none today": after a comma, "none" is a clause of its own.
        if (t.text === ',' && k === trig.first - 1 && tokens[trig.first]?.norm === 'none') break;
        const m = doc.mentionAt[k];
        if (m !== undefined && m.first === k && targets.includes(m) && allowed(m, name)) {
          addTrait(m, name, base - 0.02 - n * 0.005);
        }
      }
    }
  }

  stoppedDrugs(doc, targets);

  // A year before the note's latest one places what precedes it in the past ("TIA in 2018",
  // "MRI brain in 2023 was normal"); a negated entity has no history of its own ("no prior EGD").
  const years = doc.mentions.filter((m) => m.type === 'DATE').map((m) => yearOf(doc.text.slice(m.start, m.end)));
  const latest = Math.max(0, ...years.filter((y): y is number => y !== undefined));
  for (const d of doc.mentions) {
    if (d.type !== 'DATE') continue;
    const year = yearOf(doc.text.slice(d.start, d.end));
    if (year === undefined || year >= latest) continue;
    const sentence = (tokens[d.first] as Token).sentence;
    // "Colonoscopy 2021 normal", "EGD 11/2025:": a test or procedure dated by a past year.
    const dated = doc.mentionAt[d.first - 1];
    if (dated !== undefined && dated.category === 'TEST_TREATMENT_PROCEDURE' && targets.includes(dated) && (tokens[d.first - 1] as Token).sentence === sentence) {
      addTrait(dated, 'PAST_HISTORY', 0.86);
      continue;
    }
    if (!/\b(?:in|since|from|during|of)\s*$/i.test(doc.text.slice(Math.max(0, d.start - 8), d.start))) continue;
    for (let k = d.first - 1, n = 0; k >= 0 && n < 8; k--, n++) {
      const t = tokens[k] as Token;
      if (t.sentence !== sentence || t.text === ',' || t.text === ';') break;
      const m = doc.mentionAt[k];
      if (m !== undefined && m.first === k && targets.includes(m) && allowed(m, 'PAST_HISTORY')) {
        addTrait(m, 'PAST_HISTORY', 0.86);
        break;
      }
    }
  }
  for (const m of targets) if (m.traits.has('NEGATION')) m.traits.delete('PAST_HISTORY');

  // A test or procedure in the plan is yet to be done, unless it already has a result; treatments
  // in the plan (diet, counseling, oxygen) are current care, not future, unless the plan refers
  // the patient to them or has them start ("refer to physical therapy", "start pulmonary rehab").
  for (const m of targets) {
    if (m.category !== 'TEST_TREATMENT_PROCEDURE' || m.traits.has('PAST_HISTORY') || m.traits.has('NEGATION') || m.traits.has('HYPOTHETICAL')) continue;
    if (m.attributes.some((a) => a.type === 'TEST_VALUE')) continue;
    if (sectionAt(doc.sections, m.start) !== 'PLAN') continue;
    if (m.type !== 'TREATMENT_NAME' || REFERRAL_BEFORE_RE.test(lineBefore(doc.text, m.start)) || REFERRAL_AFTER_RE.test(doc.text.slice(m.end, m.end + 24))) addTrait(m, 'FUTURE', 0.8);
  }
}

/**
 * Sign, symptom or diagnosis of a condition: the lexicon's kind, adjusted by where it is written.
 * What the examiner finds is a sign ("Abd: tender"); a problem heading the line of an assessment or
 * a history list is a diagnosis ("1. Recurrent falls", "PMH: mild cognitive impairment").
 */
function conditionKind(doc: Doc, m: Mention, section: SectionKind | undefined): Mention['kind'] {
  const kind = m.kind;
  if (kind === undefined || kind === 'DIAGNOSIS') return kind;
  if (section === 'EXAM' || section === 'VITALS') return 'SIGN';
  const lineStart = doc.text.lastIndexOf('\n', m.start - 1) + 1;
  const lead = doc.text.slice(lineStart, m.start);
  if ((section === 'ASSESSMENT' || section === 'PLAN' || section === 'PMH') && /^\s*(?:[-*•]|\d{1,2}[.)])?\s*(?:[A-Za-z/ ]{0,20}:\s*)?(?:(?:mild|moderate|severe|acute|chronic|recurrent|new|worsening)\s+)?$/i.test(lead)) return 'DIAGNOSIS';
  return kind;
}

/** The four-digit year of a date ("03/2023", "2019", "March 2024"), if it has one. */
function yearOf(date: string): number | undefined {
  const m = /(?:^|\D)((?:19|20)\d{2})(?!\d)/.exec(date);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Words that put a treatment of the plan in the future: a referral, an order to start it. */
const REFERRAL_BEFORE_RE = /\b(?:refer(?:ral|red|ring)?|start(?:ing)?|begin|initiate|schedule[ds]?|arrange[ds]?|plan(?:ned)? for|will|enroll|consult(?:ed)?|recommend(?:ed)?)\b[^.;:]*$/i;

/** "PT eval", "ENT referral", "OT consult": the plan sends the patient to the treatment. */
const REFERRAL_AFTER_RE = /^\s*(?:referral|eval(?:uation)?|consult(?:ation)?|to see|to evaluate)\b/i;

/** The text of the line before an offset, at most 60 characters. */
function lineBefore(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return text.slice(Math.max(lineStart, offset - 60), offset);
}

const STOP_CUES = new Set(['stop', 'hold', 'held', 'holding', 'discontinue', 'd/c', 'dc']);
// "Stop scheduled ibuprofen", "hold home lisinopril". (A drug the history says was stopped, "she
// stopped her lithium", is not negated by the annotators: only orders to stop or hold are.)
const DRUG_LIST_LINK = new Set([',', 'and', 'or', '&', 'the', 'her', 'his', 'their', 'both', 'scheduled', 'home', 'current']);
const SIG_REACH = 10;

/**
 * "Stop doxazosin and hydrochlorothiazide", "hold metoprolol", "lisinopril held": a drug stopped
 * or held is NEGATION, as the annotators of the guideline-era sets (135 on) mark it (the first dev
 * notes did not: eval/README.md). Each drug of a list after the cue takes it.
 */
function stoppedDrugs(doc: Doc, targets: readonly Mention[]): void {
  const { tokens } = doc;
  for (const m of targets) {
    if (m.category !== 'MEDICATION' || m.traits.has('NEGATION')) continue;
    const sentence = (tokens[m.first] as Token).sentence;
    let cue = false;
    for (let k = m.first - 1, n = 0; k >= 0 && n < 12; n++) {
      const t = tokens[k] as Token;
      if (t.sentence !== sentence) break;
      const other = doc.mentionAt[k];
      if (other !== undefined && other.category === 'MEDICATION') {
        k = other.first - 1;
        continue;
      }
      if (other === undefined && STOP_CUES.has(t.norm)) {
        cue = true;
        break;
      }
      if (other !== undefined || !DRUG_LIST_LINK.has(t.norm)) break;
      k--;
    }
    if (cue || stoppedAfter(doc, m, sentence)) addTrait(m, 'NEGATION', 0.88);
  }
}

/**
 * After the drug, past its sig: "lisinopril held", "metoprolol on hold", "amlodipine 5 mg po daily
 * held since admission", "Ciprofloxacin 500 mg daily not started".
 */
function stoppedAfter(doc: Doc, m: Mention, sentence: number): boolean {
  const { tokens } = doc;
  const sig = m.attributes.filter((a) => a.category === 'MEDICATION');
  for (let k = m.last + 1; k < tokens.length && k <= m.last + SIG_REACH; k++) {
    const t = tokens[k] as Token;
    if (t.sentence !== sentence || t.text === ';' || t.text === ',') return false;
    if (sig.some((a) => a.start <= t.start && t.end <= a.end) || t.text === '(') continue;
    const next = tokens[k + 1]?.norm ?? '';
    return t.norm === 'held' || (t.norm === 'on' && next === 'hold') || (t.norm === 'not' && /^(?:started|given|restarted|resumed)$/.test(next));
  }
  return false;
}
