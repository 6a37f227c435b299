// Structural rules applied to the dictionary matches before attributes and traits: what a clinical
// writer means by a sequence of terms, beyond the longest single term.
//   - "CT abdomen/pelvis", "CTA head and neck", "wrist x-ray": an imaging test with its sites is one test;
//   - "abdominal surgery": a site before "surgery" is part of the procedure;
//   - "General surgery consulted", "Date of surgery": a service or a field, not a procedure;
//   - "Chest:", "Extremities:" at the start of a line: an examination field label, not anatomy.
import type { ConditionKind } from './lexicon.js';
import type { Mention } from './model.js';
import type { Token } from './text.js';

/** Imaging tests that take their body sites with them (surface forms, lower case, hyphens as spaces). */
const IMAGING = new Set([
  'ct', 'cta', 'ct scan', 'cat scan', 'ct angiogram', 'ct angiography', 'mri', 'mra', 'mri scan', 'mr angiography', 'x ray', 'xray',
  'x rays', 'xrays', 'xr', 'radiograph', 'radiographs', 'plain film', 'plain films', 'film', 'films', 'ultrasound', 'us', 'u/s',
  'sonogram', 'doppler', 'duplex', 'pet', 'pet scan', 'pet/ct', 'bone scan', 'nuclear scan', 'imaging', 'ct imaging', 'angiogram',
]);
/** A test whose first or last word is one of these is an imaging test ("CT abdomen", "low-dose CT"). */
const MODALITY = new Set(['ct', 'cta', 'mri', 'mra', 'xr', 'ultrasound', 'pet', 'radiograph', 'radiographs', 'x-ray', 'xray', 'ray', 'rays', 'doppler', 'duplex']);
/**
 * Words that join the sites of one imaging test ("CT chest/abdomen/pelvis", "CTA head and neck").
 * Not "of": "MRI of the lumbar spine", "X-ray of the left wrist" name a test and its site
 * (eval/GUIDELINES.md, ANATOMY rule 2).
 */
const SITE_LINK = new Set(['/', 'and', '&', ',', '-', '+']);
/** A service, not a procedure, when written before "surgery". */
const SPECIALTY = new Set([
  'general', 'trauma', 'orthopedic', 'orthopaedic', 'ortho', 'vascular', 'cardiothoracic', 'thoracic', 'cardiac', 'plastic',
  'colorectal', 'pediatric', 'paediatric', 'bariatric', 'transplant', 'hepatobiliary', 'oncologic', 'surgical', 'acute care',
  'neuro', 'spine', 'hand', 'breast', 'urologic', 'ent', 'oral', 'maxillofacial',
]);
const SERVICE_AFTER = new Set(['aware', 'consulted', 'consult', 'consults', 'team', 'service', 'following', 'follows', 'recommends', 'recs', 'resident', 'attending', 'clinic', 'note']);

/** Exam items named by a site and what is measured there ("radial pulses", "deep tendon reflexes", "muscle strength"). */
const EXAM_MEASURE = new Set(['pulse', 'pulses', 'reflex', 'reflexes', 'strength', 'tone', 'sounds', 'turgor', 'refill', 'jerk', 'jerks', 'circumference']);

/** Device nouns, and the words that may stand between a site and one: "right IJ central venous catheter". */
const ACCESS_DEVICE = new Set(['catheter', 'catheters', 'line', 'lines', 'cannula', 'sheath', 'port', 'cvc', 'picc', 'introducer', 'cordis']);
const DEVICE_WORD = new Set(['central', 'venous', 'arterial', 'art', 'dialysis', 'hemodialysis', 'triple', 'double', 'single', 'lumen', 'tunneled', 'tunnelled', 'access', 'quinton', 'trialysis']);

/** What follows an organ word when it names a service or a visit rather than a body site. */
const ORGAN_SERVICE_RE = /^(?:[ \t]*\/[ \t]*[A-Za-z]+(?:[ \t]+[A-Za-z]+)?)?[ \t]+(?:clinic|service|consult(?:ation)?|team|visit|unit|department|dept|follow-up|note|center|centre|institute|associates|specialists?|assistant|hygienist|technician|office|practice|receptionist|dietitian|dietician|nutritionist|diet)\b/i;

/**
 * Generic heads that make a site and themselves one entity ("lung disease", "eye symptoms",
 * "knee flexion", "foot checks", "chin strap"): the site is part of the term, not an ANATOMY entity
 * (eval/GUIDELINES.md). The value names what the compound is.
 */
type Compound = { readonly category: 'MEDICAL_CONDITION'; readonly kind: ConditionKind } | { readonly category: 'TEST_TREATMENT_PROCEDURE'; readonly type: 'TEST_NAME' | 'TREATMENT_NAME' };
const heads = (words: string, compound: Compound): [string, Compound][] => words.split(' ').map((w) => [w, compound]);
const SITE_HEAD: ReadonlyMap<string, Compound> = new Map([
  ...heads('disease diseases problems problem injury injuries', { category: 'MEDICAL_CONDITION', kind: 'DIAGNOSIS' }),
  ...heads('symptoms symptom tension discomfort', { category: 'MEDICAL_CONDITION', kind: 'SYMPTOM' }),
  ...heads('changes irritation breathing lag involvement swing growth', { category: 'MEDICAL_CONDITION', kind: 'SIGN' }),
  ...heads('flexion extension dorsiflexion plantarflexion abduction adduction rotation recheck checks check exam exams examination type area upstrokes tapping testing', { category: 'TEST_TREATMENT_PROCEDURE', type: 'TEST_NAME' }),
  ...heads('strap wick care stretching stretches strengthening boots radiation', { category: 'TEST_TREATMENT_PROCEDURE', type: 'TREATMENT_NAME' }),
]);

const surface = (text: string, m: Mention): string => text.slice(m.start, m.end).toLowerCase().replace(/-/g, ' ').replace(/\s+/g, ' ');

export function composeMentions(text: string, tokens: readonly Token[], mentions: Mention[], mentionAt: (Mention | undefined)[]): void {
  const remove = new Set<Mention>();
  const add: Mention[] = [];
  const sameSentence = (a: number, b: number): boolean => (tokens[a] as Token).sentence === (tokens[b] as Token).sentence;
  const setAt = (m: Mention | undefined, first: number, last: number): void => {
    for (let j = first; j <= last; j++) mentionAt[j] = m;
  };
  /**
   * The anatomy mention written right before `m` (same sentence) becomes part of its name ("knee
   * surgery", "cervical spine fusion"); `spaceOnly`: only when nothing but blanks separates them.
   */
  const absorbSiteBefore = (m: Mention, spaceOnly: boolean): void => {
    const site = m.first > 0 ? mentionAt[m.first - 1] : undefined;
    if (site === undefined || site.category !== 'ANATOMY' || remove.has(site) || site.last !== m.first - 1 || !sameSentence(site.first, m.first)) return;
    if (spaceOnly && !/^[ \t]+$/.test(text.slice(site.end, m.start))) return;
    const merged: Mention = { ...m, start: site.start, first: site.first, traits: new Map(), attributes: [] };
    remove.add(site);
    remove.add(m);
    add.push(merged);
    setAt(merged, merged.first, merged.last);
  };

  for (const m of mentions) {
    if (remove.has(m)) continue;
    // A field label at the start of a line: "Chest: clear", "Extremities: no edema"; a service
    // named after an organ: "Renal Clinic Note", "Pulmonary consult", "Retina/Glaucoma Visit".
    if (m.category === 'ANATOMY') {
      const before = text.slice(0, m.start);
      if (
        // (A heading followed by a finding on its line is the finding's subject and stays: "Lungs: clear".)
        (/(?:^|\n)[ \t]*(?:[-*•]|\d{1,2}[.)])?[ \t]*$/.test(before) && /^[ \t]*:[ \t]*(?:\n|$)/.test(text.slice(m.end))) ||
        ORGAN_SERVICE_RE.test(text.slice(m.end, m.end + 40)) ||
        // "knee-high stockings", "tongue-tied": the head of a hyphenated adjective is not a site.
        (text[m.end] === '-' && tokens[m.last + 2] !== undefined && (tokens[m.last + 2] as Token).start === m.end + 1 && /^[a-z]+$/.test((tokens[m.last + 2] as Token).text) && mentionAt[m.last + 2] === undefined) ||
        // "Pelvic:", "Vascular:": the heading names the exam, not a site.
        (/^(?:pelvic|vascular)$/i.test(text.slice(m.start, m.end)) && /^[ \t]*:/.test(text.slice(m.end))) ||
        // "Back" is a site only as an exam heading ("Back: no CVA tenderness"), not in "Back to baseline".
        (text.slice(m.start, m.end) === 'Back' && !/^[ \t]*:/.test(text.slice(m.end))) ||
        // "walked 300 feet": a length, not a site.
        (/^(?:feet|foot|ft)$/i.test(text.slice(m.start, m.end)) && tokens[m.first - 1]?.kind === 'num') ||
        // "Radial pulses intact", "Deep tendon reflexes 2+": the site names the exam item.
        (tokens[m.last + 1] !== undefined && sameSentence(m.last, m.last + 1) && EXAM_MEASURE.has((tokens[m.last + 1] as Token).norm) && (mentionAt[m.last + 1] === undefined || mentionAt[m.last + 1]?.category === 'TEST_TREATMENT_PROCEDURE')) ||
        // "right IJ central venous catheter", "left radial arterial line": the site names the access device.
        namesDevice(tokens, m.last + 1, mentionAt)
      ) {
        remove.add(m);
        setAt(undefined, m.first, m.last);
        continue;
      }
      // "thyroid disease", "ankle dorsiflexion 4+/5", "foot checks at home": a site and a generic head.
      const head = tokens[m.last + 1];
      const compound = head === undefined ? undefined : SITE_HEAD.get(head.norm);
      if (compound !== undefined && head !== undefined && mentionAt[head.i] === undefined && sameSentence(m.last, head.i) && /^[ -]$/.test(text.slice(m.end, head.start))) {
        const base = { start: m.start, end: head.end, first: m.first, last: head.i, score: m.score, traits: new Map(), attributes: [] };
        const merged: Mention =
          compound.category === 'MEDICAL_CONDITION'
            ? { ...base, category: 'MEDICAL_CONDITION', type: 'DX_NAME', kind: compound.kind }
            : { ...base, category: 'TEST_TREATMENT_PROCEDURE', type: compound.type };
        remove.add(m);
        add.push(merged);
        setAt(merged, merged.first, merged.last);
      }
      continue;
    }
    // "97% RA", "on RA": room air, not rheumatoid arthritis.
    if (m.category === 'MEDICAL_CONDITION' && text.slice(m.start, m.end) === 'RA' && /(?:%|\bon|\bsats?|\bsaturating)\s*$/i.test(text.slice(Math.max(0, m.start - 12), m.start))) {
      remove.add(m);
      setAt(undefined, m.first, m.last);
      continue;
    }
    if (m.category !== 'TEST_TREATMENT_PROCEDURE') continue;
    const s = surface(text, m);
    // "HD 3": hospital day; "Lungs CTA": clear to auscultation; "bear weight": an ability, not a measurement.
    const prevTok = tokens[m.first - 1];
    const nextTok = tokens[m.last + 1];
    if (
      (text.slice(m.start, m.end) === 'HD' && nextTok?.kind === 'num' && sameSentence(nextTok.i, m.last)) ||
      (text.slice(m.start, m.end) === 'CTA' && prevTok !== undefined && /^lungs?$/.test(prevTok.norm)) ||
      (s === 'weight' && prevTok !== undefined && /^(?:bear|bears|bearing|bore)$/.test(prevTok.norm))
    ) {
      remove.add(m);
      setAt(undefined, m.first, m.last);
      continue;
    }

    if (s === 'surgery' || s === 'surgeries' || s === 'neurosurgery') {
      const prev = tokens[m.first - 1];
      const next = tokens[m.last + 1];
      const prevWords = text.slice(Math.max(0, m.start - 16), m.start).toLowerCase();
      const isService =
        (prev !== undefined && sameSentence(prev.i, m.first) && SPECIALTY.has(prev.norm)) ||
        (next !== undefined && sameSentence(next.i, m.last) && (SERVICE_AFTER.has(next.norm) || next.text === ':')) ||
        // "surgery (Dr. Venkataraman) aware", "Neurosurgery (Dr. Marchetti) consulted": a team named with its surgeon.
        /^\s*\((?:Dr\.?|Drs\.?)\s/.test(text.slice(m.end, m.end + 8)) ||
        /\bdate of\s+$/.test(prevWords);
      if (isService) {
        remove.add(m);
        setAt(undefined, m.first, m.last);
        // "hand surgery", "breast surgery consulted": the organ word names the service, not a site.
        const organ = prev === undefined ? undefined : mentionAt[prev.i];
        if (organ !== undefined && organ.category === 'ANATOMY' && organ.last === m.first - 1 && sameSentence(organ.first, m.first)) {
          remove.add(organ);
          setAt(undefined, organ.first, organ.last);
        }
        continue;
      }
      // "abdominal surgery", "knee surgery": the site belongs to the procedure.
      absorbSiteBefore(m, false);
      continue;
    }

    // "cervical spine fusion", "breast lumpectomy", "knee arthroscopy", "hand splint": a site written
    // right before a procedure or a one-word treatment names what it is done on, and is part of its name.
    if (m.type === 'PROCEDURE_NAME' || (m.type === 'TREATMENT_NAME' && m.first === m.last)) {
      absorbSiteBefore(m, true);
      continue;
    }

    const words = s.split(' ');
    if (m.type !== 'TEST_NAME' || !(IMAGING.has(s) || MODALITY.has(words[0] ?? '') || MODALITY.has(words[words.length - 1] ?? ''))) continue;
    // Sites after the modality: "CT abdomen/pelvis", "CTA head and neck".
    let last = m.last;
    const sites: Mention[] = [];
    for (let j = m.last + 1; j < tokens.length && sameSentence(j, m.first); ) {
      const other = mentionAt[j];
      if (other !== undefined && other.category === 'ANATOMY' && other.first === j && !remove.has(other)) {
        sites.push(other);
        last = other.last;
        j = other.last + 1;
        continue;
      }
      const t = tokens[j] as Token;
      if (other === undefined && SITE_LINK.has(t.norm) && !/\n/.test(text.slice((tokens[j - 1] as Token).end, t.start))) {
        j++;
        continue;
      }
      break;
    }
    // A site right before the modality: "wrist x-ray", "chest CT"; not one with its side, which is
    // the test's site ("Left elbow x-ray", "Right hip and pelvis x-rays": GUIDELINES.md, rule 2).
    let first = m.first;
    const prev = tokens[m.first - 1];
    const before = prev === undefined ? undefined : mentionAt[prev.i];
    if (before !== undefined && before.category === 'ANATOMY' && !remove.has(before) && before.last === m.first - 1 && sameSentence(before.first, m.first) && !sided(tokens, before.first)) {
      sites.push(before);
      first = before.first;
    }
    if (sites.length === 0) continue;
    const merged: Mention = {
      ...m,
      start: (tokens[first] as Token).start,
      end: (tokens[last] as Token).end,
      first,
      last,
      traits: new Map(),
      attributes: [],
    };
    for (const x of sites) remove.add(x);
    remove.add(m);
    add.push(merged);
    setAt(merged, first, last);
  }

  if (remove.size === 0 && add.length === 0) return;
  const kept = mentions.filter((m) => !remove.has(m));
  mentions.length = 0;
  mentions.push(...kept, ...add);
  mentions.sort((a, b) => a.start - b.start || b.end - a.end);
}

const SIDE = new Set(['left', 'right', 'l', 'r', 'lt', 'rt', 'bilateral']);
/** A side written right before token `first` in its sentence ("Left elbow"). */
function sided(tokens: readonly Token[], first: number): boolean {
  const t = tokens[first - 1];
  return t !== undefined && t.sentence === (tokens[first] as Token).sentence && SIDE.has(t.norm);
}

/** A vascular access device named right after a site, through at most three device words. */
function namesDevice(tokens: readonly Token[], from: number, mentionAt: readonly (Mention | undefined)[]): boolean {
  for (let k = from; k < tokens.length && k <= from + 3; k++) {
    const t = tokens[k] as Token;
    if (t.sentence !== (tokens[from - 1] as Token).sentence || (mentionAt[k] !== undefined && mentionAt[k]?.category === 'ANATOMY')) return false;
    if (ACCESS_DEVICE.has(t.norm)) return true;
    if (!DEVICE_WORD.has(t.norm)) return false;
  }
  return false;
}
