// SNOMED CT linking: the concept of the matched term first, then a more specific concept built
// from the entity and its site ("knee" + "pain" -> knee pain), then related concepts of the same
// category ranked by token overlap. Up to five, best first, deterministic tie-breaks.
import type { SNOMEDCTConcept } from '@aws-sdk/client-comprehendmedical';
import { getLexicon, type Concept, type EntityEntry, type TrieValue } from './lexicon.js';
import { round4, type Mention } from './model.js';
import { termKey } from './text.js';
import type { TrieNode } from './trie.js';

const MAX_CONCEPTS = 5;

function lookup(root: TrieNode<TrieValue<EntityEntry>>, key: readonly string[]): Concept | undefined {
  let node: TrieNode<TrieValue<EntityEntry>> | undefined = root;
  for (const k of key) {
    node = node.next.get(k);
    if (node === undefined) return undefined;
  }
  for (const v of node.values) if ('concept' in v.entry && v.entry.concept.code !== '') return v.entry.concept;
  return undefined;
}

const STOP = new Set([
  'of', 'the', 'and', 'or', 'in', 'on', 'to', 'with', 'without', 'a', 'an', 'due', 'by', 'for', 'disorder', 'finding',
  'procedure', 'structure', 'measurement', 'level', 'test', 'region',
]);
const isContent = (w: string): boolean => !STOP.has(w) && /[a-z0-9]/.test(w);

let idfCache: Map<string, number> | undefined;
/** Inverse document frequency of a token over the coded concepts: rare words weigh more. */
function idf(token: string): number {
  const lex = getLexicon();
  idfCache ??= new Map([...lex.conceptsByToken].map(([t, list]) => [t, Math.log(1 + lex.concepts.length / (list.length + 1))]));
  return idfCache.get(token) ?? Math.log(1 + lex.concepts.length);
}

// Ranking depends only on the category, the matched concept and the words, so it is memoised
// (bounded) — clinical notes repeat the same terms.
const RANK_CACHE_LIMIT = 20000;
const rankCache = new Map<string, readonly (readonly [Concept, number])[]>();

/** Weighted Jaccard similarity of two token sets. */
function similarity(a: ReadonlySet<string>, b: readonly string[]): number {
  const bs = new Set(b.filter(isContent));
  let shared = 0;
  let union = 0;
  for (const x of a) {
    const w = idf(x);
    union += w;
    if (bs.has(x)) shared += w;
  }
  for (const x of bs) if (!a.has(x)) union += idf(x);
  return union === 0 ? 0 : shared / union;
}

/** Candidates below this similarity are not worth listing. */
const MIN_SIMILARITY = 0.3;
const EPISODE_WORDS = new Set(['flare', 'flares', 'flareup', 'up', 'exacerbation', 'exacerbations', 'episode', 'episodes', 'attack', 'attacks', 'relapse', 'recurrence', 'crisis']);
const UNCODED_MIN_SIMILARITY = 0.6;

export function rankConcepts(m: Mention, text: string): SNOMEDCTConcept[] {
  const key = termKey(text.slice(m.start, m.end));
  const sites = m.category === 'MEDICAL_CONDITION' ? m.attributes.filter((a) => a.type === 'SYSTEM_ORGAN_SITE').map((a) => termKey(text.slice(a.start, a.end))) : [];
  const cacheKey = `${m.category}|${m.concept?.index ?? -1}|${key.join(' ')}|${sites.map((x) => x.join(' ')).join('/')}`;
  let ranked = rankCache.get(cacheKey);
  if (ranked === undefined) {
    ranked = rankCandidates(m, key, sites);
    if (rankCache.size >= RANK_CACHE_LIMIT) rankCache.clear();
    rankCache.set(cacheKey, ranked);
  }
  return ranked.map(([c, factor]) => ({ Description: c.description, Code: c.code, Score: round4(m.score * factor) }));
}

/** Candidate concepts, best first, with their score as a fraction of the entity's score. */
function rankCandidates(m: Mention, key: readonly string[], sites: readonly (readonly string[])[]): (readonly [Concept, number])[] {
  const lex = getLexicon();
  const out: [Concept, number][] = [];
  const seen = new Set<string>();
  const add = (c: Concept, factor: number): void => {
    if (c.code === '' || seen.has(c.code) || out.length >= MAX_CONCEPTS) return;
    seen.add(c.code);
    out.push([c, factor]);
  };
  for (const site of sites) {
    const combined = lookup(lex.entities, [...site, ...key]);
    if (combined !== undefined && combined.category === 'MEDICAL_CONDITION') add(combined, 0.97);
  }
  if (m.concept !== undefined) add(m.concept, out.length > 0 ? 0.9 : 1);
  // "Crohn's flare", "asthma exacerbation": an episode of a coded disorder links to the disorder.
  if (m.category === 'MEDICAL_CONDITION' && out.length === 0) {
    const head = key.filter((w) => !EPISODE_WORDS.has(w));
    const base = head.length > 0 && head.length < key.length ? lookup(lex.entities, head) : undefined;
    if (base !== undefined && base.category === 'MEDICAL_CONDITION') add(base, 0.95);
  }
  // "MSSA pneumonia", "feculent peritonitis", "growth ultrasound": the head of an uncoded term
  // names its disorder or procedure.
  const headCategory = m.category === 'MEDICAL_CONDITION' || m.category === 'TEST_TREATMENT_PROCEDURE' ? m.category : undefined;
  for (let i = 1; headCategory !== undefined && out.length === 0 && i < key.length; i++) {
    const head = lookup(lex.entities, key.slice(i));
    if (head !== undefined && head.category === headCategory) add(head, 0.9);
  }

  // Related concepts: share a content word with the text (or the matched concept's name),
  // ranked by IDF-weighted overlap; ties broken by code so the order is stable.
  const words = new Set(key.filter(isContent));
  const scored = new Map<number, number>();
  const consider = (ws: ReadonlySet<string>): void => {
    for (const w of ws) {
      for (const idx of lex.conceptsByToken.get(w) ?? []) {
        const c = lex.concepts[idx] as Concept;
        if (c.category !== m.category || seen.has(c.code)) continue;
        let best = 0;
        for (const tk of c.termKeys) best = Math.max(best, similarity(ws, tk));
        if (best > (scored.get(idx) ?? 0)) scored.set(idx, best);
      }
    }
  };
  // Without a coded concept of its own, the entity's top concept is a guess: only a close one
  // ("CVA tenderness" must not become a stroke through the shared abbreviation).
  const minSimilarity = m.concept !== undefined && m.concept.code !== '' ? MIN_SIMILARITY : UNCODED_MIN_SIMILARITY;
  consider(words);
  if (m.concept !== undefined) for (const tk of m.concept.termKeys.slice(0, 1)) consider(new Set(tk.filter(isContent)));
  const ranked = [...scored.entries()]
    .filter(([, s]) => s >= minSimilarity)
    .sort((a, b) => b[1] - a[1] || ((lex.concepts[a[0]] as Concept).code < (lex.concepts[b[0]] as Concept).code ? -1 : 1));
  // Related concepts always score below the ones before them.
  let ceiling = (out[out.length - 1]?.[1] ?? 1) - 0.002;
  for (const [idx, s] of ranked) {
    const factor = Math.min(ceiling, s * 0.85);
    add(lex.concepts[idx] as Concept, factor);
    ceiling = factor - 0.002;
  }
  return out;
}
