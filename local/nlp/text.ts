// Tokenizer, normalisation, sentence and section segmentation for the local clinical NLP engine.
// Every token keeps exact character offsets into the original string, so any span the engine
// reports satisfies text.slice(BeginOffset, EndOffset) === Text.

export interface Token {
  /** Index in the token array. */
  readonly i: number;
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** Lowercased, accent-free, possessive-free form used for dictionary look-up. */
  readonly norm: string;
  readonly kind: 'word' | 'num' | 'punct';
  /** A line break lies between the previous token and this one. */
  readonly lineBreakBefore: boolean;
  /** Index of the sentence the token belongs to. */
  sentence: number;
}

// Slash abbreviations (h/o, s/p, n/v/d, A/P) are single tokens; otherwise alphanumeric runs
// (HbA1c, T2DM, q4h) with an optional internal apostrophe, or any single other character.
const TOKEN_RE = /[A-Za-z](?:\/[A-Za-z])+(?![A-Za-z0-9])|[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[^\s]/gu;
const DIGITS = /^\p{N}+$/u;

export function normalizeWord(word: string): string {
  let w = word.toLowerCase();
  if (/[^\x00-\x7f]/.test(w)) w = w.normalize('NFD').replace(/\p{M}/gu, '').replace(/’/g, "'");
  if (w.endsWith("'s")) w = w.slice(0, -2);
  return w;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let prevEnd = 0;
  for (const m of text.matchAll(TOKEN_RE)) {
    const start = m.index;
    const raw = m[0];
    const gap = text.slice(prevEnd, start);
    const isWordChar = /[\p{L}\p{N}]/u.test(raw[0] ?? '');
    tokens.push({
      i: tokens.length,
      start,
      end: start + raw.length,
      text: raw,
      norm: isWordChar ? normalizeWord(raw) : raw === '’' ? "'" : raw,
      kind: !isWordChar ? 'punct' : DIGITS.test(raw) ? 'num' : 'word',
      lineBreakBefore: gap.includes('\n'),
      sentence: 0,
    });
    prevEnd = start + raw.length;
  }
  return tokens;
}

/** Tokens that never block a multi-word dictionary match ("beta-blocker" = "beta blocker"). */
export function isTransparent(t: Token): boolean {
  return t.kind === 'punct' && (t.text === '-' || t.text === '–');
}

/** Normalised token sequence of a dictionary term, built with the same tokenizer as the text. */
export function termKey(term: string): string[] {
  return tokenize(term)
    .filter((t) => !isTransparent(t))
    .map((t) => t.norm);
}

const ABBREV_WITH_DOT = new Set([
  'dr', 'mr', 'mrs', 'ms', 'st', 'vs', 'pt', 'pts', 'approx', 'hx', 'dx', 'rx', 'tx', 'sx', 'fx', 'no', 'e.g', 'i.e',
  'etc', 'jr', 'sr', 'prof', 'inc', 'mg', 'ml', 'q', 'p', 'o', 'b', 'i', 'd', 't', 'h', 's', 'a', 'm', 'x', 'wk', 'wks',
  'yr', 'yrs', 'mo', 'mos', 'min', 'hr', 'hrs', 'sec', 'ave', 'blvd', 'apt', 'dept', 'fig', 'cont',
]);

/**
 * Assigns each token a sentence index. A sentence ends at . ! ? (unless the period belongs to a
 * number or a known abbreviation such as "Dr." or "p.o."), at a blank line, or at a line break
 * that starts a list item or a new header-like line.
 */
export function segmentSentences(text: string, tokens: Token[]): number {
  let s = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (k > 0 && t.lineBreakBefore) {
      const prev = tokens[k - 1] as Token;
      const gap = text.slice(prev.end, t.start);
      const blank = /\n[ \t]*\n/.test(gap);
      const listItem = /^[-*•\d]/.test(t.text) || /^[A-Z]/.test(t.text);
      const prevContinues = prev.kind === 'word' && /^[a-z,]/.test(t.text) && !blank;
      if (blank || listItem || !prevContinues) s++;
    }
    t.sentence = s;
    if (t.text === '!' || t.text === '?' || t.text === ';') {
      s++;
    } else if (t.text === '.') {
      const prev = tokens[k - 1];
      const next = tokens[k + 1];
      const abbrev = prev !== undefined && prev.end === t.start && ABBREV_WITH_DOT.has(prev.norm) && next !== undefined && !/^[A-Z]/.test(next.text);
      const title = prev !== undefined && prev.end === t.start && /^(dr|mr|mrs|ms|st|prof)$/.test(prev.norm);
      // An initial or one-letter abbreviation before a lower-case word ("C. difficile", "p. o.").
      const initial = prev !== undefined && prev.end === t.start && /^[a-z]$/i.test(prev.text) && next !== undefined && /^[a-z]/.test(next.text);
      const decimal = prev?.kind === 'num' && next?.kind === 'num' && next.start === t.end;
      if (!abbrev && !title && !decimal && !initial) s++;
    }
  }
  return s + 1;
}
