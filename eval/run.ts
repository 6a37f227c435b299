// Evaluates the local clinical NLP engine on the annotated notes in eval/notes/:
// precision, recall and F1 per entity category and type, per trait and per attribute type, and
// SNOMED CT top-1 accuracy. Run: npx tsx eval/run.ts [--verbose]
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2, ENGINE_MODEL_VERSION, inferSnomedCt } from '../local/nlp/index.js';
import { attributeSpan, loadNotes, occurrence, type GoldEntity, type Span } from './gold.js';

const verbose = process.argv.includes('--verbose');
// --split dev|heldout: evaluate one split only. The dev notes were used while building the engine;
// the held-out notes were annotated before the engine was run on them and not tuned on.
const splitArg = process.argv.indexOf('--split');
const onlySplit = splitArg >= 0 ? process.argv[splitArg + 1] : undefined;

const key = (s: Span): string => `${s.begin}:${s.end}`;

/** True/false positives and false negatives per label. */
class Tally {
  private readonly counts = new Map<string, { tp: number; fp: number; fn: number }>();

  add(label: string, gold: ReadonlySet<string>, pred: ReadonlySet<string>): void {
    const c = this.counts.get(label) ?? { tp: 0, fp: 0, fn: 0 };
    for (const g of gold) if (pred.has(g)) c.tp++;
    else c.fn++;
    for (const p of pred) if (!gold.has(p)) c.fp++;
    this.counts.set(label, c);
  }

  print(title: string): void {
    const rows = [...this.counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    const total = { tp: 0, fp: 0, fn: 0 };
    console.log(`\n${title}`);
    console.log(`${'label'.padEnd(44)} ${'gold'.padStart(5)} ${'pred'.padStart(5)} ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)}`);
    for (const [label, c] of rows) {
      total.tp += c.tp;
      total.fp += c.fp;
      total.fn += c.fn;
      console.log(line(label, c));
    }
    console.log(line('(micro average)', total));
  }
}

function line(label: string, c: { tp: number; fp: number; fn: number }): string {
  const p = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const r = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  const f = p + r === 0 ? 0 : (2 * p * r) / (p + r);
  const pct = (x: number): string => (x * 100).toFixed(1).padStart(6);
  return `${label.padEnd(44)} ${String(c.tp + c.fn).padStart(5)} ${String(c.tp + c.fp).padStart(5)} ${pct(p)} ${pct(r)} ${pct(f)}`;
}

/** Groups "label -> set of keys" for one note. */
function group(): Map<string, Set<string>> {
  return new Map();
}
function put(m: Map<string, Set<string>>, label: string, k: string): void {
  const s = m.get(label) ?? new Set<string>();
  s.add(k);
  m.set(label, s);
}

const categories = new Tally();
const types = new Tally();
const relaxed = new Tally();
const traits = new Tally();
const attributes = new Tally();
let snomedGold = 0;
let snomedFound = 0;
let snomedCorrect = 0;
let notes = 0;

for (const note of loadNotes()) {
  const { file, text } = note;
  if (onlySplit !== undefined && note.split !== onlySplit) continue;
  notes++;
  const gold = note.entities;
  const pred = detectEntitiesV2(text).Entities ?? [];
  const snomed = inferSnomedCt(text).Entities ?? [];

  const gCat = group();
  const pCat = group();
  const gType = group();
  const pType = group();
  const gRelax = group();
  const pRelax = group();
  const gTrait = group();
  const pTrait = group();
  const gAttr = group();
  const pAttr = group();

  const goldSpans: { span: Span; g: GoldEntity }[] = [];
  for (const g of gold) {
    const span = occurrence(text, g.text, g.n ?? 1, file);
    goldSpans.push({ span, g });
    put(gCat, g.category, `${key(span)}|${g.type}`);
    put(gType, `${g.category}/${g.type}`, key(span));
    put(gRelax, g.category, key(span));
    for (const t of g.traits ?? []) put(gTrait, t, key(span));
    for (const [type, attrText, k] of g.attributes ?? []) put(gAttr, type, `${key(span)}|${key(attributeSpan(text, attrText, span, file, k))}`);
  }
  const predSpan = (e: Entity): Span => ({ begin: e.BeginOffset ?? 0, end: e.EndOffset ?? 0 });
  for (const e of pred) {
    const span = predSpan(e);
    put(pCat, e.Category ?? '', `${key(span)}|${e.Type}`);
    put(pType, `${e.Category}/${e.Type}`, key(span));
    // Relaxed: a prediction counts when it overlaps a gold entity of the same category.
    const hit = goldSpans.find((g) => g.g.category === e.Category && g.span.begin < span.end && span.begin < g.span.end);
    put(pRelax, e.Category ?? '', hit === undefined ? `pred:${key(span)}` : key(hit.span));
    for (const t of e.Traits ?? []) put(pTrait, t.Name ?? '', key(span));
    for (const a of e.Attributes ?? []) {
      if (a.RelationshipType === 'OVERLAP') continue;
      put(pAttr, a.Type ?? '', `${key(span)}|${a.BeginOffset}:${a.EndOffset}`);
    }
  }
  for (const [tally, g, p] of [
    [categories, gCat, pCat],
    [types, gType, pType],
    [relaxed, gRelax, pRelax],
    [traits, gTrait, pTrait],
    [attributes, gAttr, pAttr],
  ] as const) {
    for (const label of new Set([...g.keys(), ...p.keys()])) tally.add(label, g.get(label) ?? new Set(), p.get(label) ?? new Set());
  }

  for (const { span, g } of goldSpans) {
    if (g.snomed === undefined) continue;
    snomedGold++;
    const e = snomed.find((x) => x.BeginOffset === span.begin && x.EndOffset === span.end);
    if (e === undefined) continue;
    snomedFound++;
    const top = e.SNOMEDCTConcepts?.[0]?.Code;
    if (top === g.snomed) snomedCorrect++;
    else if (verbose) console.log(`${file}: SNOMED "${g.text}" expected ${g.snomed}, got ${top ?? 'none'}`);
  }

  if (verbose) {
    for (const label of new Set([...gCat.keys(), ...pCat.keys()])) {
      const gs = gCat.get(label) ?? new Set<string>();
      const ps = pCat.get(label) ?? new Set<string>();
      const show = (k: string): string => {
        const [b, e] = (k.split('|')[0] ?? '').split(':').map(Number);
        return `"${text.slice(b, e)}" (${k})`;
      };
      for (const k of gs) if (!ps.has(k)) console.log(`${file}: missed ${label} ${show(k)}`);
      for (const k of ps) if (!gs.has(k)) console.log(`${file}: spurious ${label} ${show(k)}`);
    }
    for (const [what, g, p] of [['trait', gTrait, pTrait], ['attribute', gAttr, pAttr]] as const) {
      for (const label of new Set([...g.keys(), ...p.keys()])) {
        const gs = g.get(label) ?? new Set<string>();
        const ps = p.get(label) ?? new Set<string>();
        const show = (k: string): string =>
          k
            .split('|')
            .map((part) => {
              const [b, e] = part.split(':').map(Number);
              return `"${text.slice(b, e)}"`;
            })
            .join(' -> ');
        for (const k of gs) if (!ps.has(k)) console.log(`${file}: missed ${what} ${label} ${show(k)}`);
        for (const k of ps) if (!gs.has(k)) console.log(`${file}: spurious ${what} ${label} ${show(k)}`);
      }
    }
  }
}

console.log(`Chartflow local NLP evaluation — ${ENGINE_MODEL_VERSION}, ${notes} notes${onlySplit === undefined ? '' : ` (split: ${onlySplit})`}`);
categories.print('Entities by category (exact span, category and type)');
types.print('Entities by type (exact span)');
relaxed.print('Entities by category (relaxed: overlapping span, same category)');
traits.print('Traits (exact entity span)');
attributes.print('Attributes (exact entity and attribute spans; time links excluded)');
const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((a / b) * 100).toFixed(1)}%`);
console.log(`\nSNOMED CT top-1 accuracy: ${snomedCorrect}/${snomedGold} = ${pct(snomedCorrect, snomedGold)} of gold concepts; ${snomedCorrect}/${snomedFound} = ${pct(snomedCorrect, snomedFound)} of those whose entity was found`);
