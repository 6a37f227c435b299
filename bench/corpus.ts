/**
 * Sample-like notes for the benchmarks: the synthetic notes of samples/ with their identities
 * (name, date of birth, MRN, phone, e-mail, address) replaced by generated, equally synthetic ones
 * — a pool of patients who recur across notes, so that matching has work — and a varied addendum.
 * Deterministic for a seed. Phones stay in the fictional 555-01xx range, e-mails on example.*.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { collectFiles } from '../local/cli.js';
import { seededRandom } from '../local/faults.js';

const FIRST = ['Ana', 'Ben', 'Carla', 'David', 'Elena', 'Farid', 'Grace', 'Hugo', 'Irene', 'Jonas', 'Keiko', 'Luis', 'Maya', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Samuel', 'Tara', 'Umar', 'Vera', 'Walter', 'Ximena', 'Yusuf', 'Zoe'];
const LAST = ['Abbott', 'Baptiste', 'Castillo', 'Dubois', 'Eriksen', 'Fontaine', 'Goldberg', 'Haddad', 'Ivanova', 'Jensen', 'Kowalczyk', 'Lindqvist', 'Moreau', 'Nakamura', 'Okonkwo', 'Petrov', 'Quintero', 'Rossi', 'Sato', 'Tanaka', 'Ulloa', 'Varga', 'Whitfield', 'Xu', 'Yilmaz', 'Zamora'];
const STREETS = ['Birch', 'Cedar', 'Chestnut', 'Elm', 'Harbor', 'Highland', 'Lakeview', 'Maple', 'Orchard', 'Pine', 'Ridge', 'Willow'];
const STREET_TYPES = ['Street', 'Avenue', 'Road', 'Lane', 'Court', 'Terrace'];
const TOWNS = ['Quincy', 'Newton', 'Braintree', 'Medford', 'Waltham', 'Somerville', 'Dedham', 'Malden'];
const ADDENDA = [
  'Addendum: patient called back, reports feeling better; no new symptoms.',
  'Addendum: labs reviewed, potassium 4.1, creatinine 0.9, no change to plan.',
  'Addendum: discussed smoking cessation; declines nicotine replacement for now.',
  'Addendum: medication list reconciled with pharmacy; lisinopril 10 mg po daily confirmed.',
  'Addendum: follow-up appointment scheduled in 2 weeks; return precautions reviewed.',
  'Addendum: denies chest pain, shortness of breath or fever on telephone check.',
];

export interface Patient {
  name: string;
  dob: string;
  mrn: string;
  phone: string;
  email: string;
  address: string;
}

export interface CorpusOptions {
  count: number;
  seed?: number;
  /** Notes per patient on average (patients recur across notes). Default 3. */
  notesPerPatient?: number;
  /** Keep only the header and the first lines of each note (fast counting runs). */
  small?: boolean;
}

/** The valid sample notes (samples/bad/ holds rejects and one awkwardly named valid note). */
function sampleNotes(): string[] {
  return collectFiles(['samples'])
    .filter(({ key }) => !key.startsWith('inbox/bad/'))
    .map(({ file }) => readFileSync(file, 'utf8'));
}

function patients(count: number, random: () => number): Patient[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
  return Array.from({ length: count }, (_, i) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const year = 1935 + Math.floor(random() * 70);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    return {
      name: `${first} ${last}`,
      dob: `${String(month).padStart(2, '0')}/${String(day).padStart(2, '0')}/${year}`,
      mrn: `${1 + Math.floor(random() * 9)}${digits(5)}`,
      phone: `(617) 555-01${String(i % 100).padStart(2, '0')}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}${year % 100}@example.org`,
      address: `${1 + Math.floor(random() * 400)} ${pick(STREETS)} ${pick(STREET_TYPES)}, ${pick(TOWNS)}, MA 02${digits(3)}`,
    };
  });
}

/** Replaces the identity in a note's header with `p`'s (the labels the samples use). */
export function withIdentity(note: string, p: Patient): string {
  const lines = note.split('\n');
  const header = lines.slice(0, 12).map((line) =>
    line
      .replace(/^((?:Patient(?: name)?|PATIENT|Name|Pt):\s*)(.*?)(\s{2,}|$)/, (_m, label: string, _old: string, rest: string) => `${label}${p.name}${rest}`)
      .replace(/((?:DOB|Date of birth):\s*)(.*?)(\s{2,}|$)/, (_m, label: string, _old: string, rest: string) => `${label}${p.dob}${rest}`)
      .replace(/(MRN:\s*)\d+/, `$1${p.mrn}`)
      .replace(/^((?:Phone|PHONE):\s*).*$/, `$1${p.phone}`)
      .replace(/^((?:Email|E-mail|EMAIL)[^:]*:\s*).*$/, `$1${p.email}`)
      .replace(/^((?:Address|ADDRESS):\s*).*$/, `$1${p.address}`),
  );
  return [...header, ...lines.slice(12)].join('\n');
}

/** Generates `count` notes in memory: [relative file name, text]. */
export function generateNotes(options: CorpusOptions): Array<[string, string]> {
  const random = seededRandom(options.seed ?? 7);
  const samples = sampleNotes();
  const pool = patients(Math.max(1, Math.ceil(options.count / (options.notesPerPatient ?? 3))), random);
  const notes: Array<[string, string]> = [];
  for (let i = 0; i < options.count; i++) {
    const base = samples[i % samples.length]!;
    const patient = pool[Math.floor(random() * pool.length)]!;
    let text = withIdentity(base, patient);
    if (options.small) text = text.split('\n').slice(0, 16).join('\n');
    text += `\n${ADDENDA[Math.floor(random() * ADDENDA.length)]!}\n`;
    notes.push([`clinic-${i % 7}/note-${String(i).padStart(6, '0')}.txt`, text]);
  }
  return notes;
}

/** Writes the notes under `dir` (sub-folders per clinic); returns their total size in bytes. */
export function writeCorpus(dir: string, notes: Array<[string, string]>): number {
  let bytes = 0;
  for (const [name, text] of notes) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    bytes += Buffer.byteLength(text);
  }
  return bytes;
}
