// What every attribute rule shares: an attribute found near an entity, and its commit as an
// AttrMention (its category, scores and relationship), which claims the attribute's text.
import type { EntitySubType, EntityType, RelationshipType } from '@aws-sdk/client-comprehendmedical';
import type { Doc } from './analyze.js';
import { round4, type AttrMention, type Mention } from './model.js';
import type { Token } from './text.js';

export interface Found {
  type: EntitySubType;
  start: number;
  end: number;
  /** Tokens between the entity and the attribute. */
  distance: number;
  score: number;
  ref?: Mention;
}

const ATTR_CATEGORY: Partial<Record<EntitySubType, EntityType>> = {
  DOSAGE: 'MEDICATION',
  STRENGTH: 'MEDICATION',
  ROUTE_OR_MODE: 'MEDICATION',
  FREQUENCY: 'MEDICATION',
  DURATION: 'MEDICATION',
  FORM: 'MEDICATION',
  RATE: 'MEDICATION',
  ACUITY: 'MEDICAL_CONDITION',
  QUALITY: 'MEDICAL_CONDITION',
  SYSTEM_ORGAN_SITE: 'ANATOMY',
  TEST_VALUE: 'TEST_TREATMENT_PROCEDURE',
  TEST_UNIT: 'TEST_TREATMENT_PROCEDURE',
  AMOUNT: 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL',
};

export function commit(doc: Doc, m: Mention, found: Found[]): void {
  found.sort((a, b) => a.start - b.start || a.end - b.end);
  for (const f of found) {
    const category: EntityType =
      f.type === 'DIRECTION' ? (m.category === 'ANATOMY' ? 'ANATOMY' : 'MEDICAL_CONDITION')
      : (f.type === 'FREQUENCY' || f.type === 'DURATION') && m.category === 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL' ? 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL'
      : ATTR_CATEGORY[f.type] ?? m.category;
    const attr: AttrMention = {
      type: f.type,
      category,
      start: f.start,
      end: f.end,
      score: round4(f.score),
      relationshipScore: round4(0.99 - 0.015 * Math.max(0, f.distance - 1)),
      relationshipType: f.type as RelationshipType,
      ref: f.ref,
      concept: f.ref?.concept,
    };
    m.attributes.push(attr);
    doc.claimed.fill(1, f.start, f.end);
  }
}

export function tokenAfter(doc: Doc, offset: number, from: number): number {
  let k = from;
  while (k < doc.tokens.length && (doc.tokens[k] as Token).start < offset) k++;
  return k;
}

export const isFree = (doc: Doc, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) if (doc.claimed[i] === 1) return false;
  return true;
};
