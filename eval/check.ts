// Checks the annotations of eval/notes/ without running the engine (annotators use it while
// writing notes, so that they stay blind to the engine's output). Run: npx tsx eval/check.ts
import { checkNote, loadNotes } from './gold.js';

const notes = loadNotes();
const problems = notes.flatMap(checkNote);
for (const p of problems) console.error(p);
const entities = notes.reduce((n, note) => n + note.entities.length, 0);
console.log(`${notes.length} notes, ${entities} gold entities, ${problems.length} problems`);
process.exitCode = problems.length === 0 ? 0 : 1;
