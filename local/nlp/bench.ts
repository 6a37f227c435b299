// Speed check, not a unit test (timings depend on the machine): npx tsx local/nlp/bench.ts
// Prints the lexicon load time, the cost per 4 KB note and the throughput (MB/s) of entities,
// SNOMED CT and both on one generated corpus of distinct notes, measured in one run.
import { readFileSync } from 'node:fs';
import { detectEntitiesV2, inferSnomedCt } from './index.js';

const NOTE_SIZE = 4096;
const NOTES = 500; // about 2 MB
const base = readFileSync(new URL('./fixtures/sample-note.txt', import.meta.url), 'utf8');
const block = base.repeat(Math.ceil(NOTE_SIZE / base.length)).slice(0, NOTE_SIZE - 16);

let t0 = performance.now();
detectEntitiesV2('warm up');
console.log(`first call (lexicon load, trie build): ${(performance.now() - t0).toFixed(1)} ms`);

// Distinct texts, so that no run reuses the previous analysis unless the mode means to.
const corpus = Array.from({ length: NOTES }, (_, i) => `${block}\nNote ${i}.`);
const bytes = corpus.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
for (const n of corpus.slice(0, 50)) {
  detectEntitiesV2(`${n} warm`);
  inferSnomedCt(`${n} warm`);
}

for (const mode of ['entities', 'snomed', 'entities+snomed (same text)'] as const) {
  t0 = performance.now();
  for (const n of corpus) {
    const text = `${n}${mode}`;
    if (mode !== 'snomed') detectEntitiesV2(text);
    if (mode !== 'entities') inferSnomedCt(text);
  }
  const ms = performance.now() - t0;
  const perNote = ms / corpus.length;
  console.log(
    `${mode}: ${(bytes / 1e6).toFixed(2)} MB in ${ms.toFixed(0)} ms = ${(bytes / 1e6 / (ms / 1000)).toFixed(2)} MB/s; ` +
      `${perNote.toFixed(3)} ms per 4 KB note, ${((perNote * 1024) / NOTE_SIZE).toFixed(3)} ms per KB`,
  );
}
