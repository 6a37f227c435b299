/**
 * The Lambda bundles as the stack builds them (esbuild with HouseFunction's options), their size,
 * what is inside (from esbuild's metafile), and their cold module-load time in a fresh Node
 * process (median of a few), as a Lambda cold start pays it before the first event.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Env } from '../contracts/env.js';
import { LAMBDA_BUNDLING } from '../lib/constructs/house-function.js';
import { scratchDir, removeScratch } from './scratch.js';

export interface BundleReport {
  name: string;
  bytes: number;
  mapBytes: number;
  /** Median of `samples` fresh-process imports, in ms (wall time). */
  loadMs: number;
  samples: number[];
  /** Median CPU time (user + system) of the same imports, in ms: what a busy machine does not inflate. */
  cpuMs: number;
  /** Bytes of the bundle per package (or `lambdas`), largest first. */
  packages: Array<{ name: string; bytes: number }>;
  /** Inputs that no Lambda should carry (CDK, the local runtime, test code). */
  unexpected: string[];
}

/** HouseFunction's bundling (LAMBDA_BUNDLING), as esbuild options. */
export const HOUSE_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: LAMBDA_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
  target: LAMBDA_BUNDLING.target,
  minify: LAMBDA_BUNDLING.minify,
  sourcemap: LAMBDA_BUNDLING.sourceMap,
  sourcesContent: LAMBDA_BUNDLING.sourcesContent,
  mainFields: LAMBDA_BUNDLING.mainFields,
  banner: { js: LAMBDA_BUNDLING.banner },
  external: LAMBDA_BUNDLING.externalModules,
  metafile: true,
  logLevel: 'silent',
};

/** Package of a metafile input path (`node_modules/@scope/name/...` -> `@scope/name`). */
export function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/')[0] ?? input;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

export function packagesOf(metafile: Metafile, outfile: string): Array<{ name: string; bytes: number }> {
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(path.basename(outfile)));
  const sizes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.[1].inputs ?? {})) {
    sizes.set(packageOf(input), (sizes.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

const UNEXPECTED = [/^local\//, /^lib\//, /^test\//, /^bench\//, /node_modules\/aws-cdk-lib\//, /node_modules\/constructs\//, /node_modules\/esbuild\//];

/** Environment a handler module may read at load time, with the NODE_OPTIONS the stack sets. */
function handlerEnvironment(): Record<string, string> {
  const env: Record<string, string> = { ...process.env } as Record<string, string>;
  for (const name of Object.values(Env)) env[name] = name === Env.MaxDocumentBytes || name === Env.MaxBatchDocuments || name === Env.MatchingLockSeconds ? '100' : `bench-${name.toLowerCase()}`;
  Object.assign(env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', POWERTOOLS_LOG_LEVEL: 'ERROR', NODE_OPTIONS: '--enable-source-maps' });
  return env;
}

/** Imports the bundle in a fresh process `runs` times; each load's wall and CPU time in ms. */
export function loadTimes(file: string, runs: number): Array<{ wallMs: number; cpuMs: number }> {
  const script = `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); const w = performance.now() - t; const u = process.cpuUsage(c); process.stdout.write(JSON.stringify([w, (u.user + u.system) / 1000]));`;
  const env = handlerEnvironment();
  return Array.from({ length: runs }, () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`loading ${path.basename(file)} failed: ${result.stderr.split('\n').slice(0, 3).join(' ')}`);
    const [wallMs, cpuMs] = JSON.parse(result.stdout) as [number, number];
    return { wallMs, cpuMs };
  });
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function benchBundles(runs: number): Promise<BundleReport[]> {
  const out = scratchDir('chartflow-bundles-');
  try {
    const names = readdirSync('lambdas').filter((n) => n !== 'shared' && statSync(path.join('lambdas', n, 'handler.ts'), { throwIfNoEntry: false }));
    const reports: BundleReport[] = [];
    for (const name of names.sort()) {
      const outfile = path.join(out, name, 'index.mjs');
      const { metafile } = await build({ ...HOUSE_BUNDLING, entryPoints: [path.join('lambdas', name, 'handler.ts')], outfile });
      if (!metafile) throw new Error(`esbuild gave no metafile for ${name}`);
      const loads = loadTimes(outfile, runs);
      const samples = loads.map((l) => l.wallMs);
      const inputs = Object.keys(metafile.inputs);
      reports.push({
        name,
        bytes: statSync(outfile).size,
        mapBytes: statSync(`${outfile}.map`).size,
        loadMs: median(samples),
        samples,
        cpuMs: median(loads.map((l) => l.cpuMs)),
        packages: packagesOf(metafile, outfile),
        unexpected: inputs.filter((i) => UNEXPECTED.some((re) => re.test(i))),
      });
    }
    return reports;
  } finally {
    removeScratch(out);
  }
}
