// TIME_EXPRESSION entities: relative times ("for 3 days", "2 weeks ago", "yesterday") linked to
// the condition, medication, test, procedure or treatment they overlap with (relationship OVERLAP).
import type { EntitySubType } from '@aws-sdk/client-comprehendmedical';
import type { Doc } from './analyze.js';
import type { Mention } from './model.js';
import { TIME_RE } from './patterns.js';
import type { Token } from './text.js';

const TIME_TYPE: Partial<Record<EntitySubType, EntitySubType>> = {
  DX_NAME: 'TIME_TO_DX_NAME',
  GENERIC_NAME: 'TIME_TO_MEDICATION_NAME',
  BRAND_NAME: 'TIME_TO_MEDICATION_NAME',
  TEST_NAME: 'TIME_TO_TEST_NAME',
  PROCEDURE_NAME: 'TIME_TO_PROCEDURE_NAME',
  TREATMENT_NAME: 'TIME_TO_TREATMENT_NAME',
};

export function attachTimeExpressions(doc: Doc): void {
  const { text, tokens } = doc;
  const added: Mention[] = [];
  let cursor = 0;
  for (const m of text.matchAll(TIME_RE)) {
    // The preposition is not part of the time ("for 3 days"), except "in 4 weeks", "in the morning".
    const lead = /^(?:(?:for|over|during)\s+|[x×]\s*(?=\d)|in\s+(?=the\s+(?:past|last|next|previous)\b))/i.exec(m[0]);
    const start = m.index + (lead?.[0].length ?? 0);
    const end = m.index + m[0].length;
    if (end <= start) continue;
    // "twice a day", "three times per week" are frequencies, not times; "mg/24 hr" is a rate.
    if (/(?:\b(?:once|twice|thrice|times|per|every|x)\s*|\/)$/i.test(text.slice(Math.max(0, m.index - 12), m.index))) continue;
    // "3-mo f/u", "14-day monitor", "1-hr glucose": a hyphenated duration qualifies a noun.
    if (/^\d+\s*-\s*[a-z]+$/i.test(m[0]) && /^\s+[A-Za-z]/.test(text.slice(end))) continue;
    // "Return in 3 months": a follow-up interval, not the time of a finding.
    if (/^in\b/i.test(m[0]) && /\b(?:return|follow[- ]?up|f\/u|recheck|revisit)\s+(?:\w+\s+){0,3}$/i.test(text.slice(Math.max(0, m.index - 40), m.index))) continue;
    // Hours of sleep a night, or an age ("3 mo M"), are not times of an event.
    if (/^\s*(?:\/|a\s+(?:night|day)\b|per\s+night|[MF]\b)/.test(text.slice(end, end + 9))) continue;
    let free = true;
    for (let i = start; i < end; i++) if (doc.claimed[i] === 1) free = false;
    if (!free) continue;
    while (cursor < tokens.length && (tokens[cursor] as Token).end <= start) cursor++;
    const first = cursor;
    let last = first;
    while (last + 1 < tokens.length && (tokens[last + 1] as Token).start < end) last++;
    if ([...Array(last - first + 1).keys()].some((d) => doc.mentionAt[first + d] !== undefined)) continue;
    const target = nearestTarget(doc, first, last);
    if (target === undefined) continue;
    const type = TIME_TYPE[target.type];
    if (type === undefined) continue;
    const distance = target.last < first ? first - target.last : target.first - last;
    const score = Math.round((0.9 - Math.min(0.2, distance * 0.01)) * 10000) / 10000;
    added.push({
      category: 'TIME_EXPRESSION',
      type,
      start,
      end,
      first,
      last,
      score,
      traits: new Map(),
      attributes: [
        {
          type: target.type,
          category: target.category,
          start: target.start,
          end: target.end,
          score: target.score,
          relationshipScore: Math.round((0.95 - Math.min(0.3, distance * 0.02)) * 10000) / 10000,
          relationshipType: 'OVERLAP',
          ref: target,
        },
      ],
    });
    doc.claimed.fill(1, start, end);
  }
  doc.mentions.push(...added);
}

const LINKABLE = new Set(['MEDICAL_CONDITION', 'MEDICATION', 'TEST_TREATMENT_PROCEDURE']);

/** The closest linkable entity in the same sentence, preferring the one before the expression. */
function nearestTarget(doc: Doc, first: number, last: number): Mention | undefined {
  const sentence = (doc.tokens[first] as Token).sentence;
  for (let k = first - 1; k >= 0 && (doc.tokens[k] as Token).sentence === sentence; k--) {
    const m = doc.mentionAt[k];
    if (m !== undefined && LINKABLE.has(m.category)) return m;
  }
  for (let k = last + 1; k < doc.tokens.length && (doc.tokens[k] as Token).sentence === sentence; k++) {
    const m = doc.mentionAt[k];
    if (m !== undefined && LINKABLE.has(m.category)) return m;
  }
  return undefined;
}
