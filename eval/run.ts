// Evaluates the local clinical NLP engine on the annotated notes in eval/notes/ and prints the
// tables (or the report as JSON). Run: npm run eval -- [--split dev|heldout] [--notes 01-08,27-44]
// [--verbose] [--json]. --verbose lists every disagreement: use it on dev notes only.
import { evaluate, type Counts, type EvalReport, type Table } from './evaluate.js';
import { loadNotes, noteFilter } from './gold.js';

const USAGE = 'usage: tsx eval/run.ts [--split dev|heldout] [--notes 01-08,27-44] [--verbose] [--json]';

interface Args {
  split?: string;
  notes?: string;
  verbose: boolean;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { verbose: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--verbose') args.verbose = true;
    else if (a === '--json') args.json = true;
    else if (a === '--split') args.split = value();
    else if (a === '--notes') args.notes = value();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

const pct = (x: number): string => (x * 100).toFixed(1).padStart(6);
const row = (label: string, c: Counts): string =>
  `${label.padEnd(44)} ${String(c.gold).padStart(5)} ${String(c.pred).padStart(5)} ${pct(c.precision)} ${pct(c.recall)} ${pct(c.f1)}`;

function printTable(title: string, t: Table): void {
  console.log(`\n${title}`);
  console.log(`${'label'.padEnd(44)} ${'gold'.padStart(5)} ${'pred'.padStart(5)} ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)}`);
  for (const [label, c] of Object.entries(t.labels)) console.log(row(label, c));
  console.log(row('(micro average)', t.micro));
}

function printReport(r: EvalReport, split: string | undefined): void {
  console.log(`Chartflow local NLP evaluation — ${r.modelVersion} (offline engine, not Amazon's model), ${r.notes} notes, ${r.goldEntities} gold entities${split === undefined ? '' : ` (split: ${split})`}`);
  printTable('Entities by category (exact span, category and type)', r.categories);
  printTable('Entities by type (exact span)', r.types);
  printTable('Entities by category (overlap: overlapping span, same category)', r.overlap);
  printTable('Traits (exact entity span)', r.traits);
  printTable('Attributes (exact entity and attribute spans; time links excluded)', r.attributes);
  console.log('\nSNOMED CT top-1 accuracy (a gold entity not found counts as wrong)');
  for (const [label, a] of [['all linked entities', r.snomed.overall], ['linked MEDICAL_CONDITION', r.snomed.linkedConditions]] as const) {
    console.log(`${label.padEnd(28)} ${a.correct}/${a.gold} = ${pct(a.accuracy).trim()}%   (of entities found: ${a.correct}/${a.found} = ${pct(a.accuracyOfFound).trim()}%)`);
  }
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const select = args.notes === undefined ? undefined : noteFilter(args.notes);
  const notes = loadNotes(undefined, select).filter((n) => args.split === undefined || n.split === args.split);
  if (notes.length === 0) throw new Error('no notes selected');
  // Held-out notes are scored in aggregate only: their individual errors must stay unseen.
  if (args.verbose && notes.some((n) => n.split === 'heldout' && Number(/^\d+/.exec(n.file)?.[0]) > 44)) {
    throw new Error('--verbose lists individual errors: not allowed on held-out notes (45-62, 81-134, 297-332); use --split dev or --notes');
  }
  const report = evaluate(notes, { details: args.verbose });
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  if (args.verbose) {
    for (const d of report.discrepancies ?? []) console.log(`${d.file}: ${d.kind} ${d.what} ${d.label} ${d.text}${d.kind === 'snomed' ? ` ${d.detail ?? ''}` : ''}`);
  }
  printReport(report, args.split);
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
