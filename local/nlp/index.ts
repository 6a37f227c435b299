// Public interface of Chartflow's offline clinical NLP engine, used by the local Comprehend
// Medical emulator. Responses follow the DetectEntitiesV2 and InferSNOMEDCT shapes of the real
// service; results are produced by local lexicons and rules and are labelled by ModelVersion.
import type {
  Attribute,
  DetectEntitiesV2Response,
  Entity,
  InferSNOMEDCTResponse,
  SNOMEDCTAttribute,
  SNOMEDCTAttributeType,
  SNOMEDCTEntity,
  SNOMEDCTEntityCategory,
  SNOMEDCTEntityType,
  SNOMEDCTRelationshipType,
  SNOMEDCTTraitName,
  Trait,
} from '@aws-sdk/client-comprehendmedical';
import { analyze } from './analyze.js';
import { getLexicon } from './lexicon.js';
import type { AttrMention, Mention } from './model.js';
import { rankConcepts } from './snomed.js';

/** Names the local engine in every response's ModelVersion (never mistaken for the service's). */
export const ENGINE_MODEL_VERSION = 'chartflow-local-nlp-0.1';

/** Trait order in responses (stable, so output is deterministic). */
const TRAIT_ORDER = ['SIGN', 'SYMPTOM', 'DIAGNOSIS', 'NEGATION', 'PERTAINS_TO_FAMILY', 'HYPOTHETICAL', 'LOW_CONFIDENCE', 'PAST_HISTORY', 'FUTURE'];

function traitsOf(m: Mention): Trait[] {
  return [...m.traits.entries()]
    .sort((a, b) => TRAIT_ORDER.indexOf(a[0]) - TRAIT_ORDER.indexOf(b[0]))
    .map(([Name, Score]) => ({ Name, Score }));
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
}

/**
 * Ids: every entity and every attribute that is not itself a listed entity gets the next integer,
 * in offset order; an attribute that refers to a listed entity (a time expression's target) reuses
 * that entity's Id.
 */
function assignIds(
  entities: readonly Mention[],
  attributesOf: (m: Mention) => readonly AttrMention[] = (m) => m.attributes,
): { entityId: Map<Mention, number>; attrId: Map<AttrMention, number> } {
  const nodes: { start: number; end: number; order: number; entity?: Mention; attr?: AttrMention }[] = [];
  for (const e of entities) {
    nodes.push({ start: e.start, end: e.end, order: 0, entity: e });
    for (const a of attributesOf(e)) if (a.ref === undefined || a.ref.consumedBy !== undefined) nodes.push({ start: a.start, end: a.end, order: 1, attr: a });
  }
  nodes.sort((a, b) => a.start - b.start || a.end - b.end || a.order - b.order);
  const entityId = new Map<Mention, number>();
  const attrId = new Map<AttrMention, number>();
  nodes.forEach((n, i) => {
    if (n.entity !== undefined) entityId.set(n.entity, i);
    if (n.attr !== undefined) attrId.set(n.attr, i);
  });
  for (const e of entities) {
    for (const a of attributesOf(e)) {
      if (!attrId.has(a) && a.ref !== undefined) {
        const id = entityId.get(a.ref);
        if (id !== undefined) attrId.set(a, id);
      }
    }
  }
  return { entityId, attrId };
}

/** DetectEntitiesV2: medical entities, PHI, traits and attributes of a clinical note. */
export function detectEntitiesV2(text: string): DetectEntitiesV2Response {
  checkText(text);
  const { entities } = analyze(text);
  const { entityId, attrId } = assignIds(entities);
  const Entities: Entity[] = entities.map((m) => ({
    Id: entityId.get(m),
    BeginOffset: m.start,
    EndOffset: m.end,
    Score: m.score,
    Text: text.slice(m.start, m.end),
    Category: m.category,
    Type: m.type,
    Traits: traitsOf(m),
    Attributes: m.attributes.map(
      (a): Attribute => ({
        Type: a.type,
        Score: a.score,
        RelationshipScore: a.relationshipScore,
        RelationshipType: a.relationshipType,
        Id: attrId.get(a),
        BeginOffset: a.start,
        EndOffset: a.end,
        Text: text.slice(a.start, a.end),
        Category: a.category,
        Traits: a.ref !== undefined && a.ref.consumedBy === undefined ? traitsOf(a.ref) : [],
      }),
    ),
  }));
  return { Entities, UnmappedAttributes: [], ModelVersion: ENGINE_MODEL_VERSION };
}

const SNOMED_CATEGORIES = new Set(['MEDICAL_CONDITION', 'ANATOMY', 'TEST_TREATMENT_PROCEDURE']);
const SNOMED_ATTRIBUTES = new Set(['ACUITY', 'QUALITY', 'DIRECTION', 'SYSTEM_ORGAN_SITE', 'TEST_VALUE', 'TEST_UNIT']);

/** InferSNOMEDCT: conditions, anatomy, tests, treatments and procedures linked to SNOMED CT. */
export function inferSnomedCt(text: string): InferSNOMEDCTResponse {
  checkText(text);
  const { entities: all } = analyze(text);
  const entities = all.filter((m) => SNOMED_CATEGORIES.has(m.category));
  const attributesOf = (m: Mention): AttrMention[] => m.attributes.filter((a) => SNOMED_ATTRIBUTES.has(a.type));
  const { entityId, attrId } = assignIds(entities, attributesOf);
  const manifest = getLexicon().manifest;
  const Entities: SNOMEDCTEntity[] = entities.map((m) => ({
    Id: entityId.get(m),
    Text: text.slice(m.start, m.end),
    Category: m.category as SNOMEDCTEntityCategory,
    // The service reports anatomy entities with Type SYSTEM_ORGAN_SITE, which its model's enum omits.
    Type: m.type as SNOMEDCTEntityType,
    Score: m.score,
    BeginOffset: m.start,
    EndOffset: m.end,
    Attributes: attributesOf(m).map(
      (a): SNOMEDCTAttribute => ({
        Category: a.category as SNOMEDCTEntityCategory,
        Type: a.type as SNOMEDCTAttributeType,
        Score: a.score,
        RelationshipScore: a.relationshipScore,
        RelationshipType: a.relationshipType as SNOMEDCTRelationshipType,
        Id: attrId.get(a),
        BeginOffset: a.start,
        EndOffset: a.end,
        Text: text.slice(a.start, a.end),
        Traits: [],
        SNOMEDCTConcepts: a.ref !== undefined ? rankConcepts(a.ref, text) : [],
      }),
    ),
    Traits: traitsOf(m).map((t) => ({ Name: t.Name as SNOMEDCTTraitName, Score: t.Score })),
    SNOMEDCTConcepts: rankConcepts(m, text),
  }));
  return {
    Entities,
    ModelVersion: ENGINE_MODEL_VERSION,
    SNOMEDCTDetails: { Edition: manifest.snomedct.edition, Language: manifest.snomedct.language, VersionDate: manifest.snomedct.versionDate },
    Characters: { OriginalTextCharacters: text.length },
  };
}

export type { DetectEntitiesV2Response, InferSNOMEDCTResponse };
