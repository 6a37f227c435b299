/**
 * Jobs and runs per drop, and the usage behind the cost per 1,000 documents: Chartflow's batching
 * against one job per file with a fixed 30 s poll (the public samples' way), both measured on the
 * same offline runtime.
 */
import { defaultConfig } from '../lib/config.js';
import { costBreakdown, totalUsd, type CostLine, type Usage } from './cost.js';
import { cmUnits } from './cost.js';
import { generateNotes } from './corpus.js';
import { BenchRuntime, type DropResult } from './pipeline.js';
import { FIXED_30S_CONTEXT } from './polling.js';

export interface DropCounts {
  documents: number;
  batchSize: number;
  batches: number;
  comprehendJobs: number;
  lambdaInvocations: number;
  executions: number;
  matchingRuns: number;
  /** Largest number of batches a matching run covered. */
  maxBatchesPerRun: number;
  failedBatches: number;
  virtualMinutes: number;
  realSeconds: number;
  targets: { jobsMax: number; jobsOk: boolean };
}

export function dropCounts(result: DropResult, batchSize: number): DropCounts {
  const s = result.summary;
  const jobsMax = 2 * Math.ceil(result.usage.documents / batchSize);
  return {
    documents: result.usage.documents,
    batchSize,
    batches: s.batches.length,
    comprehendJobs: s.comprehendJobs,
    lambdaInvocations: result.lambda.requests,
    executions: result.executions.length,
    matchingRuns: s.matchingRuns.length,
    maxBatchesPerRun: Math.max(0, ...s.matchingRuns.map((r) => r.batches)),
    failedBatches: s.batches.filter((b) => b.status === 'FAILED').length,
    virtualMinutes: s.virtualMinutes,
    realSeconds: result.realSeconds,
    targets: { jobsMax, jobsOk: s.comprehendJobs <= jobsMax },
  };
}

/** `documents` small notes dropped in waves over a few virtual minutes, Chartflow's defaults. */
export async function benchDrop(documents: number, options: { jobMinutes: number; waves: number; spacingSeconds: number }): Promise<DropResult> {
  const bench = await BenchRuntime.start({ faults: `cm.jobMinutes=${options.jobMinutes}` });
  try {
    const t0 = performance.now();
    await bench.drop(generateNotes({ count: documents, small: true, seed: 11 }), { waves: options.waves, spacingSeconds: options.spacingSeconds });
    return await bench.measure((performance.now() - t0) / 1000);
  } finally {
    await bench.close();
  }
}

/**
 * One job per file with a fixed 30 s poll, on the same definitions: batches of one document,
 * no batching window, the fixed schedule. Throttling by the 10-active-jobs limit is real here.
 */
export async function benchOneJobPerFile(documents: number, options: { jobMinutes: number }): Promise<DropResult> {
  const bench = await BenchRuntime.start({
    faults: `cm.jobMinutes=${options.jobMinutes}`,
    context: { ...FIXED_30S_CONTEXT, 'chartflow:batchSize': 1, 'chartflow:batchingWindowSeconds': 0 },
  });
  try {
    const t0 = performance.now();
    await bench.drop(generateNotes({ count: documents, small: true, seed: 13 }));
    return await bench.measure((performance.now() - t0) / 1000);
  } finally {
    await bench.close();
  }
}

export interface CostComparison {
  assumptions: string[];
  chartflow: { lines: CostLine[]; totalUsd: number };
  oneJobPerFile: { lines: CostLine[]; totalUsd: number };
}

/**
 * Cost per 1,000 documents. Infrastructure usage is measured (small notes); Comprehend Medical
 * units come from the realistic corpus, since they depend only on the characters. The per-file
 * way's Entity Resolution is charged one record per file (a run per file over its own record:
 * the cheapest reading of "one run per file").
 */
export function compareCosts(chartflow: DropResult, perFile: DropResult, realisticCharacters: number[]): CostComparison {
  const unitsPerDoc = realisticCharacters.reduce((n, c) => n + cmUnits(c), 0) / realisticCharacters.length;
  const withUnits = (u: Usage): Usage => ({ ...u, nereUnits: unitsPerDoc * u.documents, snomedUnits: unitsPerDoc * u.documents });
  const perFileUsage: Usage = { ...withUnits(perFile.usage), matchingRecords: perFile.usage.documents };
  const lines = costBreakdown(withUnits(chartflow.usage), 1000);
  const perFileLines = costBreakdown(perFileUsage, 1000);
  return {
    assumptions: [
      `Comprehend Medical units: ${unitsPerDoc.toFixed(1)} per document (the realistic corpus), for both jobs`,
      `Chartflow: batches of up to ${defaultConfig.batchSize}, detection poll ${JSON.stringify(defaultConfig.detectionPoll)}`,
      'one job per file: batch size 1, no batching window, fixed 30 s poll; Entity Resolution one record per file',
      'Lambda GB-s: local handler wall time at each function memory (an upper bound: emulator work shares the process)',
      'DynamoDB: one request unit per item read or written (BatchGetItem and BatchWriteItem per item; items under 1 KB except batch items); free tiers ignored',
    ],
    chartflow: { lines, totalUsd: totalUsd(lines) },
    oneJobPerFile: { lines: perFileLines, totalUsd: totalUsd(perFileLines) },
  };
}
