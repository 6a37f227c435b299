/**
 * A PHI scanner for tests: looks for known PHI values (needles), for PHI-shaped strings (generic
 * detectors) and for any 24-character window of a source document in a haystack (a log line, an
 * event, an item, an execution history...). Used by test/integration/phi-leak.test.ts; its own
 * unit test plants needles to show that it finds them.
 *
 * Haystacks are usually JSON: JSON string escapes are decoded first (a leaked line break arrives as
 * `\n`), then text is compared without case, accents or whitespace differences, so that
 * "González" in a note and "GONZALEZ" in a log are the same name.
 */
import { readFileSync } from 'node:fs';

export const NEEDLE_KINDS = ['name', 'dateOfBirth', 'mrn', 'phone', 'email', 'address'] as const;
export type NeedleKind = (typeof NEEDLE_KINDS)[number];

export interface Needle {
  kind: NeedleKind;
  value: string;
}

export interface Hit {
  /** Where the haystack came from, e.g. `log#12`, `event#3`, `dynamodb:DOC#...`. */
  source: string;
  /** `needle:<kind>`, `detector:<name>` or `window`. */
  detector: string;
  /** The matching text with a little context. */
  excerpt: string;
}

/** Generic detectors: PHI by its shape rather than by its value. Years 1900–2020 only, so the
 * run's own timestamps (2025 and later, virtual clock in 2026) are not dates of birth. */
const YEAR = '(?:19\\d\\d|20[01]\\d|2020)';
const MONTH_NAME = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
export const DETECTORS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'email', pattern: /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/gi },
  { name: 'phone', pattern: /(?<![\w.])(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w)/g },
  { name: 'ssn', pattern: /(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])/g },
  { name: 'mrn', pattern: /\b(?:MRN|medical record (?:number|no\.?))\b\W{0,3}\d{3,}/gi },
  // A label followed by a value; the bare word (a matching key named "dob") is not PHI.
  { name: 'dob-label', pattern: new RegExp(`\\b(?:DOB|D\\.O\\.B\\.?|date of birth|birth ?date)\\b\\W{0,3}(?:\\d|${MONTH_NAME})`, 'gi') },
  { name: 'date-mdy', pattern: new RegExp(`(?<![\\d/.-])(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\\d|3[01])[/.-]${YEAR}(?![\\d/.-])`, 'g') },
  { name: 'date-mdyy', pattern: /(?<![\d/])(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01])\/\d{2}(?![\d/])/g },
  { name: 'date-iso', pattern: new RegExp(`(?<![\\d-])${YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])(?![\\d-])`, 'g') },
  { name: 'date-dmony', pattern: new RegExp(`(?<![\\d])(?:0?[1-9]|[12]\\d|3[01])-${MONTH_NAME}-${YEAR}(?!\\d)`, 'gi') },
  { name: 'date-mony', pattern: new RegExp(`\\b${MONTH_NAME}\\.? \\d{1,2}, ${YEAR}\\b`, 'gi') },
];

/** Decodes JSON string escapes so that text serialized into a JSON line compares as text. */
export function decodeJsonEscapes(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_m, e: string) => {
    if (e.startsWith('u')) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** Lower case, no accents, one space for any run of whitespace. */
export function canonical(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ');
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** A phone needle matches in any punctuation: `(508) 555-0187`, `508.555.0187`, `+1 5085550187`... */
function phonePattern(value: string): RegExp | undefined {
  const digits = value.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
  if (digits.length !== 10) return undefined;
  const [a, b, c] = [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)];
  return new RegExp(`(?<!\\d)(?:\\+?1[\\s.-]?)?\\(?${a}\\)?[\\s.-]*${b}[\\s.-]*${c}(?!\\d)`, 'g');
}

/** The canonical strings (and, for phones, the pattern) under which a needle is searched. */
function variants(needle: Needle): { strings: string[]; pattern?: RegExp } {
  return { strings: [canonical(needle.value)], pattern: needle.kind === 'phone' ? phonePattern(needle.value) : undefined };
}

function findNeedle(hay: string, v: { strings: string[]; pattern?: RegExp }): Array<{ at: number; length: number }> {
  const found = v.strings.flatMap((s) => findAll(hay, s).map((at) => ({ at, length: s.length })));
  for (const m of v.pattern ? hay.matchAll(v.pattern) : []) {
    if (!found.some((f) => f.at === m.index)) found.push({ at: m.index, length: m[0].length });
  }
  return found;
}

/** Occurrences of `needle` in canonical `hay` that stand alone (not inside a longer word or number). */
function findAll(hay: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) {
    if (!isWordChar(hay[i - 1]) && !isWordChar(hay[i + needle.length])) found.push(i);
  }
  return found;
}

const excerptOf = (hay: string, at: number, length: number) =>
  hay.slice(Math.max(0, at - 20), Math.min(hay.length, at + length + 20));

/** Does the needle occur (as the scanner would find it) in this text? Keeps the fixture honest. */
export function occursIn(needle: Needle, text: string): boolean {
  const hay = canonical(text);
  return findNeedle(hay, variants(needle)).length > 0;
}

export interface PhiScannerOptions {
  needles: Needle[];
  /** Source documents: any `windowSize`-character window of them in a haystack is a hit. */
  documents?: string[];
  windowSize?: number;
}

export class PhiScanner {
  private readonly needles: Array<{ kind: NeedleKind; variants: ReturnType<typeof variants> }>;
  private readonly windows = new Set<string>();
  readonly windowSize: number;

  constructor(options: PhiScannerOptions) {
    if (options.needles.length === 0) throw new Error('PhiScanner: no needles given');
    this.needles = options.needles.map((n) => ({ kind: n.kind, variants: variants(n) }));
    this.windowSize = options.windowSize ?? 24;
    for (const document of options.documents ?? []) {
      const text = canonical(document);
      for (let i = 0; i + this.windowSize <= text.length; i += 1) {
        const window = text.slice(i, i + this.windowSize);
        // Separator lines and numeric tables are not distinctive: ten letters at least.
        if ((window.match(/\p{L}/gu)?.length ?? 0) >= 10) this.windows.add(window);
      }
    }
  }

  /** How many distinct document windows are searched for. */
  get windowCount(): number {
    return this.windows.size;
  }

  scan(source: string, haystack: string): Hit[] {
    const decoded = decodeJsonEscapes(haystack);
    const hay = canonical(decoded);
    const hits: Hit[] = [];
    for (const needle of this.needles) {
      for (const { at, length } of findNeedle(hay, needle.variants)) hits.push({ source, detector: `needle:${needle.kind}`, excerpt: excerptOf(hay, at, length) });
    }
    for (const { name, pattern } of DETECTORS) {
      for (const m of decoded.matchAll(pattern)) hits.push({ source, detector: `detector:${name}`, excerpt: excerptOf(decoded, m.index, m[0].length) });
    }
    if (this.windows.size > 0) {
      for (let i = 0; i + this.windowSize <= hay.length; i += 1) {
        if (this.windows.has(hay.slice(i, i + this.windowSize))) {
          hits.push({ source, detector: 'window', excerpt: excerptOf(hay, i, this.windowSize) });
          i += this.windowSize - 1; // one hit per leaked stretch is enough
        }
      }
    }
    return hits;
  }
}

/** Reads a needles fixture: `{ "<kind>": ["value", ...], ... }` for the kinds of NEEDLE_KINDS. */
export function loadNeedles(file: string): Needle[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const needles: Needle[] = [];
  for (const kind of NEEDLE_KINDS) {
    const values = json[kind];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || v.trim() === '')) {
      throw new Error(`${file}: "${kind}" must be a list of non-empty strings`);
    }
    for (const value of values as string[]) needles.push({ kind, value });
  }
  return needles;
}
