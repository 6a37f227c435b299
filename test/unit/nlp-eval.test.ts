// Holds the offline NLP engine's quality: evaluates every annotated note in eval/notes/ and fails
// when a figure drops below its floor in eval/floors.json (see eval/floors.ts).
import { readFileSync } from 'node:fs';
import { evaluate, figure, type EvalReport } from '../../eval/evaluate.js';
import { FLOORS_FILE, TARGETS, type Floors } from '../../eval/floors.js';
import { checkNote, loadNotes } from '../../eval/gold.js';

const floors = JSON.parse(readFileSync(FLOORS_FILE, 'utf8')) as Floors;
const notes = loadNotes();
let report: EvalReport;

beforeAll(() => {
  report = evaluate(notes);
});

describe('NLP evaluation', () => {
  it('has sound annotations and every note the floors were set on', () => {
    expect(notes.flatMap(checkNote)).toEqual([]);
    expect(notes.length).toBeGreaterThanOrEqual(floors.notes);
  });

  it.each(Object.entries(floors.floors))('%s stays at or above %d', (path, floor) => {
    const value = figure(report, path);
    expect(value).toBeDefined();
    expect(value).toBeGreaterThanOrEqual(floor);
  });

  it('never sets a floor below a target the engine meets', () => {
    for (const [path, target] of Object.entries(TARGETS)) {
      const floor = floors.floors[path];
      const value = figure(report, path) ?? 0;
      if (floor !== undefined && value >= target) expect(floor).toBeGreaterThanOrEqual(target);
    }
  });
});
