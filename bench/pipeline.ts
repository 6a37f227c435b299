/**
 * Runs the synthesized stack on the offline runtime for a benchmark and measures what AWS would
 * bill: state transitions and history events per execution, Lambda requests and their durations
 * at each function's memory, requests per service (bench/meter.ts), events, Comprehend Medical
 * jobs, matching runs. Drops can be spread over virtual time.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { Prefix } from '../contracts/layout.js';
import { parseFaults, type FaultSpec } from '../local/faults.js';
import { LocalRuntime } from '../local/runtime/runtime.js';
import { summarize, type RunSummary } from '../local/runtime/summary.js';
import { cmUnits, sqsRequestsFor, type Usage } from './cost.js';
import { startMeter, total, type Meter, type RequestCounts } from './meter.js';
import { removeScratch, scratchDir } from './scratch.js';

export interface ExecutionMeasure {
  name: string;
  status: string;
  transitions: number;
  historyEvents: number;
  startMs: number;
  stopMs?: number;
  history: HistoryEvent[];
}

export interface DropResult {
  summary: RunSummary;
  executions: ExecutionMeasure[];
  requests: RequestCounts;
  lambda: { requests: number; gbSeconds: number; byFunction: Record<string, { requests: number; seconds: number; memoryMb: number }> };
  comprehendJobs: ReturnType<LocalRuntime['comprehendJobs']>;
  usage: Usage;
  realSeconds: number;
}

/** A runtime in a fresh temporary folder, with metering; `close()` stops it and removes the folder. */
export class BenchRuntime {
  private readonly lambdaStats: DropResult['lambda']['byFunction'] = {};
  private meter: Meter | undefined;
  private dropped = 0;
  private characters: number[] = [];

  private constructor(readonly runtime: LocalRuntime, readonly faults: FaultSpec, private readonly dataDir: string) {
    // Lambda duration at the function's configured memory, as Lambda bills it.
    const memory = new Map<string, number>();
    for (const id of runtime.resolver.ofType('AWS::Lambda::Function')) {
      memory.set(runtime.resolver.ref(id), Number(runtime.resolver.properties(id).MemorySize ?? 128));
    }
    const invoke = runtime.invoke.bind(runtime);
    runtime.invoke = async (name: string, payload: unknown) => {
      const started = performance.now();
      try {
        return await invoke(name, payload);
      } finally {
        const fn = [...memory.keys()].find((n) => name === n || name.includes(`:function:${n}`)) ?? name;
        const stat = (this.lambdaStats[fn] ??= { requests: 0, seconds: 0, memoryMb: memory.get(fn) ?? 128 });
        stat.requests += 1;
        stat.seconds += (performance.now() - started) / 1000;
      }
    };
  }

  static async start(options: { context?: Record<string, unknown>; faults?: string } = {}): Promise<BenchRuntime> {
    const dataDir = scratchDir('chartflow-bench-');
    const faults = parseFaults(options.faults);
    process.env.CDK_VALIDATION ??= 'false'; // as the CLI does: the validation plugin only costs time here
    // Quiet Lambdas: the bench prints a table; failures show in the results.
    const runtime = await LocalRuntime.start({ dataDir, faults, context: options.context, lambdaLogLevel: 'ERROR' });
    return new BenchRuntime(runtime, faults, dataDir);
  }

  private ensureMeter(): void {
    const e = this.runtime.endpoints;
    this.meter ??= startMeter({ s3: e.s3, dynamodb: e.dynamodb, stepfunctions: e.stepfunctions, events: e.events, comprehendmedical: e.comprehendmedical, entityresolution: e.entityresolution });
  }

  /**
   * Drops notes into inbox/ in `waves` equal waves `spacingSeconds` of virtual time apart (each
   * wave's uploads are tracked, so the batching window does not run out mid-wave), then waits for
   * the pipeline to settle.
   */
  async drop(notes: Array<[string, string]>, options: { prefix?: string; waves?: number; spacingSeconds?: number } = {}): Promise<void> {
    this.ensureMeter();
    const s3 = this.runtime.s3Client();
    const waves = Math.max(1, options.waves ?? 1);
    const size = Math.ceil(notes.length / waves);
    for (let w = 0; w < waves; w++) {
      const wave = notes.slice(w * size, (w + 1) * size);
      await this.runtime.scheduler.track((async () => {
        // A few uploads at a time, as a user's sync client would.
        for (let i = 0; i < wave.length; i += 8) {
          await Promise.all(wave.slice(i, i + 8).map(([name, text]) =>
            s3.send(new PutObjectCommand({ Bucket: this.runtime.bucketName, Key: `${Prefix.inbox}${options.prefix ?? ''}${name}`, Body: text }))));
        }
      })());
      this.dropped += wave.length;
      this.characters.push(...wave.map(([, text]) => text.length));
      if (w < waves - 1) await this.runtime.scheduler.sleep((options.spacingSeconds ?? 30) * 1000);
    }
    await this.runtime.settled();
  }

  /** Every execution so far, with its history. */
  executions(): ExecutionMeasure[] {
    const sfn = this.runtime.sfn;
    const list: ExecutionMeasure[] = [];
    let token: string | undefined;
    do {
      const page = sfn.listExecutions({ stateMachineArn: this.runtime.stateMachineArn, nextToken: token, maxResults: 1000 });
      for (const e of page.executions) {
        const stats = sfn.getExecutionStats(e.executionArn!);
        const history: HistoryEvent[] = [];
        let next: string | undefined;
        do {
          const h = sfn.getExecutionHistory({ executionArn: e.executionArn!, maxResults: 1000, nextToken: next });
          history.push(...h.events);
          next = h.nextToken;
        } while (next);
        list.push({
          name: e.name!,
          status: stats.status,
          transitions: stats.stateTransitions,
          historyEvents: history.length,
          startMs: stats.startDate.getTime(),
          stopMs: stats.stopDate?.getTime(),
          history,
        });
      }
      token = page.nextToken;
    } while (token);
    return list;
  }

  /** Everything measured so far (the meter stops: the summary's own reads are not counted). */
  async measure(realSeconds: number): Promise<DropResult> {
    const requests = this.meter?.counts() ?? {};
    this.meter?.stop();
    this.meter = undefined;
    const summary = await summarize(this.runtime);
    const executions = this.executions();
    const byFunction = structuredClone(this.lambdaStats);
    const lambdaRequests = Object.values(byFunction).reduce((n, f) => n + f.requests, 0);
    const gbSeconds = Object.values(byFunction).reduce((n, f) => n + f.seconds * (f.memoryMb / 1024), 0);
    // Batch operations are billed per item (the meter's `<op> items`), the others per request.
    const writes = (op: string) => ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem items'].includes(op);
    const reads = (op: string) => ['GetItem', 'Query', 'Scan', 'BatchGetItem items'].includes(op);
    // Both jobs read every document of a batch (the notes dropped here are all valid).
    const units = this.characters.reduce((n, c) => n + cmUnits(c), 0);
    const usage: Usage = {
      documents: this.dropped,
      stateTransitions: executions.reduce((n, e) => n + e.transitions, 0),
      lambdaRequests,
      lambdaGbSeconds: gbSeconds,
      sqsRequests: sqsRequestsFor(this.dropped),
      // One unit per item read or written: items here are under 1 KB, except the batch item (its document list).
      dynamoWriteUnits: total(requests, 'dynamodb', writes),
      dynamoReadUnits: total(requests, 'dynamodb', reads),
      events: this.runtime.eventsSeen().length,
      s3Writes: total(requests, 's3', (op) => /^(PUT|COPY|POST|LIST)\b/.test(op)),
      s3Reads: total(requests, 's3', (op) => /^(GET|HEAD)\b/.test(op)),
      nereUnits: units,
      snomedUnits: units,
      matchingRecords: summary.matchingRuns.reduce((n, r) => n + (r.inputRecords ?? 0), 0),
    };
    return {
      summary,
      executions,
      requests,
      lambda: { requests: lambdaRequests, gbSeconds, byFunction },
      comprehendJobs: this.runtime.comprehendJobs(),
      usage,
      realSeconds,
    };
  }

  async close(): Promise<void> {
    this.meter?.stop();
    await this.runtime.stop();
    removeScratch(this.dataDir);
  }
}
