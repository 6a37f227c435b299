/**
 * Extracts ONE patient-identity record from a clinical note and its DetectEntitiesV2 entities.
 *
 * Pure: no I/O, no clock, no logging — every value here is PHI. Comprehend Medical tags names,
 * dates, phones, ids... but not whose they are; the note's own labels ("Patient:", "DOB",
 * "MRN", "Fax") tell, so each rule reads a few characters of context around an entity.
 */
import type { IdentityRecord } from '../../contracts/layout.js';

/** The members of a DetectEntitiesV2 `Entity` this module reads (the SDK's `Entity` fits). */
export interface PhiEntity {
  BeginOffset?: number;
  EndOffset?: number;
  Text?: string;
  Category?: string;
  Type?: string;
}

export type PatientIdentity = Omit<IdentityRecord, 'record_id' | 'batch_id'>;

export interface IdentityOptions {
  /**
   * The year two-digit years are read against (`3/4/52` is 1952 in 2026, `3/4/19` is 2019).
   * Without it, a date with a two-digit year is kept as written.
   */
  referenceYear?: number;
}

interface Span {
  begin: number;
  end: number;
  type: string;
  value: string;
}

const PHI_CATEGORY = 'PROTECTED_HEALTH_INFORMATION';
const PHI_TYPES = new Set(['NAME', 'DATE', 'PHONE_OR_FAX', 'EMAIL', 'ADDRESS', 'ID']);
/** How far back a label may be (characters). */
const WINDOW = 48;

// --- the context rules ---

/** A label naming the patient, directly before the name ("Patient:", "Patient name:", "Pt", "Name:"). */
const PATIENT_LABEL = /\b(?:patient'?s?\s+name|patient|pt|name)\.?\s*[:#-]?\s*$/i;
/** Words that make a following name someone other than the patient. */
const OTHER_PERSON =
  /\b(?:dr|drs|doctor|prof|professor|physician|provider|attending|referring|surgeon|nurse|np|pa|rn|pcp|clinician|resident|therapist|pharmacist|signed(?:\s+by)?|seen\s+by|dictated\s+by|cc|contact|emergency|guardian|caregiver|spouse|wife|husband|partner|mother|mom|father|dad|parent|son|daughter|brother|sister|sibling|friend|relative)\.?\s*[:,-]?\s*$/i;
/** Credentials after a name ("Jane Roe, MD"): case-sensitive, so "do" in prose does not count. */
const CREDENTIALS_AFTER = /^\s*,?\s*(?:M\.?D|D\.?O|R\.?N|N\.?P|P\.?A(?:-C)?|Ph\.?D|D\.?D\.?S|APRN|CNP|DNP|FACP|MBBS|PharmD)\b/;
const TITLE_IN_NAME = /^(?:dr|doctor|prof)\b\.?/i;

/** DOB labels, then at most three words (none with digits, no sentence break) before the date. */
const DOB_LABEL =
  /(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn\b)\s*[:#-]?\s*(?:[^\s\d.;:!?]+\s+){0,3}$/i;

const FAX_BEFORE = /\b(?:fax|facsimile)\b[^\n\d]{0,12}$/i;
/** "555-0101 (fax)", "555-0101 - fax"; a bare "Fax:" after a number labels the next one. */
const FAX_AFTER = /^\s*(?:[([]|[-–]\s*)\s*(?:fax|facsimile)\b/i;

const MRN_LABEL =
  /(?:\bmrn\b|\bm\.r\.n\.?|\bmedical\s+record(?:\s+(?:number|num|no\.?|#))?|\bmed\.?\s*rec(?:ord)?\.?(?:\s*(?:number|num|no\.?|#))?|\bmr\s*#|\bchart\s*(?:number|no\.?|#))\s*[:#-]?\s*#?\s*$/i;
const MRN_IN_TEXT = /^(?:mrn|medical\s+record\s+(?:number|no\.?)|mr\s*#)\s*[:#-]?\s*#?\s*/i;

const ADDRESS_LABEL = /\b(?:address|addr|lives\s+at|living\s+at|resides\s+at|residing\s+at|residence|home)\.?\s*[:#-]?\s*$/i;
/** Address entities separated by no more than this (spaces, commas, a line break) form one address. */
const ADDRESS_GAP = /^[\s,]{0,4}$/;

export function extractIdentity(
  documentText: string,
  entities: readonly PhiEntity[],
  options: IdentityOptions = {},
): PatientIdentity {
  const spans = locateAll(documentText, entities);
  const of = (type: string) => spans.filter((s) => s.type === type);
  const before = (s: Span) => documentText.slice(Math.max(0, s.begin - WINDOW), s.begin);
  const after = (s: Span) => documentText.slice(s.end, s.end + WINDOW);

  return {
    full_name: clean(findName(of('NAME'), before, after)?.value ?? ''),
    date_of_birth: findDateOfBirth(of('DATE'), before, options),
    phone: clean(of('PHONE_OR_FAX').find((s) => !isFax(s, before, after))?.value ?? ''),
    email: clean(of('EMAIL')[0]?.value ?? ''),
    address: findAddress(documentText, of('ADDRESS')),
    mrn: findMrn(of('ID'), before),
  };
}

function findName(names: Span[], before: (s: Span) => string, after: (s: Span) => string): Span | undefined {
  const labelled = names.find((s) => {
    const label = PATIENT_LABEL.exec(before(s));
    return label !== null && !otherPersonLabel(before(s), label);
  });
  if (labelled) return labelled;
  return names.find((s) => {
    const window = lastLine(before(s));
    const label = PATIENT_LABEL.exec(window);
    return !OTHER_PERSON.test(window) && !(label && otherPersonLabel(window, label)) && !CREDENTIALS_AFTER.test(after(s)) && !TITLE_IN_NAME.test(s.value);
  });
}

/** "Physician name:", "Emergency contact name:" are labels too, but not the patient's. */
function otherPersonLabel(window: string, label: RegExpExecArray): boolean {
  return OTHER_PERSON.test(window.slice(0, label.index));
}

function findDateOfBirth(dates: Span[], before: (s: Span) => string, options: IdentityOptions): string {
  const dob = dates.find((s) => DOB_LABEL.test(before(s)));
  if (!dob) return '';
  const raw = clean(dob.value);
  return normalizeDate(raw, options.referenceYear) ?? raw;
}

function isFax(s: Span, before: (s: Span) => string, after: (s: Span) => string): boolean {
  return /\bfax\b/i.test(s.value) || FAX_BEFORE.test(lastLine(before(s))) || FAX_AFTER.test(after(s));
}

function findAddress(text: string, addresses: Span[]): string {
  // Comprehend Medical often tags "12 Main St", "Boston", "MA", "02110" as separate entities:
  // adjacent ones form one address.
  const groups: Span[][] = [];
  for (const span of addresses) {
    const group = groups.at(-1);
    const last = group?.at(-1);
    if (group && last && span.begin >= last.end && ADDRESS_GAP.test(text.slice(last.end, span.begin))) group.push(span);
    else groups.push([span]);
  }
  // A labelled address first ("Address:", "lives at"), else one with a number (a street or a ZIP
  // code, not a bare place of birth), else the first.
  const chosen =
    groups.find((g) => ADDRESS_LABEL.test(text.slice(Math.max(0, (g[0] as Span).begin - WINDOW), (g[0] as Span).begin))) ??
    groups.find((g) => g.some((s) => /\d/.test(s.value))) ??
    groups[0];
  if (!chosen) return '';
  const first = chosen[0] as Span;
  const last = chosen.at(-1) as Span;
  const raw = chosen.length === 1 ? first.value : text.slice(first.begin, last.end);
  return clean(raw.replace(/\s*[\r\n]+\s*/g, ', ').replace(/,(\s*,)+/g, ','));
}

function findMrn(ids: Span[], before: (s: Span) => string): string {
  const labelled = ids.find((s) => MRN_LABEL.test(before(s)) || MRN_IN_TEXT.test(s.value));
  return labelled ? clean(labelled.value.replace(MRN_IN_TEXT, '')) : '';
}

// --- spans ---

function locateAll(text: string, entities: readonly PhiEntity[]): Span[] {
  const spans: Span[] = [];
  for (const entity of entities) {
    if (!entity.Type || !PHI_TYPES.has(entity.Type)) continue;
    if (entity.Category !== undefined && entity.Category !== PHI_CATEGORY) continue;
    const span = locate(text, entity, entity.Type);
    if (span) spans.push(span);
  }
  return spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
}

/**
 * Trusts the offsets when they select the entity's text; otherwise (offsets counted in other
 * units than UTF-16, e.g. after an emoji) finds the occurrence of the text nearest to them.
 */
function locate(text: string, entity: PhiEntity, type: string): Span | undefined {
  const { BeginOffset: begin, EndOffset: end } = entity;
  const validOffsets =
    Number.isInteger(begin) && Number.isInteger(end) && begin !== undefined && end !== undefined && begin >= 0 && end > begin && end <= text.length;
  const value = entity.Text ?? (validOffsets ? text.slice(begin, end) : '');
  if (!value.trim()) return undefined;
  if (validOffsets && text.slice(begin, end) === value) return { begin, end, type, value };
  let best = -1;
  for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
    if (best === -1 || Math.abs(at - (begin ?? 0)) < Math.abs(best - (begin ?? 0))) best = at;
  }
  if (best === -1) return undefined;
  return { begin: best, end: best + value.length, type, value };
}

function lastLine(s: string): string {
  return s.slice(s.lastIndexOf('\n') + 1);
}

/** One line, single spaces, no surrounding punctuation a tagger may have kept. */
function clean(value: string): string {
  return value
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[,;:]+\s*|\s*[,;:]+$/g, '');
}

// --- dates ---

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6,
  jul: 7, july: 7, aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10,
  nov: 11, november: 11, dec: 12, december: 12,
};

/**
 * `YYYY-MM-DD` for the usual ways of writing a date in US clinical notes, or undefined when the
 * text is not a complete, valid calendar date. Numeric dates are read month first (US), unless
 * the first number cannot be a month (`25/12/1980`).
 */
export function normalizeDate(raw: string, referenceYear?: number): string | undefined {
  const text = raw.trim().replace(/[.,]$/, '').toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text))) return ymd(m[1], m[2], m[3], referenceYear);
  if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(text))) return ymd(m[1], m[2], m[3], referenceYear);
  if ((m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$/.exec(text))) {
    const [first, second] = [Number(m[1]), Number(m[3])];
    return first > 12 && second <= 12 ? ymd(m[4], m[3], m[1], referenceYear) : ymd(m[4], m[1], m[3], referenceYear);
  }
  if ((m = /^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}|\d{2})$/.exec(text))) {
    return month(m[1]) ? ymd(m[3], String(month(m[1])), m[2], referenceYear) : undefined;
  }
  if ((m = /^(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4}|\d{2})$/.exec(text))) {
    return month(m[2]) ? ymd(m[3], String(month(m[2])), m[1], referenceYear) : undefined;
  }
  return undefined;
}

function month(name: string | undefined): number | undefined {
  return name === undefined ? undefined : MONTHS[name];
}

function ymd(y: string | undefined, mo: string | undefined, d: string | undefined, referenceYear?: number): string | undefined {
  if (y === undefined || mo === undefined || d === undefined) return undefined;
  let year = Number(y);
  if (y.length === 2) {
    if (referenceYear === undefined) return undefined;
    const century = Math.floor(referenceYear / 100) * 100;
    year = century + year > referenceYear ? century - 100 + year : century + year;
  }
  const monthNumber = Number(mo);
  const day = Number(d);
  if (year < 1000 || monthNumber < 1 || monthNumber > 12 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return `${String(year).padStart(4, '0')}-${String(monthNumber).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
