// Condition modifiers and body sites: acuity, quality and direction words around a condition,
// the sites written before or after it ("pain radiating to the jaw"), exam lines whose subject is
// the site of their findings ("Abdomen: distended"), an anatomy entity's own direction, and site
// adjectives left without a finding (eval/GUIDELINES.md, ANATOMY).
import type { Doc, ModMatch } from './analyze.js';
import { commit, isFree, type Found } from './attribute-core.js';
import type { Mention } from './model.js';
import type { Token } from './text.js';

/** Runs after the medication, test and behavioural attributes, in this order. */
export function attachSites(doc: Doc): void {
  for (const m of doc.mentions) if (m.category === 'MEDICAL_CONDITION') conditionAttributes(doc, m);
  for (const m of doc.mentions) if (m.category === 'MEDICAL_CONDITION') sharedTrailingSite(doc, m);
  for (const m of doc.mentions) if (m.category === 'ANATOMY' && m.consumedBy === undefined) examSubjectSite(doc, m);
  for (const m of doc.mentions) if (m.category === 'ANATOMY' && m.consumedBy === undefined) anatomyAttributes(doc, m);
  for (const m of doc.mentions) if (m.category === 'ANATOMY' && m.consumedBy === undefined && isBareSiteAdjective(doc, m)) m.dropped = true;
}

const SITE_ADJECTIVE_RE = /^[a-z]{2,}(?:al|ar|ic|ac|ous|ary)$/i;
/** Site words ending like adjectives that are nouns too ("the first metatarsal", "the vitreous"). */
const SITE_NOUNS = new Set(['ear', 'hepar', 'ovary', 'molar', 'metatarsal', 'metacarpal', 'navicular', 'vitreous', 'pituitary', 'paraspinal', 'canal', 'navel']);

/**
 * "venous pH", "the radial and ulnar sides", "bibasilar reticulation": an adjective naming a site
 * is a site only as a finding's attribute (eval/GUIDELINES.md); left alone it is not an entity,
 * unless it heads an exam line ("Genital: ...").
 */
function isBareSiteAdjective(doc: Doc, m: Mention): boolean {
  if (m.first !== m.last) return false;
  const word = (doc.tokens[m.first] as Token).text;
  if (!SITE_ADJECTIVE_RE.test(word) || SITE_NOUNS.has(word.toLowerCase())) return false;
  return doc.tokens[m.last + 1]?.text !== ':';
}

const PRE_LINK = new Set([',', 'and', '/', 'or', 'to']);
/** Prepositions that place a finding ("tenderness over the RUQ"); `placedLater` reads only these. */
const PLACING_PREPOSITION = new Set(['at', 'over', 'across', 'on', 'along', 'under', 'around', 'to', 'from', 'in', 'of', 'between', 'involving', 'beneath', 'below', 'above', 'behind', 'near']);
/** Words right after a finding that open the phrase naming its site. */
const POST_START = new Set([...PLACING_PREPOSITION, 'throughout', 'involves', 'involved', 'radiating', 'radiates', 'radiated', 'extending', 'extends', 'spreading', 'into', 'affecting', 'within',
  // "pain radiating down the left arm", "pain located in the epigastrium"
  'down', 'up', 'through', 'toward', 'towards', 'overlying', 'inside', 'located', 'localized', 'shooting',
  // "numbness starting in the right foot and ascending to the hip"
  'starting', 'started', 'beginning', 'ascending', 'descending']);
// Words naming a part of the site in between ("over the posterior edge of the distal fibula").
const SITE_PART = ['side', 'edge', 'base', 'tip', 'aspect', 'surface', 'border', 'region', 'area', 'portion', 'angle', 'dorsum', 'back', 'front', 'top', 'bottom'];
/** Participles that may stand between a finding and the preposition that places it. */
const PLACING_PARTICIPLE = new Set(['noted', 'seen', 'present', 'visible', 'impacted', 'lodged', 'palpated', 'appreciated']);
const RADIATION_VERB = new Set(['radiating', 'radiates', 'radiated', 'radiate', 'shoots', 'shooting', 'shot', 'moved', 'moves', 'migrated', 'migrating', 'spreading', 'spreads', 'spread', 'extending', 'extends']);
const RADIATION_REACH = 12;
const FALL_RE = /^(?:falls?|fell|mechanical falls?)$/i;

/**
 * The token after a radiation verb that follows `m` in its sentence ("Pain is sharp, 9/10,
 * radiating to the left groin"), when no other entity stands between them.
 */
function radiationAfter(doc: Doc, m: Mention, from: number, sentence: number): number | undefined {
  for (let j = from; j < doc.tokens.length && j <= m.last + RADIATION_REACH; j++) {
    const t = doc.tokens[j] as Token;
    if (t.sentence !== sentence || t.text === ';' || t.norm === 'but' || t.norm === 'no') return undefined;
    const other = doc.mentionAt[j];
    if (other !== undefined && other !== m) return undefined;
    if (RADIATION_VERB.has(t.norm)) {
      const next = doc.tokens[j + 1];
      return next !== undefined && POST_START.has(next.norm) ? j + 1 : undefined;
    }
  }
  return undefined;
}

const POST_LINK = new Set([...POST_START, ...SITE_PART, 'the', 'her', 'his', 'their', 'both', 'either', 'each', 'a', 'an', 'one', 'my', 'its', ',', 'and', 'or', '/', 'of',
  // "at the level of the syndesmosis", "tremor of the outstretched hands", "at both great toes",
  // "in segmental and subsegmental arteries", "or other limbs", "to just below the knee"
  'level', 'outstretched', 'great', 'segmental', 'subsegmental', 'other', 'just', 'several', 'all', 'first', 'second', 'third', 'fourth', 'fifth', '-',
  // "decreased sensation to light touch over the left foot", "tenderness to palpation over the RUQ"
  'light', 'touch', 'pinprick', 'palpation', 'percussion', 'vibration', 'temperature', 'mostly', 'mainly', 'especially']);
/** Words of a site's noun phrase the lexicon does not know ("over the tibiotalar joint"), at most this many. */
const UNKNOWN_SITE_WORDS = 2;
const PHRASE_START = new Set(['with', 'by', 'on', 'after', 'since', 'for', 'from']);
const COPULA = new Set(['is', 'was', 'are', 'were', 'now', 'currently', 'remains', 'still', 'seems', 'appears', 'became', 'getting']);
const CONDITION_MODS = new Set<ModMatch['type']>(['ACUITY', 'QUALITY', 'DIRECTION']);

function conditionAttributes(doc: Doc, m: Mention): void {
  const { tokens } = doc;
  const sentence = (tokens[m.first] as Token).sentence;
  const found: Found[] = [];
  // Before: "acute severe left knee pain".
  let steps = 0;
  let skipped = 0;
  for (let j = m.first - 1; j >= 0 && steps < 8; steps++) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence) break;
    const mod = doc.modAt[j];
    const other = doc.mentionAt[j];
    if (mod !== undefined && CONDITION_MODS.has(mod.type) && isFree(doc, mod.start, mod.end)) {
      found.push({ type: mod.type, start: mod.start, end: mod.end, distance: m.first - mod.last, score: 0.93 });
      j = mod.first - 1;
    } else if (other !== undefined && other.category === 'ANATOMY' && other.consumedBy === undefined) {
      found.push({ type: 'SYSTEM_ORGAN_SITE', start: other.start, end: other.end, distance: m.first - other.last, score: other.score, ref: other });
      j = other.first - 1;
    } else if (other === undefined && PRE_LINK.has(t.norm) && found.length > 0) {
      j--;
    } else if (other === undefined && COPULA.has(t.norm) && skipped < 2) {
      // "Abdomen is mildly distended": the subject of the finding is its site.
      skipped++;
      j--;
    } else break;
  }
  // Right after, qualities or acuities in apposition ("diabetes, poorly controlled",
  // "depression, recurrent, moderate") or after a copula ("pain is now mild").
  let afterQualities = m.last + 1;
  for (let j = m.last + 1, n = 0; j < tokens.length && n < 6; n++) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence) break;
    if (t.text === ',' || COPULA.has(t.norm)) {
      j++;
      continue;
    }
    const after = doc.modAt[j];
    // A direction counts only right after the condition ("breath sounds bilaterally").
    const adjacentDirection = after?.type === 'DIRECTION' && j === m.last + 1 && after.last === j;
    if (after === undefined || after.first !== j || (after.type !== 'QUALITY' && after.type !== 'ACUITY' && !adjacentDirection)) break;
    const next = tokens[after.last + 1];
    // Not when the word modifies a following entity ("diabetes, severe neuropathy") or starts a
    // phrase of its own ("pain, controlled with acetaminophen").
    if (next !== undefined && next.sentence === sentence && (doc.mentionAt[after.last + 1] !== undefined || PHRASE_START.has(next.norm))) break;
    found.push({ type: after.type, start: after.start, end: after.end, distance: j - m.last, score: 0.9 });
    j = after.last + 1;
    afterQualities = j;
  }
  // After, through a preposition ("pain in the left knee", "rash on face and leg"), or a site in
  // apposition ("effusion R knee", "carcinoma, left breast") that no other finding follows.
  // A severity score between them does not break the link ("pain 5/10 in the R knee").
  let from = afterPainScore(doc, m.last + 1);
  // "Cataract, mild, both eyes": a site in apposition may follow the qualities in apposition.
  if (afterQualities > m.last + 1 && tokens[afterQualities]?.text === ',' && appositionSite(doc, afterQualities, sentence)) from = afterQualities;
  // "hard exudates temporal to the fovea": a direction may come before the preposition;
  // "stone impacted in the gallbladder neck", "erythema noted over the shin", "Pain is in both
  // knees": so may a participle or a copula.
  const lead = doc.modAt[from];
  if (lead !== undefined && lead.type === 'DIRECTION' && lead.first === from && POST_START.has(tokens[lead.last + 1]?.norm ?? '')) from = lead.last + 1;
  else if ((PLACING_PARTICIPLE.has(tokens[from]?.norm ?? '') || COPULA.has(tokens[from]?.norm ?? '')) && POST_START.has(tokens[from + 1]?.norm ?? '')) from++;
  // "Pain is 8/10 and radiates to the right shoulder blade": a radiation verb later in the sentence.
  else if (!POST_START.has(tokens[from]?.norm ?? '')) from = radiationAfter(doc, m, from, sentence) ?? from;
  const first = tokens[from];
  // "a fall on an outstretched hand": what one falls on is where it happened, not a site of the fall.
  const event = FALL_RE.test(doc.text.slice(m.start, m.end));
  if (!event && first !== undefined && first.sentence === sentence && (POST_START.has(first.norm) || appositionSite(doc, from, sentence))) {
    const pending: Found[] = [];
    let sites = 0;
    for (let j = from, n = 0; j < tokens.length && n < 16; n++) {
      const t = tokens[j] as Token;
      if (t.sentence !== sentence) break;
      const mod = doc.modAt[j];
      const other = doc.mentionAt[j];
      if (other !== undefined && other.category === 'ANATOMY' && other.consumedBy === undefined) {
        pending.push({ type: 'SYSTEM_ORGAN_SITE', start: other.start, end: other.end, distance: j - m.last, score: other.score, ref: other });
        sites++;
        j = other.last + 1;
      } else if (other === undefined && mod !== undefined && mod.type === 'DIRECTION') {
        pending.push({ type: 'DIRECTION', start: mod.start, end: mod.end, distance: j - m.last, score: 0.92 });
        j = mod.last + 1;
      } else if (other === undefined && (POST_LINK.has(t.norm) || ORDINAL_RE.test(t.text) || SPINAL_LEVEL_RE.test(t.text))) {
        j++;
      } else if (other === undefined && mod === undefined && sites === 0 && j > from && siteWithin(doc, j, sentence)) {
        j++;
      } else break;
    }
    // A direction only counts when a site follows it.
    while (pending.length > 0 && pending[pending.length - 1]?.type === 'DIRECTION') pending.pop();
    if (sites > 0) found.push(...pending);
  }
  for (const f of found) if (f.ref !== undefined) f.ref.consumedBy = m;
  commit(doc, m, found);
}

/** An unknown lower-case word at `j` followed, within UNKNOWN_SITE_WORDS words, by a site. */
function siteWithin(doc: Doc, j: number, sentence: number): boolean {
  for (let k = j; k < j + UNKNOWN_SITE_WORDS + 1 && k < doc.tokens.length; k++) {
    const t = doc.tokens[k] as Token;
    if (t.sentence !== sentence) return false;
    const other = doc.mentionAt[k];
    if (other !== undefined) return k > j && other.category === 'ANATOMY' && other.first === k && other.consumedBy === undefined;
    if (!/^[a-z]+(?:-[a-z]+)?$/.test(t.text) || doc.modAt[k] !== undefined) return false;
  }
  return false;
}

const FINDING_LINK = new Set(['and', 'or', '/']);

/**
 * "swelling and ecchymosis over the lateral malleolus", "redness and warmth of the calf": findings
 * joined by "and" share the site written after the last of them.
 */
function sharedTrailingSite(doc: Doc, m: Mention): void {
  // "left-sided numbness and clumsiness of the L hand": a finding placed by its own direction keeps it.
  if (m.attributes.some((a) => a.type === 'SYSTEM_ORGAN_SITE' || a.type === 'DIRECTION')) return;
  const link = doc.tokens[m.last + 1];
  if (link === undefined || !FINDING_LINK.has(link.norm) || link.sentence !== (doc.tokens[m.last] as Token).sentence) return;
  const next = doc.mentionAt[m.last + 2];
  if (next === undefined || next.category !== 'MEDICAL_CONDITION' || next.first !== m.last + 2) return;
  const trailing = next.attributes.filter((a) => a.type === 'SYSTEM_ORGAN_SITE' && a.start >= next.end);
  if (trailing.length === 0) return;
  commit(doc, m, trailing.map((a) => ({ type: 'SYSTEM_ORGAN_SITE', start: a.start, end: a.end, distance: (a.ref?.first ?? next.last + 2) - m.last, score: a.score, ref: a.ref })));
}

const CLAUSE_OPENERS = new Set([':', '-', '*', '•']);
const EXAM_SUBJECT_WINDOW = 12;
const SITE_LIST_LINK = new Set([',', 'and', '/', '&']);
/** Words after which the clause names a diagnosis or a cause, not more findings of the site. */
const EXAM_CLAUSE_END = new Set(['c/w', 'consistent', 'suggestive', 'concerning', 'likely', 'due', 'secondary', 'from', 'because']);
const ORDINAL_RE = /^\d+(?:st|nd|rd|th)$/i;
const SITE_LIST_HEAD = new Set([':', 'with', 'without']);

/**
 * An exam line names its site first and its findings after it: "Abdomen soft, nontender",
 * "Oropharynx without thrush", "Sacrum: intact, blanchable erythema". A site that opens its clause
 * is the SYSTEM_ORGAN_SITE of each finding in that clause that has no site of its own; with no
 * such finding ("Lungs clear") it stays an entity.
 */
function examSubjectSite(doc: Doc, site: Mention): void {
  const { tokens } = doc;
  const sentence = (tokens[site.first] as Token).sentence;
  // "- R cheek: papule", "bilateral elbows and knees: plaques": a direction may open the clause
  // before the site; it then qualifies the findings.
  const lead = doc.modAt[site.first - 1];
  const direction = lead !== undefined && lead.type === 'DIRECTION' && lead.last === site.first - 1 && isFree(doc, lead.start, lead.end) ? lead : undefined;
  // "Catheter site: right upper chest with erythema": two side words may open the clause.
  const outer = direction === undefined ? undefined : doc.modAt[direction.first - 1];
  const opening = outer !== undefined && outer.type === 'DIRECTION' && outer.last === (direction?.first ?? 0) - 1 ? outer : direction;
  const before = tokens[(opening?.first ?? site.first) - 1];
  if (before !== undefined && before.sentence === sentence && !CLAUSE_OPENERS.has(before.text)) return;
  // "- scalp, dorsal hands, forearms: papules", "bilateral elbows and knees: plaques": a list of
  // sites opening the clause are all sites of its findings.
  const sites = [site];
  let lastSite = site.last;
  for (let j = site.last + 1; j < tokens.length; ) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence || !SITE_LIST_LINK.has(t.norm)) break;
    let k = j + 1;
    const mod = doc.modAt[k];
    if (mod !== undefined && mod.type === 'DIRECTION' && mod.first === k) k = mod.last + 1;
    const next = doc.mentionAt[k];
    if (next === undefined || next.category !== 'ANATOMY' || next.first !== k || next.consumedBy !== undefined) break;
    sites.push(next);
    lastSite = next.last;
    j = next.last + 1;
  }
  // "Shoulders, elbows and knees without effusion": a list of sites heads its findings after a
  // colon or "with"/"without" (eval/GUIDELINES.md, ANATOMY rule 1).
  if (sites.length > 1 && !SITE_LIST_HEAD.has(tokens[lastSite + 1]?.norm ?? '')) return;
  const findings: Mention[] = [];
  for (let j = lastSite + 1; j < tokens.length && j <= lastSite + EXAM_SUBJECT_WINDOW; j++) {
    const t = tokens[j] as Token;
    // "Lungs clear, no wheezing": a negated finding after the comma is a clause of its own.
    if (t.sentence !== sentence || t.norm === 'no' || EXAM_CLAUSE_END.has(t.norm) || t.text === '(' || t.text === ')') break;
    const other = doc.mentionAt[j];
    if (other === undefined) continue;
    if (other.category !== 'MEDICAL_CONDITION') break;
    // "Abdomen soft, nontender": a finding stated absent is like one after "no" (GUIDELINES.md).
    if (other.first === j && other.consumedBy === undefined && !hasOwnPlace(doc, other) && !placedLater(doc, other) && !statedAbsent(doc, other)) findings.push(other);
    j = other.last;
  }
  if (findings.length === 0) return;
  for (const finding of findings) {
    const found: Found[] = sites.map((s) => ({ type: 'SYSTEM_ORGAN_SITE', start: s.start, end: s.end, distance: finding.first - s.last, score: s.score, ref: s }));
    if (direction !== undefined) found.push({ type: 'DIRECTION', start: direction.start, end: direction.end, distance: finding.first - direction.last, score: 0.9 });
    commit(doc, finding, found);
  }
  for (const s of sites) s.consumedBy = findings[0];
}

/** Region words that place a finding as a site would ("mild epigastric tenderness"). */
const REGION_RE = /^(?:epigastric|periumbilical|suprapubic|retrosternal|substernal|paraspinal|infraumbilical|midepigastric)$/i;
/** A finding with a site of its own, or a region word that places it. */
const hasOwnPlace = (doc: Doc, m: Mention): boolean =>
  m.attributes.some((a) => a.type === 'SYSTEM_ORGAN_SITE' || (a.type === 'DIRECTION' && REGION_RE.test(doc.text.slice(a.start, a.end))));

const ABSENT_FINDING_RE = /^non-?tender$/i;
const statedAbsent = (doc: Doc, m: Mention): boolean => ABSENT_FINDING_RE.test(doc.text.slice(m.start, m.end));

const DETERMINER = new Set(['the', 'both', 'his', 'her', 'several', 'all', 'each']);
const SPINAL_LEVEL_RE = /^[CTLS]\d{1,2}(?:-[CTLS]?\d{1,2})?$/;
const FINDING_TAIL = 8;

/**
 * "coarse crackles bilaterally, worse at the bases", "point tenderness at the medial calcaneal
 * tubercle", "tenderness over L3-L4": a finding placed by a phrase of its own, even one whose site
 * the lexicon does not know, has a site of its own, so an exam line's subject is not its site.
 */
function placedLater(doc: Doc, finding: Mention): boolean {
  const { tokens } = doc;
  const sentence = (tokens[finding.first] as Token).sentence;
  for (let j = finding.last + 1; j < tokens.length && j <= finding.last + FINDING_TAIL; j++) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence || t.text === ';' || t.norm === 'no' || t.norm === 'without') return false;
    const other = doc.mentionAt[j];
    if (other !== undefined && other.category === 'MEDICAL_CONDITION') return false;
    if (!PLACING_PREPOSITION.has(t.norm)) continue;
    const next = tokens[j + 1];
    if (next === undefined || next.sentence !== sentence) return false;
    const site = doc.mentionAt[j + 1] ?? doc.mentionAt[j + 2];
    if (site !== undefined && site.category === 'ANATOMY') return true;
    // "dullness to percussion on the right": a side alone does not place it.
    const side = DETERMINER.has(next.norm) ? doc.modAt[j + 2] : undefined;
    if (side !== undefined && side.type === 'DIRECTION' && side.first === j + 2 && !/^[a-z]/i.test(tokens[side.last + 1]?.text ?? '')) return false;
    return DETERMINER.has(next.norm) || SPINAL_LEVEL_RE.test(next.text) || /^mid-/i.test(next.text);
  }
  return false;
}

function anatomyAttributes(doc: Doc, m: Mention): void {
  const found: Found[] = [];
  const sentence = (doc.tokens[m.first] as Token).sentence;
  for (let j = m.first - 1, n = 0; j >= 0 && n < 3; n++) {
    const t = doc.tokens[j] as Token;
    if (t.sentence !== sentence || doc.mentionAt[j] !== undefined) break;
    const mod = doc.modAt[j];
    if (mod !== undefined && mod.type === 'DIRECTION' && isFree(doc, mod.start, mod.end)) {
      found.push({ type: 'DIRECTION', start: mod.start, end: mod.end, distance: m.first - mod.last, score: 0.93 });
      j = mod.first - 1;
    } else if (t.norm === 'and' || t.norm === ',') {
      j--;
    } else break;
  }
  commit(doc, m, found);
}

const PAIN_SCORE_RE = /\d{1,2}(?:\.\d)?\s*\/\s*10\b/y;

/** The token after a pain score ("5/10", "7 / 10") starting at token `j`, or `j` when there is none. */
function afterPainScore(doc: Doc, j: number): number {
  const t = doc.tokens[j];
  if (t === undefined) return j;
  PAIN_SCORE_RE.lastIndex = t.start;
  const hit = PAIN_SCORE_RE.exec(doc.text);
  if (hit === null) return j;
  const end = t.start + hit[0].length;
  let k = j;
  while (k < doc.tokens.length && (doc.tokens[k] as Token).end <= end) k++;
  return k;
}

/** A site right after a finding, possibly after a comma and a direction, not itself the site of a following finding. */
function appositionSite(doc: Doc, from: number, sentence: number): boolean {
  let j = from;
  if ((doc.tokens[j] as Token | undefined)?.text === ',') j++;
  if ((doc.tokens[j] as Token | undefined)?.norm === 'both') j++;
  const mod = doc.modAt[j];
  if (mod !== undefined && mod.type === 'DIRECTION' && mod.first === j) j = mod.last + 1;
  const site = doc.mentionAt[j];
  if (site === undefined || site.category !== 'ANATOMY' || site.first !== j || site.consumedBy !== undefined) return false;
  const t = doc.tokens[site.last + 1];
  if (t === undefined || t.sentence !== sentence) return true;
  // "pronator drift, LLE 4/5": a site with a score of its own opens the next exam clause.
  if (t.kind === 'num') return false;
  const after = doc.mentionAt[site.last + 1];
  return after === undefined || after.category !== 'MEDICAL_CONDITION';
}
