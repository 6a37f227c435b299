// Checks the annotations of eval/notes/ without running the engine (annotators use it while
// writing notes, so that they stay blind to the engine's output).
// Run: npx tsx eval/check.ts [--notes 09-26]
import { checkNote, loadNotes, noteFilter } from './gold.js';

const at = process.argv.indexOf('--notes');
const spec = at >= 0 ? process.argv[at + 1] : undefined;
if (at >= 0 && spec === undefined) throw new Error('--notes needs a value, e.g. 09-26');
const notes = loadNotes(undefined, spec === undefined ? undefined : noteFilter(spec));
const problems = notes.flatMap(checkNote);
for (const p of problems) console.error(p);
const entities = notes.reduce((n, note) => n + note.entities.length, 0);
console.log(`${notes.length} notes, ${entities} gold entities, ${problems.length} problems`);
process.exitCode = problems.length === 0 ? 0 : 1;
