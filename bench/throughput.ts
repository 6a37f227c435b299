/**
 * Throughput of the offline runtime, end to end as a user runs it (`chartflow start <folder>` in
 * a child process, wall time), and of the NLP engine alone through its public API.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectEntitiesV2, inferSnomedCt } from '../local/nlp/index.js';
import { generateNotes, writeCorpus } from './corpus.js';
import { removeScratch, scratchDir } from './scratch.js';

export interface EndToEnd {
  documents: number;
  megabytes: number;
  wallSeconds: number;
  docsPerSecond: number;
  processed: number;
  exitCode: number;
  /** User + system CPU time of the whole process tree (undefined if it could not be read). */
  cpuSeconds?: number;
  /** What the CLI reported as its own real time (synthesis and emulator start-up included). */
  cliSeconds?: number;
}

/** Runs the CLI on `documents` generated notes and times the whole process. */
export async function benchEndToEnd(documents: number, seed = 21): Promise<EndToEnd> {
  const root = scratchDir('chartflow-throughput-');
  try {
    const notesDir = path.join(root, 'notes');
    const bytes = writeCorpus(notesDir, generateNotes({ count: documents, seed }));
    const dataDir = path.join(root, 'data');
    const timesFile = path.join(root, 'times.txt');
    const t0 = performance.now();
    // bash's `time` reports the CPU time of the whole process tree (npx, tsx, the CLI): on a busy
    // machine wall time is inflated, CPU time much less. The CLI's stderr goes to the same file.
    const exitCode = await new Promise<number>((resolve, reject) => {
      const script = 'TIMEFORMAT="%U %S"; { time npx tsx local/cli.ts start "$1" --data-dir "$2" >/dev/null 2>&1; } 2>"$3"';
      const child = spawn('bash', ['-c', script, 'bench', notesDir, dataDir, timesFile], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? 1));
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    const [user, system] = (readFileSync(timesFile, 'utf8').trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    const summary = JSON.parse(readFileSync(path.join(dataDir, 'summary.json'), 'utf8')) as { documents: { processed: number }; realSeconds?: number };
    return {
      documents,
      megabytes: bytes / 1e6,
      wallSeconds,
      docsPerSecond: documents / wallSeconds,
      processed: summary.documents.processed,
      exitCode,
      cpuSeconds: user !== undefined && system !== undefined && Number.isFinite(user + system) ? user + system : undefined,
      cliSeconds: summary.realSeconds,
    };
  } finally {
    removeScratch(root);
  }
}

export interface NlpThroughput {
  megabytes: number;
  documents: number;
  entitiesMBps: number;
  snomedMBps: number;
  /** First call: lexicon load and trie build. */
  warmUpMs: number;
}

/** MB/s of DetectEntitiesV2 and InferSNOMEDCT on distinct generated notes. */
export function benchNlp(documents: number): NlpThroughput {
  const notes = generateNotes({ count: documents, seed: 31 }).map(([, text]) => text);
  const bytes = notes.reduce((n, t) => n + Buffer.byteLength(t), 0);
  let t0 = performance.now();
  detectEntitiesV2('warm up: lexicons load on the first call');
  inferSnomedCt('warm up');
  const warmUpMs = performance.now() - t0;
  t0 = performance.now();
  for (const text of notes) detectEntitiesV2(text);
  const entitiesSeconds = (performance.now() - t0) / 1000;
  // Different texts from the entity pass, so that no cached analysis is reused.
  t0 = performance.now();
  for (const text of notes) inferSnomedCt(`${text} `);
  const snomedSeconds = (performance.now() - t0) / 1000;
  return {
    megabytes: bytes / 1e6,
    documents,
    entitiesMBps: bytes / 1e6 / entitiesSeconds,
    snomedMBps: bytes / 1e6 / snomedSeconds,
    warmUpMs,
  };
}
