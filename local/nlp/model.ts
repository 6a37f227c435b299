// Internal representation of what the engine found, before it is shaped into the API responses.
import type { AttributeName, EntitySubType, EntityType, RelationshipType } from '@aws-sdk/client-comprehendmedical';
import type { ConditionKind, Concept } from './lexicon.js';

export interface Mention {
  readonly category: EntityType;
  readonly type: EntitySubType;
  readonly start: number;
  readonly end: number;
  /** First and last token (inclusive). */
  readonly first: number;
  readonly last: number;
  readonly score: number;
  readonly concept?: Concept;
  readonly kind?: ConditionKind;
  /** Trait name -> score (highest wins). */
  readonly traits: Map<AttributeName, number>;
  readonly attributes: AttrMention[];
  /** The lexicon marks the term itself as negated ("non-smoker", "NKDA"). */
  readonly negated?: boolean;
  /** Set when the mention became an attribute of another entity (an anatomy site). */
  consumedBy?: Mention;
  /** Set when the mention is not reported at all (a site adjective left without a finding). */
  dropped?: boolean;
}

export interface AttrMention {
  readonly type: EntitySubType;
  readonly category: EntityType;
  readonly start: number;
  readonly end: number;
  readonly score: number;
  readonly relationshipScore: number;
  readonly relationshipType: RelationshipType;
  /** The mention this attribute is (an anatomy site, or the entity a time expression refers to). */
  readonly ref?: Mention;
  readonly concept?: Concept;
}

export interface Analysis {
  readonly text: string;
  /** Entities in offset order, without those consumed as attributes. */
  readonly entities: readonly Mention[];
}

/** Scores are deterministic functions of the evidence, kept to four decimals. */
export const round4 = (x: number): number => Math.round(Math.min(0.9999, Math.max(0, x)) * 10000) / 10000;

export function addTrait(m: Mention, name: AttributeName, score: number): void {
  const prev = m.traits.get(name);
  if (prev === undefined || score > prev) m.traits.set(name, round4(score));
}
