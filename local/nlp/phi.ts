// Protected health information detectors. A fixed, small set of patterns runs once over the text
// (never one pattern per lexicon term); professions come from the dictionary instead.

export type PhiType = 'NAME' | 'AGE' | 'DATE' | 'ADDRESS' | 'PHONE_OR_FAX' | 'EMAIL' | 'ID' | 'URL';

export interface PhiSpan {
  readonly type: PhiType;
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

const MONTH = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';
const STATE =
  '(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)';
const STREET_SUFFIX =
  '(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl)';
const CAP = "[A-Z][a-zA-Z'’-]+";
// A name word: capitalised, not an all-caps label ("MRN", "DOB"); "McDonald" and "O'Brien" pass.
const NAME_WORD = "[A-Z](?:[a-z]|['’][A-Z])[a-zA-Z'’-]*";
// One to three name words on one line, possibly with a middle initial ("John Q. Public").
// Words are one space apart: a wider gap separates fields ("Name: Ann Lee  Age: 34").
const NAME_BODY = `${NAME_WORD}(?: [A-Z]\\.)?(?: ${NAME_WORD}){0,2}`;

interface Detector {
  readonly type: PhiType;
  readonly re: RegExp;
  readonly score: number;
  /** Capture group holding the PHI span (default: the whole match). */
  readonly group?: number;
}

const DETECTORS: readonly Detector[] = [
  { type: 'EMAIL', re: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, score: 0.995 },
  { type: 'URL', re: /\b(?:https?:\/\/|www\.)[^\s<>"')\]]+[^\s<>"')\].,;:]/g, score: 0.99 },
  // Labelled identifiers: MRN, SSN, account, member, patient or record ids.
  {
    type: 'ID',
    re: /\b(?:MRN|MR#|Medical Record(?: Number| No\.?)?|SSN|Social Security(?: Number| No\.?)?|Acct|Account(?: Number| No\.?)?|Member ID|Patient ID|Pt ID|Insurance ID|Policy(?: Number| No\.?)?|NPI|DEA|License(?: Number| No\.?)?|Encounter(?: Number| No\.?)?|FIN|CSN)(?![A-Za-z])\s*(?:#|:|number|no\.?)?\s*:?\s*((?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,})\b/gi,
    score: 0.98,
    group: 1,
  },
  { type: 'ID', re: /\b\d{3}-\d{2}-\d{4}\b/g, score: 0.95 },
  {
    type: 'PHONE_OR_FAX',
    re: /(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.\s]\d{4}\b(?:\s*(?:x|ext\.?)\s*\d{1,5})?/g,
    score: 0.98,
  },
  // Dates: 03/14/2024, 3-14-24, 2024-03-14, March 14, 2024, 14 March 2024, March 2024, Mar 14th.
  { type: 'DATE', re: /\b(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|[12]\d|3[01])[/-](?:\d{4}|\d{2})\b/g, score: 0.99 },
  { type: 'DATE', re: /\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/g, score: 0.99 },
  { type: 'DATE', re: new RegExp(`\\b${MONTH}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?(?:,?\\s+(?:19|20)\\d{2})?\\b`, 'g'), score: 0.97 },
  { type: 'DATE', re: new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?\\s+${MONTH}\\.?(?:,?\\s+(?:19|20)\\d{2})?\\b`, 'g'), score: 0.96 },
  { type: 'DATE', re: new RegExp(`\\b${MONTH}\\.?,?\\s+(?:19|20)\\d{2}\\b`, 'g'), score: 0.95 },
  { type: 'DATE', re: /\b(?:0?[1-9]|1[0-2])\/(?:19|20)\d{2}\b/g, score: 0.9 },
  // A bare year: "in 2019", "since 2015", "(2015)", "MI 2015" at a list item's end.
  { type: 'DATE', re: /(?:\b(?:in|since|from|during|until|circa|year|of|by)\s+|\()((?:19|20)\d{2})\b(?![-/.]\d)/gi, score: 0.85, group: 1 },
  { type: 'DATE', re: /\b(?:DOB|D\.O\.B\.|Date of Birth|Admitted|Discharged|Admission Date|Discharge Date)\s*:?\s*((?:19|20)\d{2})\b/gi, score: 0.9, group: 1 },
  // A year standing alone after a word ("quit 2010", "excision 2019", "dx 2014").
  { type: 'DATE', re: /(?<=[A-Za-z]\s)((?:19|20)\d{2})(?=[.,;)]|\s*$|\s+(?:and|with|for|but)\b)/gm, score: 0.84, group: 1 },
  // A month alone ("in August") and a two-digit month/day ("03/06"). ("since July" is a time:
  // eval/GUIDELINES.md.)
  { type: 'DATE', re: /\b(?:in|during|until|by|last|early|late|mid|through)\s+((?:January|February|March|April|June|July|August|September|October|November|December)(?:\s+(?:19|20)\d{2})?)\b/g, score: 0.88, group: 1 },
  { type: 'DATE', re: /(?<![\d/.])(?:0[1-9]|1[0-2])\/(?:0[1-9]|[12]\d|3[01])(?![\d/])/g, score: 0.85 },
  // Ages: 45-year-old, 45 yo, 45yo, 45 y/o, 45 years old, aged 45, Age: 45, 45M / 45 F.
  { type: 'AGE', re: /\b\d{1,3}(?:\s*-\s*|\s+)?(?:years?|yrs?|months?|mos?|weeks?|wks?|days?)(?:\s*-\s*|\s+)old\b/gi, score: 0.98 },
  { type: 'AGE', re: /\b\d{1,3}\s?(?:yo|y\/o|y\.o\.|yr old|yrs old)(?![A-Za-z])/gi, score: 0.97 },
  { type: 'AGE', re: /\b(?:aged?|Age:)\s*(\d{1,3}(?:\s*(?:years?|yrs?|months?|mos?|weeks?|days?)(?:\s+old)?)?)\b/gi, score: 0.95, group: 1 },
  // "father had an MI at 52", "diagnosed at 19": an age after "at" closing a clause.
  { type: 'AGE', re: /\b(?:at|at age|in (?:his|her|their) (?=\d0s))\s+(\d{2}s?)(?=\s*[.,;)]|\s*$|\s+(?:and|with|who|from|after)\b)/gim, score: 0.86, group: 1 },
  // "45M", "45 F": not a temperature ("T 98.6 F", "101 F").
  { type: 'AGE', re: /(?<![\d.])(?<!\b(?:T|Temp|temp|Temperature|temperature|Tmax|Tm|of)\s*:?\s*)\b(\d{1,3})\s?(?:M|F)(?=[\s,.;]|$)/g, score: 0.85, group: 1 },
  // Addresses: a street line, with an optional city, state and ZIP; or "City, ST 12345".
  {
    type: 'ADDRESS',
    re: new RegExp(
      `\\b\\d{1,6}\\s+(?:[NSEW]\\.?\\s+)?(?:${CAP}\\s+){0,3}${STREET_SUFFIX}\\.?(?:,?\\s*(?:Apt|Apartment|Suite|Ste|Unit|#)\\.?\\s*[A-Za-z0-9-]+)?(?:,\\s*(?:${CAP}\\s+){0,2}${CAP},?\\s+${STATE}(?:\\s+\\d{5}(?:-\\d{4})?)?)?`,
      'g',
    ),
    score: 0.96,
  },
  { type: 'ADDRESS', re: new RegExp(`\\b(?:${CAP}\\s+){0,2}${CAP},\\s+${STATE}\\s+\\d{5}(?:-\\d{4})?\\b`, 'g'), score: 0.94 },
  { type: 'ADDRESS', re: /\b(?:P\.?\s?O\.?\s?Box|PO Box)\s+\d+\b/gi, score: 0.95 },
  // "lives in Denver, CO": a city and a state after a preposition.
  { type: 'ADDRESS', re: new RegExp(`\\b(?:in|from|near|to|at)\\s+((?:${CAP}\\s+){0,2}${CAP},\\s+${STATE})\\b(?!\\s+\\d)`, 'g'), score: 0.88, group: 1 },
  // Names: after a label, a courtesy title, or before a clinical degree.
  {
    type: 'NAME',
    re: new RegExp(
      `\\b(?:Re|Patient(?: Name)?|Pt(?: Name)?|Name|Attending|Resident|PCP|Provider|Physician|Surgeon|Nurse|Referring(?: physician)?|Referred by|Seen by|Signed by|Electronically signed by|Dictated by|Cosigned by|Emergency contact|Contact|Guardian|Spouse)\\s*:?\\s+(?:(?:Dr|Mr|Mrs|Ms|Miss|Prof)\\.?\\s+)?(${NAME_BODY})`,
      'g',
    ),
    score: 0.95,
    group: 1,
  },
  // A relative named in apposition: "daughter, Claire Whitcomb", "mother (Lina, pharmacist)".
  { type: 'NAME', re: new RegExp(`\\b(?:mother|father|daughter|son|wife|husband|sister|brother|partner|spouse|proxy|guardian)\\s*[,(:]\\s*(${NAME_BODY})(?=\\s*[,)])`, 'g'), score: 0.9, group: 1 },
  { type: 'NAME', re: new RegExp(`\\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor)\\.?\\s+(${NAME_BODY})`, 'g'), score: 0.97, group: 1 },
  { type: 'NAME', re: new RegExp(`\\b(${NAME_BODY}),?\\s+(?:MD|M\\.D\\.|DO|NP|PA-C|RN|PhD|DDS|FNP|APRN)\\b`, 'g'), score: 0.93, group: 1 },
];

// Words that follow a label but are not names ("Patient: Denies ...", "Contact: None").
const NOT_NAME = new Set([
  'None', 'Unknown', 'Denies', 'Reports', 'Presents', 'Is', 'Was', 'Has', 'The', 'A', 'An', 'This', 'Patient', 'Pt', 'Not',
  'No', 'Yes', 'Seen', 'Today', 'History', 'Chief', 'Complaint', 'Male', 'Female', 'Reviewed', 'Declined', 'Self', 'Same',
  // Header words after "Patient" ("New Patient Visit", "Patient Education").
  'Visit', 'Note', 'Notes', 'Encounter', 'Education', 'Instructions', 'Information', 'Summary', 'Portal', 'Care',
]);

/** Trailing words a greedy name pattern may have swallowed. */
const NAME_STOP = /\s+(?:Denies|Reports|Presents|Is|Was|Has|And|With|For|At|On|In|Of|To|MD|DO|NP|RN|PA|Today|Called|Seen|Age|Sex|Gender|DOB|MRN|Date|Room|Bed|Unit|Phone|Tel|Address|Visit|Encounter)\b.*$/s;

// The `d` flag gives exact capture-group offsets.
const COMPILED = DETECTORS.map((d) => ({ ...d, re: new RegExp(d.re.source, d.re.flags.includes('d') ? d.re.flags : `${d.re.flags}d`) }));

export function detectPhi(text: string): PhiSpan[] {
  const spans: PhiSpan[] = [];
  for (const d of COMPILED) {
    for (const m of text.matchAll(d.re)) {
      const range = m.indices?.[d.group ?? 0];
      let value = m[d.group ?? 0];
      if (range === undefined || value === undefined || value === '') continue;
      if (d.type === 'NAME') {
        value = value.replace(NAME_STOP, '');
        if (NOT_NAME.has(value.split(/\s+/)[0] ?? '')) continue;
      }
      // Trailing punctuation is not part of the span, except a middle initial's period.
      value = value.replace(/[\s,;:]+$/, '');
      if (!/\by\.o\.$/i.test(value)) value = value.replace(/(?<!\s[A-Z])\.$/, '');
      if (value === '') continue;
      spans.push({ type: d.type, start: range[0], end: range[0] + value.length, score: d.score });
    }
  }
  return resolveOverlaps(spans);
}

/** Keeps the longest span where detectors overlap (earlier detectors win ties). */
function resolveOverlaps(spans: PhiSpan[]): PhiSpan[] {
  const order = spans.map((s, i) => ({ s, i }));
  order.sort((a, b) => b.s.end - b.s.start - (a.s.end - a.s.start) || a.i - b.i);
  const kept: PhiSpan[] = [];
  for (const { s } of order) {
    if (kept.some((k) => s.start < k.end && k.start < s.end)) continue;
    kept.push(s);
  }
  return kept.sort((a, b) => a.start - b.start);
}
