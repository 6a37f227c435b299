// Speed check, not a unit test (timings depend on the machine): npx tsx local/nlp/bench.ts
// Prints the lexicon load time and the cost of each operation on a 4 KB note.
import { readFileSync } from 'node:fs';
import { detectEntitiesV2, inferSnomedCt } from './index.js';

const SIZE = 4096;
const base = readFileSync(new URL('./fixtures/sample-note.txt', import.meta.url), 'utf8');
const note = base.repeat(Math.ceil(SIZE / base.length)).slice(0, SIZE - 8);

let t0 = performance.now();
detectEntitiesV2('warm up');
console.log(`first call (lexicon load, trie build): ${(performance.now() - t0).toFixed(1)} ms`);

// Distinct texts so that no run reuses the previous analysis unless the mode means to.
const notes = Array.from({ length: 400 }, (_, i) => `${note} #${i}`);
for (const n of notes.slice(0, 50)) {
  detectEntitiesV2(n);
  inferSnomedCt(n);
}
const runs = notes.slice(50);
for (const mode of ['entities', 'snomed', 'entities+snomed (same text)'] as const) {
  t0 = performance.now();
  for (const n of runs) {
    const text = `${n}${mode}`;
    if (mode !== 'snomed') detectEntitiesV2(text);
    if (mode !== 'entities') inferSnomedCt(text);
  }
  const ms = (performance.now() - t0) / runs.length;
  console.log(`${mode}: ${ms.toFixed(3)} ms per 4 KB note, ${((ms * 1024) / SIZE).toFixed(3)} ms per KB`);
}
