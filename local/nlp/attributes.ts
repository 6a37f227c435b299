// Attributes and their relationships: medication sig (dosage, strength, route, frequency, duration,
// form, rate), test values and units, behavioural amounts; condition modifiers and sites are in
// sites.ts.
import type { EntitySubType } from '@aws-sdk/client-comprehendmedical';
import type { Doc } from './analyze.js';
import { commit, isFree, tokenAfter, type Found } from './attribute-core.js';
import type { Mention } from './model.js';
import {
  AMOUNT_RE,
  BES_FREQ_RE,
  CONCENTRATION_RE,
  DURATION_RE,
  FREQ_RE,
  MASS_RE,
  QTY_FORM_RE,
  QTY_UNIT_RE,
  RATE_RE,
  stickyMatch,
  TEST_VALUE_RE,
} from './patterns.js';
import { attachSites } from './sites.js';
import type { Token } from './text.js';

export function attachAttributes(doc: Doc): void {
  for (const m of doc.mentions) {
    if (m.category === 'MEDICATION') medicationAttributes(doc, m);
    else if (m.type === 'TEST_NAME') testAttributes(doc, m);
    else if (m.category === 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL') behavioralAttributes(doc, m);
  }
  attachSites(doc);
}

/** The last token of the window after an entity: same sentence, before any other entity. */
function windowEnd(doc: Doc, m: Mention, maxTokens: number, passThrough?: (other: Mention) => boolean): number {
  const sentence = (doc.tokens[m.first] as Token).sentence;
  let end = m.last;
  for (let k = m.last + 1; k < doc.tokens.length && k <= m.last + maxTokens; k++) {
    const t = doc.tokens[k] as Token;
    if (t.sentence !== sentence) break;
    const other = doc.mentionAt[k];
    if (other !== undefined && other !== m && !(passThrough?.(other) ?? false)) break;
    end = k;
  }
  return end;
}

function medicationAttributes(doc: Doc, m: Mention): void {
  const { tokens, text } = doc;
  const endTok = windowEnd(doc, m, 30);
  const limit = (tokens[endTok] as Token).end;
  const found: Found[] = [];
  const quantities: Found[] = [];
  let hasCountDosage = false;
  const push = (type: EntitySubType, start: number, end: number, k: number, score = 0.95): Found => {
    const f = { type, start, end, distance: k - m.last, score };
    found.push(f);
    return f;
  };

  for (let k = m.last + 1; k <= endTok; ) {
    const t = tokens[k] as Token;
    const p = t.start;
    let r: RegExpExecArray | null;
    let next = k + 1;
    const fits = (e: number): boolean => e <= limit && isFree(doc, p, e);
    if ((r = stickyMatch(RATE_RE, text, p)) && fits(p + r[0].length)) {
      const g = r[1] as string;
      const s = p + r[0].lastIndexOf(g);
      push('RATE', s, s + g.length, k);
      next = tokenAfter(doc, p + r[0].length, k);
    } else if ((r = stickyMatch(QTY_FORM_RE, text, p)) && fits(p + r[0].length)) {
      const qty = r[1] as string;
      const form = r[2] as string;
      push('DOSAGE', p, p + qty.length, k);
      const fs = p + r[0].length - form.length;
      push('FORM', fs, fs + form.length, k);
      hasCountDosage = true;
      next = tokenAfter(doc, p + r[0].length, k);
    } else if ((r = stickyMatch(QTY_UNIT_RE, text, p)) && fits(p + r[0].length)) {
      const isMass = MASS_RE.test(r[0]);
      const f = push(isMass ? 'DOSAGE' : 'DOSAGE', p, p + r[0].length, k);
      if (isMass) quantities.push(f);
      else hasCountDosage = true;
      if (CONCENTRATION_RE.test(r[0])) f.type = 'STRENGTH';
      next = tokenAfter(doc, p + r[0].length, k);
      const after = doc.modAt[next];
      if (isMass && after !== undefined && after.type === 'FORM' && after.first === next) f.type = 'STRENGTH';
    } else if ((r = stickyMatch(DURATION_RE, text, p)) && fits(p + r[0].length)) {
      const g = r[1] as string;
      const s = p + r[0].length - g.length;
      push('DURATION', s, s + g.length, k);
      next = tokenAfter(doc, p + r[0].length, k);
    } else if ((r = stickyMatch(FREQ_RE, text, p)) && fits(p + r[0].length)) {
      push('FREQUENCY', p, p + r[0].length, k);
      next = tokenAfter(doc, p + r[0].length, k);
    } else {
      const mod = doc.modAt[k];
      if (mod !== undefined && mod.first === k && mod.last <= endTok && (mod.type === 'ROUTE_OR_MODE' || mod.type === 'FREQUENCY' || mod.type === 'FORM')) {
        push(mod.type, mod.start, mod.end, k);
        next = mod.last + 1;
      }
    }
    k = next;
  }
  // A weight is the strength when a count of tablets (or puffs, units) gives the dosage.
  if (hasCountDosage) for (const q of quantities) q.type = 'STRENGTH';

  // Before the name: "IV morphine", "81 mg aspirin", "2 tabs of Tylenol".
  const sentence = (tokens[m.first] as Token).sentence;
  for (let j = m.first - 1; j >= Math.max(0, m.first - 5); j--) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence || (doc.mentionAt[j] !== undefined && doc.mentionAt[j] !== m)) break;
    const mod = doc.modAt[j];
    if (mod !== undefined && mod.type === 'ROUTE_OR_MODE' && mod.last >= m.first - 2 && !found.some((f) => f.type === 'ROUTE_OR_MODE' && f.start === mod.start)) {
      found.push({ type: 'ROUTE_OR_MODE', start: mod.start, end: mod.end, distance: m.first - mod.last, score: 0.93 });
      continue;
    }
    const r = stickyMatch(QTY_UNIT_RE, text, t.start);
    if (r !== null && /^\s*(?:of\s+)?$/.test(text.slice(t.start + r[0].length, m.start)) && isFree(doc, t.start, t.start + r[0].length)) {
      found.push({ type: 'DOSAGE', start: t.start, end: t.start + r[0].length, distance: m.first - j, score: 0.93 });
      break;
    }
  }
  commit(doc, m, mergeAdjacent(text, found, 'FREQUENCY'));
}

/** "at breakfast daily", "q6h prn": adjacent frequency phrases are one attribute. */
function mergeAdjacent(text: string, found: Found[], type: EntitySubType): Found[] {
  found.sort((a, b) => a.start - b.start);
  const out: Found[] = [];
  for (const f of found) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.type === type && f.type === type && /^\s*$/.test(text.slice(prev.end, f.start))) {
      prev.end = f.end;
      continue;
    }
    out.push(f);
  }
  return out;
}

function testAttributes(doc: Doc, m: Mention): void {
  const r = stickyMatch(TEST_VALUE_RE, doc.text, m.end);
  if (r === null) return;
  const value = r[1] as string;
  const unit = r[2];
  const vs = r.indices?.[1]?.[0];
  if (vs === undefined) return;
  const end = m.end + r[0].length;
  // Stop at a sentence end, at another entity, and at "negative for ..." (a negation trigger).
  if (!isFree(doc, vs, end) || /^[a-z]/i.test(value) && /^\s*for\b/.test(doc.text.slice(end))) return;
  // "CBC at 24-28 wks", "repeat A1c in 3 months": a number counting time is when, not a result.
  if (unit === undefined && /^\s*(?:-\s*\d+\s*)?(?:wks?|weeks?|days?|months?|mos?|years?|yrs?|hours?|hrs?|h)\b/i.test(doc.text.slice(end))) return;
  // "ECG at 05:58": a clock time is when the test was done.
  if (unit === undefined && /^:[0-5]\d(?!\d)/.test(doc.text.slice(end))) return;
  const lastTok = tokenAfter(doc, end, m.last) - 1;
  for (let k = m.last + 1; k <= lastTok; k++) {
    const other = doc.mentionAt[k];
    if ((other !== undefined && other !== m) || (doc.tokens[k] as Token).sentence !== (doc.tokens[m.first] as Token).sentence) return;
  }
  const found: Found[] = [{ type: 'TEST_VALUE', start: vs, end: vs + value.length, distance: 1, score: 0.95 }];
  const us = r.indices?.[2]?.[0];
  if (unit !== undefined && us !== undefined) found.push({ type: 'TEST_UNIT', start: us, end: us + unit.length, distance: 2, score: 0.93 });
  commit(doc, m, found);
}

function behavioralAttributes(doc: Doc, m: Mention): void {
  const { tokens, text } = doc;
  // "drinks 2 beers": a quantity may swallow a same-type mention, which becomes the amount.
  const sameType = (o: Mention): boolean => o.category === m.category && o.type === m.type;
  const endTok = windowEnd(doc, m, 10, sameType);
  const limit = (tokens[endTok] as Token).end;
  const found: Found[] = [];
  for (let k = m.last + 1; k <= endTok; ) {
    const p = (tokens[k] as Token).start;
    let r: RegExpExecArray | null;
    let next = k + 1;
    const other = doc.mentionAt[k];
    if (other !== undefined && other !== m) break;
    if ((r = stickyMatch(AMOUNT_RE, text, p)) && p + r[0].length <= limit && isFree(doc, p, p + r[0].length)) {
      found.push({ type: 'AMOUNT', start: p, end: p + r[0].length, distance: k - m.last, score: 0.92 });
      next = tokenAfter(doc, p + r[0].length, k);
      for (let j = k; j < next; j++) {
        const swallowed = doc.mentionAt[j];
        if (swallowed !== undefined && swallowed !== m) swallowed.consumedBy = m;
      }
    } else if ((r = stickyMatch(DURATION_RE, text, p)) && p + r[0].length <= limit && isFree(doc, p, p + r[0].length)) {
      const g = r[1] as string;
      const s = p + r[0].length - g.length;
      found.push({ type: 'DURATION', start: s, end: s + g.length, distance: k - m.last, score: 0.9 });
      next = tokenAfter(doc, p + r[0].length, k);
    } else if ((r = stickyMatch(BES_FREQ_RE, text, p)) && p + r[0].length <= limit && isFree(doc, p, p + r[0].length)) {
      found.push({ type: 'FREQUENCY', start: p, end: p + r[0].length, distance: k - m.last, score: 0.9 });
      next = tokenAfter(doc, p + r[0].length, k);
    }
    k = next;
  }
  const sentence = (tokens[m.first] as Token).sentence;
  for (let j = m.first - 1; j >= Math.max(0, m.first - 4); j--) {
    const t = tokens[j] as Token;
    if (t.sentence !== sentence || doc.mentionAt[j] !== undefined) break;
    const r = stickyMatch(AMOUNT_RE, text, t.start);
    if (r !== null && /^\s*(?:of\s+)?(?:[a-z]+\s+)?$/i.test(text.slice(t.start + r[0].length, m.start)) && isFree(doc, t.start, t.start + r[0].length)) {
      found.push({ type: 'AMOUNT', start: t.start, end: t.start + r[0].length, distance: m.first - j, score: 0.9 });
      break;
    }
  }
  commit(doc, m, found);
}
