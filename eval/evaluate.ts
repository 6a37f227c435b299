// Scores the local clinical NLP engine against annotated notes (see eval/README.md for the rules):
// precision, recall and F1 per entity category and type (exact span, and overlapping span), per
// trait, per attribute type, and SNOMED CT top-1 accuracy. A library: eval/run.ts prints the
// report, test/unit/nlp-eval.test.ts holds it above eval/floors.json.
import type { Entity, SNOMEDCTEntity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2, ENGINE_MODEL_VERSION, inferSnomedCt } from '../local/nlp/index.js';
import { attributeSpan, occurrence, type GoldEntity, type GoldNote, type Span } from './gold.js';

export interface Counts {
  readonly gold: number;
  readonly pred: number;
  readonly tp: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Per-label counts plus their micro average. */
export interface Table {
  readonly labels: Readonly<Record<string, Counts>>;
  readonly micro: Counts;
}

export interface Accuracy {
  /** Gold entities with an expected concept. */
  readonly gold: number;
  /** Of those, entities the engine found with the exact span. */
  readonly found: number;
  /** Found with the expected concept first. */
  readonly correct: number;
  /** correct / gold: a missed entity counts as wrong. */
  readonly accuracy: number;
  /** correct / found: the linker alone. */
  readonly accuracyOfFound: number;
}

/** One disagreement between gold and engine, for --verbose (never printed for held-out notes). */
export interface Discrepancy {
  readonly file: string;
  readonly kind: 'missed' | 'spurious' | 'snomed';
  readonly what: 'entity' | 'trait' | 'attribute' | 'snomed';
  readonly label: string;
  readonly text: string;
  readonly detail?: string;
}

export interface EvalReport {
  readonly modelVersion: string;
  readonly notes: number;
  readonly files: readonly string[];
  readonly goldEntities: number;
  /** Exact span, category and type. */
  readonly categories: Table;
  /** Exact span, per category/type. */
  readonly types: Table;
  /** Overlapping span, same category. */
  readonly overlap: Table;
  /** Exact entity span. */
  readonly traits: Table;
  /** Exact entity and attribute spans; time links (OVERLAP) excluded. */
  readonly attributes: Table;
  readonly snomed: {
    readonly overall: Accuracy;
    /** Gold MEDICAL_CONDITION entities with a concept. */
    readonly linkedConditions: Accuracy;
  };
  /** Only with `details: true`. */
  readonly discrepancies?: readonly Discrepancy[];
}

export interface EvaluateOptions {
  /** List every miss and spurious prediction (for dev notes only). */
  readonly details?: boolean;
}

function counts(tp: number, gold: number, pred: number): Counts {
  const precision = pred === 0 ? (gold === 0 ? 1 : 0) : tp / pred;
  const recall = gold === 0 ? (pred === 0 ? 1 : 0) : tp / gold;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { gold, pred, tp, precision, recall, f1 };
}

/** Accumulates true positives, gold and predicted counts per label. */
class Tally {
  private readonly raw = new Map<string, { tp: number; gold: number; pred: number }>();

  add(label: string, gold: ReadonlySet<string>, pred: ReadonlySet<string>): void {
    const c = this.raw.get(label) ?? { tp: 0, gold: 0, pred: 0 };
    for (const g of gold) if (pred.has(g)) c.tp++;
    c.gold += gold.size;
    c.pred += pred.size;
    this.raw.set(label, c);
  }

  table(): Table {
    const labels: Record<string, Counts> = {};
    let tp = 0;
    let gold = 0;
    let pred = 0;
    for (const [label, c] of [...this.raw.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      labels[label] = counts(c.tp, c.gold, c.pred);
      tp += c.tp;
      gold += c.gold;
      pred += c.pred;
    }
    return { labels, micro: counts(tp, gold, pred) };
  }
}

class AccuracyTally {
  gold = 0;
  found = 0;
  correct = 0;
  result(): Accuracy {
    return {
      gold: this.gold,
      found: this.found,
      correct: this.correct,
      accuracy: this.gold === 0 ? 1 : this.correct / this.gold,
      accuracyOfFound: this.found === 0 ? 1 : this.correct / this.found,
    };
  }
}

type Groups = Map<string, Set<string>>;
const put = (m: Groups, label: string, k: string): void => {
  const s = m.get(label) ?? new Set<string>();
  s.add(k);
  m.set(label, s);
};
const key = (s: Span): string => `${s.begin}:${s.end}`;
const spanOf = (e: { BeginOffset?: number; EndOffset?: number }): Span => ({ begin: e.BeginOffset ?? 0, end: e.EndOffset ?? 0 });

/** Runs the engine on every note and scores it against the gold annotations. */
export function evaluate(notes: readonly GoldNote[], options: EvaluateOptions = {}): EvalReport {
  const categories = new Tally();
  const types = new Tally();
  const overlap = new Tally();
  const traits = new Tally();
  const attributes = new Tally();
  const snomedAll = new AccuracyTally();
  const snomedConditions = new AccuracyTally();
  const discrepancies: Discrepancy[] = [];
  let goldEntities = 0;

  for (const note of notes) {
    const { file, text } = note;
    const pred: readonly Entity[] = detectEntitiesV2(text).Entities ?? [];
    const linked: readonly SNOMEDCTEntity[] = inferSnomedCt(text).Entities ?? [];
    const g = { cat: new Map() as Groups, type: new Map() as Groups, relax: new Map() as Groups, trait: new Map() as Groups, attr: new Map() as Groups };
    const p = { cat: new Map() as Groups, type: new Map() as Groups, relax: new Map() as Groups, trait: new Map() as Groups, attr: new Map() as Groups };

    const goldSpans: { span: Span; g: GoldEntity }[] = [];
    for (const ge of note.entities) {
      const span = occurrence(text, ge.text, ge.n ?? 1, file);
      goldSpans.push({ span, g: ge });
      goldEntities++;
      put(g.cat, ge.category, `${key(span)}|${ge.type}`);
      put(g.type, `${ge.category}/${ge.type}`, key(span));
      put(g.relax, ge.category, key(span));
      for (const t of ge.traits ?? []) put(g.trait, t, key(span));
      for (const [type, attrText, k] of ge.attributes ?? []) put(g.attr, type, `${key(span)}|${key(attributeSpan(text, attrText, span, file, k))}`);
    }
    for (const e of pred) {
      const span = spanOf(e);
      put(p.cat, e.Category ?? '', `${key(span)}|${e.Type}`);
      put(p.type, `${e.Category}/${e.Type}`, key(span));
      // Relaxed: a prediction counts when it overlaps a gold entity of the same category.
      const hit = goldSpans.find((x) => x.g.category === e.Category && x.span.begin < span.end && span.begin < x.span.end);
      put(p.relax, e.Category ?? '', hit === undefined ? `pred:${key(span)}` : key(hit.span));
      for (const t of e.Traits ?? []) put(p.trait, t.Name ?? '', key(span));
      for (const a of e.Attributes ?? []) {
        if (a.RelationshipType === 'OVERLAP') continue;
        put(p.attr, a.Type ?? '', `${key(span)}|${key(spanOf(a))}`);
      }
    }
    for (const [tally, gs, ps, what] of [
      [categories, g.cat, p.cat, 'entity'],
      [types, g.type, p.type, undefined],
      [overlap, g.relax, p.relax, undefined],
      [traits, g.trait, p.trait, 'trait'],
      [attributes, g.attr, p.attr, 'attribute'],
    ] as const) {
      for (const label of new Set([...gs.keys(), ...ps.keys()])) {
        const gold = gs.get(label) ?? new Set<string>();
        const predicted = ps.get(label) ?? new Set<string>();
        tally.add(label, gold, predicted);
        if (options.details !== true || what === undefined) continue;
        const show = (k: string): string =>
          k
            .split('|')
            .filter((part) => part.includes(':'))
            .map((part) => {
              const [b, e] = part.split(':').map(Number);
              return `"${text.slice(b, e)}"`;
            })
            .join(' -> ');
        for (const k of gold) if (!predicted.has(k)) discrepancies.push({ file, kind: 'missed', what, label, text: show(k), detail: k });
        for (const k of predicted) if (!gold.has(k)) discrepancies.push({ file, kind: 'spurious', what, label, text: show(k), detail: k });
      }
    }

    for (const { span, g: ge } of goldSpans) {
      if (ge.snomed === undefined) continue;
      const tallies = ge.category === 'MEDICAL_CONDITION' ? [snomedAll, snomedConditions] : [snomedAll];
      for (const t of tallies) t.gold++;
      const e = linked.find((x) => x.BeginOffset === span.begin && x.EndOffset === span.end);
      if (e === undefined) continue;
      for (const t of tallies) t.found++;
      const top = e.SNOMEDCTConcepts?.[0];
      if (top?.Code === ge.snomed) for (const t of tallies) t.correct++;
      else if (options.details === true) {
        discrepancies.push({ file, kind: 'snomed', what: 'snomed', label: ge.category, text: `"${ge.text}"`, detail: `expected ${ge.snomed}, got ${top?.Code ?? 'none'} ${top?.Description ?? ''}`.trim() });
      }
    }
  }

  return {
    modelVersion: ENGINE_MODEL_VERSION,
    notes: notes.length,
    files: notes.map((n) => n.file),
    goldEntities,
    categories: categories.table(),
    types: types.table(),
    overlap: overlap.table(),
    traits: traits.table(),
    attributes: attributes.table(),
    snomed: { overall: snomedAll.result(), linkedConditions: snomedConditions.result() },
    ...(options.details === true ? { discrepancies } : {}),
  };
}

/** A figure of a report by path, e.g. "categories.MEDICATION.f1", "snomed.linkedConditions.accuracy". */
export function figure(report: EvalReport, path: string): number | undefined {
  const [section, label, field] = path.split('.');
  if (section === 'snomed') {
    const acc = label === 'overall' || label === 'linkedConditions' ? report.snomed[label] : undefined;
    const v = acc?.[field as keyof Accuracy];
    return typeof v === 'number' ? v : undefined;
  }
  const table = section === 'categories' || section === 'types' || section === 'overlap' || section === 'traits' || section === 'attributes' ? report[section] : undefined;
  if (table === undefined || label === undefined) return undefined;
  const c = label === 'micro' ? table.micro : table.labels[label];
  const v = c?.[field as keyof Counts];
  return typeof v === 'number' ? v : undefined;
}
