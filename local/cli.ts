/**
 * `chartflow` — the offline runtime's command line.
 *
 *   chartflow start [files or folders...] [--data-dir DIR] [--faults SPEC]
 *       Start everything, drop the files (default: samples/) into inbox/, follow the batches,
 *       print a summary, stop. Exit status 1 when a batch failed.
 *   chartflow up [--data-dir DIR] [--faults SPEC]
 *       Start the emulators and keep them running; prints ONE line of JSON with the endpoints,
 *       region and credentials. Objects put under inbox/ are processed as on AWS. Ctrl-C stops.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Prefix } from '../contracts/layout.js';
import { FAULT_NAMES, parseFaults } from './faults.js';
import type { EventEnvelope } from './emulators/eventbridge.js';
import { LocalRuntime, LOCAL_REGION } from './runtime/runtime.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { formatSummary, scanAll, summarize } from './runtime/summary.js';

const UPLOAD_CONCURRENCY = 8;

interface Args {
  command: string;
  paths: string[];
  dataDir: string;
  faults?: string;
}

const USAGE = `usage: chartflow start [files or folders...] [--data-dir DIR] [--faults SPEC]
       chartflow up [--data-dir DIR] [--faults SPEC]
faults (name=value, comma-separated; see the README's Guarantees): ${FAULT_NAMES.join(', ')}`;

export function parseArgs(argv: string[]): Args {
  // No command, only options (`chartflow --help`, `chartflow --faults ...`): start.
  const [command = 'start', ...rest] = argv[0]?.startsWith('-') ? ['start', ...argv] : argv;
  const args: Args = { command, paths: [], dataDir: '.chartflow' };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--data-dir' || arg === '--faults') {
      const value = rest[++i];
      if (value === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      if (arg === '--data-dir') args.dataDir = value;
      else args.faults = value;
    } else if (arg.startsWith('--data-dir=')) args.dataDir = arg.slice('--data-dir='.length);
    else if (arg.startsWith('--faults=')) args.faults = arg.slice('--faults='.length);
    else if (arg === '-h' || arg === '--help') throw new Error(USAGE);
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else args.paths.push(arg);
  }
  if (!['start', 'up'].includes(args.command)) throw new Error(`unknown command ${args.command}\n${USAGE}`);
  return args;
}

/** Files to drop: every regular file under the given paths (README.md of the samples excepted). */
export function collectFiles(paths: string[]): Array<{ file: string; key: string }> {
  const files: Array<{ file: string; key: string }> = [];
  const visit = (file: string, base: string) => {
    const stat = statSync(file);
    if (stat.isDirectory()) {
      for (const name of readdirSync(file).sort()) visit(path.join(file, name), base);
    } else if (stat.isFile() && !(path.basename(file) === 'README.md')) {
      files.push({ file, key: `${Prefix.inbox}${path.relative(base, file).split(path.sep).join('/')}` });
    }
  };
  for (const p of paths) {
    const stat = statSync(p); // throws ENOENT with the path: a clear error
    visit(p, stat.isDirectory() ? p : path.dirname(p));
  }
  return files;
}

function progress(runtime: LocalRuntime) {
  const started = runtime.scheduler.clock.now();
  const stamp = () => {
    const s = Math.round((runtime.scheduler.clock.now() - started) / 1000);
    return `+${String(Math.floor(s / 60)).padStart(3, ' ')}m${String(s % 60).padStart(2, '0')}s`;
  };
  return (event: EventEnvelope) => {
    const d = event.detail as Record<string, unknown>;
    const line = (() => {
      switch (event['detail-type']) {
        case 'Document Rejected': return `rejected   ${String(d.key)} (${String(d.reason)})`;
        case 'Batch Submitted': return `submitted  batch ${String(d.batchId)}: ${String(d.documentCount)} documents, ${d.entitiesJobId ? 'jobs started' : 'jobs pending (throttled)'}`;
        case 'Matching Completed': return `matching   run ${String(d.runId)} ${String(d.status)}: ${String((d.batchIds as string[]).length)} batch(es), ${String(d.inputRecords)} records, ${String(d.matchIDs)} match ids`;
        case 'Batch Completed': return `completed  batch ${String(d.batchId)}: ${String(d.processedCount)} processed, ${String(d.entityCount)} entities, ${String(d.snomedConceptCount)} SNOMED CT`;
        case 'Batch Failed': return `FAILED     batch ${String(d.batchId)}: ${String(d.error)} ${String(d.cause)}`;
        default: return `${event['detail-type']}`;
      }
    })();
    process.stdout.write(`[virtual ${stamp()}] ${line}\n`);
  };
}

async function start(args: Args): Promise<number> {
  const files = collectFiles(args.paths.length > 0 ? args.paths : ['samples']);
  const t0 = Date.now();
  process.stdout.write(`Chartflow (offline): synthesizing the stack and starting the emulators...\n`);
  const listeners: Array<(e: EventEnvelope) => void> = [];
  const runtime = await LocalRuntime.start({ dataDir: args.dataDir, faults: parseFaults(args.faults), onEvent: (e) => listeners.forEach((l) => l(e)) });
  listeners.push(progress(runtime));
  try {
    process.stdout.write(`Dropping ${files.length} files into s3://${runtime.bucketName}/${Prefix.inbox}\n`);
    const s3 = runtime.s3Client();
    // Tracked, so the virtual clock does not run the batching window out while files arrive.
    await runtime.scheduler.track((async () => {
      // A few uploads in flight at a time (as a sync client would): the server's disk work overlaps.
      for (let i = 0; i < files.length; i += UPLOAD_CONCURRENCY) {
        await Promise.all(files.slice(i, i + UPLOAD_CONCURRENCY).map(({ file, key }) =>
          s3.send(new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: readFileSync(file) }))));
      }
    })());
    await runtime.settled();
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, region: LOCAL_REGION, credentials: runtime.credentials });
    const items = await scanAll(dynamo, runtime.tableName);
    dynamo.destroy();
    const summary = await summarize(runtime, items);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    process.stdout.write(`\n${formatSummary(summary)}\nReal time: ${seconds} s. Outputs, table and events: ${path.resolve(args.dataDir)}\n`);
    mkdirSync(args.dataDir, { recursive: true });
    writeFileSync(path.join(args.dataDir, 'summary.json'), `${JSON.stringify({ ...summary, realSeconds: Number(seconds) }, null, 2)}\n`);
    // The table as JSON lines, for reading without a DynamoDB client (dynamodb/ holds dynalite's files).
    writeFileSync(path.join(args.dataDir, 'table.jsonl'), items.map((item) => JSON.stringify(item)).join('\n') + '\n');
    // Failure: a batch failed, or some dropped file ended neither processed nor rejected.
    const failed = summary.batches.some((b) => b.status === 'FAILED');
    const unaccounted = files.length - summary.documents.processed - summary.documents.rejected - summary.documents.unprocessed;
    return failed || unaccounted > 0 ? 1 : 0;
  } finally {
    await runtime.stop();
  }
}

async function up(args: Args): Promise<number> {
  const runtime = await LocalRuntime.start({ dataDir: args.dataDir, faults: parseFaults(args.faults), fresh: false });
  process.stdout.write(`${JSON.stringify({
    ...runtime.endpoints,
    region: LOCAL_REGION,
    credentials: runtime.credentials,
    bucket: runtime.bucketName,
    table: runtime.tableName,
    eventBus: runtime.busName,
    stateMachineArn: runtime.stateMachineArn,
  })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await runtime.stop();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  // The local runtime synthesizes only to read the template: CDK's CloudFormation validation
  // plugin (a WebAssembly rule engine, ~3 s) adds nothing here; `cdk synth` in CI still runs it.
  process.env.CDK_VALIDATION ??= 'false';
  return args.command === 'up' ? up(args) : start(args);
}

/** Runs the CLI and turns any error into a one-line message and exit status 2. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    process.stderr.write(`chartflow: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

if (process.argv[1] && /cli\.(ts|js)$/.test(process.argv[1])) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
