/**
 * PHI never leaks (issue 5, item 4). The samples (names, dates of birth, phone numbers, MRNs,
 * addresses, e-mails) run through the offline pipeline with the Lambdas logging at DEBUG; then
 * every place that must hold ids and counts only is read back through the real SDK clients and
 * scanned for the samples' PHI values (test/fixtures/phi/needles.json), PHI-shaped strings and any
 * 24-character window of any note:
 *
 * - every line written to stdout/stderr (the Lambdas' Powertools JSON logs, the emulators) and
 *   every call of the global console during the run;
 * - every event put on the bus (as delivered, and the archive file);
 * - every execution: DescribeExecution input/output and the full history with its data;
 * - every Comprehend Medical job: List*Jobs and Describe*Job (job names, descriptions);
 * - Entity Resolution: the workflow, ListMatchingJobs and GetMatchingJob;
 * - every DynamoDB item (document claims — our idempotency records —, batches, runs, the lock);
 * - every S3 key and object metadata; the contents of the Comprehend Medical manifests and of the
 *   Entity Resolution output (matches/); the run summary the CLI prints.
 *
 * Excluded (contents only; their keys and metadata are scanned): the documents themselves
 * (`inbox/`, their copies under `batches/<id>/input/` and `rejected/`), the `.out` files (entities
 * and PHI detected in the text, by design) and `records/` (the identity records Entity Resolution
 * matches on, by design). They are encrypted with the stack's key and readable only by the roles
 * that need them (test/stack/security.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ComprehendMedicalClient,
  DescribeEntitiesDetectionV2JobCommand,
  DescribeSNOMEDCTInferenceJobCommand,
  ListEntitiesDetectionV2JobsCommand,
  ListSNOMEDCTInferenceJobsCommand,
  type ComprehendMedicalAsyncJobProperties,
} from '@aws-sdk/client-comprehendmedical';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EntityResolutionClient, GetMatchingJobCommand, GetMatchingWorkflowCommand, ListMatchingJobsCommand, ListMatchingWorkflowsCommand } from '@aws-sdk/client-entityresolution';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { jest } from '@jest/globals';
import { Prefix } from '../../contracts/layout.js';
import { collectFiles } from '../../local/cli.js';
import { parseFaults } from '../../local/faults.js';
import { LOCAL_REGION, LocalRuntime } from '../../local/runtime/runtime.js';
import { scanAll, summarize } from '../../local/runtime/summary.js';
import { loadNeedles, occursIn, PhiScanner, type Hit } from '../support/phi-scan.js';

const files = collectFiles(['samples']);
const needles = loadNeedles(path.join(process.cwd(), 'test/fixtures/phi/needles.json'));
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The notes as text (the PDF scan is not text and has no window to leak). */
const notes = files.flatMap(({ file, key }) => {
  try {
    return [{ key, text: utf8.decode(readFileSync(file)) }];
  } catch {
    return [];
  }
}).filter((n) => n.text.length > 0);

/** Object contents that hold PHI by design (see the header); everything else is read and scanned. */
const contentExcluded = (key: string) =>
  key.startsWith(Prefix.inbox) || key.startsWith(Prefix.rejected) || key.startsWith(Prefix.records) ||
  /^batches\/[^/]+\/input\//.test(key) || key.endsWith('.out');

interface Haystack { source: string; text: string }
type Place = 'logs' | 'events' | 'executions' | 'jobs' | 'items' | 'objects';
const PLACES: Place[] = ['logs', 'events', 'executions', 'jobs', 'items', 'objects'];
const haystacks: Record<Place, Haystack[]> = { logs: [], events: [], executions: [], jobs: [], items: [], objects: [] };

/**
 * The scenarios. All the samples, with faults that take the error and retry paths (throttled and
 * failing Comprehend Medical calls, Entity Resolution throttling, Lambdas crashing mid-way) in
 * batches of 10, so that several batches coalesce into matching runs; then one clinic whose jobs
 * start only on the workflow's retry (ingest defers them) and end PARTIAL_SUCCESS (documents
 * UNPROCESSED, with the service's reasons) and one whose jobs FAIL
 * (Batch Failed events and error causes). Error paths are where text most often slips into logs.
 */
const SCENARIOS = [
  {
    name: 'samples',
    folders: ['samples'],
    faults: 'cm.throttle=0.3,cm.internal=0.1,er.throttle=0.2,crash=ingest:after-claim,crash=collect-results:records-written,crash=finalize:event-put,seed=7',
    context: { 'chartflow:batchSize': 10 },
  },
  // Every job start first finds the quota full, so ingest defers the jobs and start-jobs runs.
  { name: 'partial', folders: ['samples/clinic-south'], faults: 'cm.job=PARTIAL_SUCCESS,cm.busyStarts=3', context: {} },
  { name: 'failed', folders: ['samples/emergency', 'samples/bad'], faults: 'cm.job=FAILED', context: {} },
] as const;

interface ScenarioResult {
  logLines: string[];
  tableItems: Array<Record<string, unknown>>;
  objectKeys: string[];
  contentScanned: string[];
  executions: number;
  cmJobs: number;
  events: Array<{ 'detail-type': string }>;
}
const results: Record<string, ScenarioResult> = {};

/** Captures everything written to stdout/stderr and the global console while `work` runs. */
async function capturingOutput<T>(lines: string[], work: () => Promise<T>): Promise<T> {
  const pending = { stdout: '', stderr: '' };
  const writes = (['stdout', 'stderr'] as const).map((name) => {
    const stream = process[name];
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      pending[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const complete = pending[name].split('\n');
      pending[name] = complete.pop() ?? '';
      lines.push(...complete.filter((l) => l.trim() !== ''));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
    return () => { stream.write = original; };
  });
  const consoles = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => { lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')); }));
  try {
    return await work();
  } finally {
    for (const restore of writes) restore();
    for (const spy of consoles) spy.mockRestore();
    lines.push(...[pending.stdout, pending.stderr].filter((l) => l.trim() !== ''));
  }
}

/** Reads through the emulators' injected throttling and internal errors (a fault scenario's faults hit our reads too). */
async function persistently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const transient = error instanceof Error && /TooManyRequests|Throttling|InternalServer/.test(error.name);
      if (!transient || attempt >= 50) throw error;
    }
  }
}

/** An SDK response without its request metadata (request ids are not the service's data). */
const withoutMetadata = <T extends { $metadata: unknown }>(response: T): Omit<T, '$metadata'> => {
  const copy: Partial<T> = { ...response };
  delete copy.$metadata;
  return copy as Omit<T, '$metadata'>;
};

async function pages<T>(fetch: (token: string | undefined) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await persistently(() => fetch(token));
    all.push(...page.items);
    token = page.next;
  } while (token);
  return all;
}

/** Runs one scenario and reads back everything it left, into `haystacks` (sources tagged with the scenario). */
async function runScenario(scenario: (typeof SCENARIOS)[number]): Promise<ScenarioResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chartflow-phi-'));
  const tag = (source: string) => `[${scenario.name}] ${source}`;
  const add = (place: Place, source: string, text: string) => haystacks[place].push({ source: tag(source), text });
  const result: ScenarioResult = { logLines: [], tableItems: [], objectKeys: [], contentScanned: [], executions: 0, cmJobs: 0, events: [] };
  const dropped = collectFiles([...scenario.folders]);
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await capturingOutput(result.logLines, async () => {
      const rt = await LocalRuntime.start({ dataDir, lambdaLogLevel: 'DEBUG', faults: parseFaults(scenario.faults), context: { ...scenario.context } });
      const s3 = rt.s3Client();
      await rt.scheduler.track((async () => {
        for (const { file, key } of dropped) await s3.send(new PutObjectCommand({ Bucket: rt.bucketName, Key: key, Body: readFileSync(file) }));
      })());
      await rt.settled();
      return rt;
    });
    const rt = runtime;
    result.logLines.forEach((text, i) => add('logs', `log#${i}`, text));

    const clientConfig = { region: LOCAL_REGION, credentials: rt.credentials, maxAttempts: 1 };
    add('objects', 'run summary', JSON.stringify(await summarize(rt)));

    // Events: as delivered, and as archived for replay.
    for (const [i, e] of rt.eventsSeen().entries()) {
      result.events.push(e.event);
      add('events', `event#${i} ${e.event['detail-type']}`, JSON.stringify(e));
    }
    const archive = readFileSync(path.join(dataDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
    archive.forEach((text, i) => add('events', `archive#${i}`, text));

    // Executions: input, output and every history event with its data.
    const sfn = new SFNClient({ ...clientConfig, endpoint: rt.endpoints.stepfunctions });
    const executions = await pages(async (nextToken) => {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: rt.stateMachineArn, nextToken }));
      return { items: page.executions ?? [], next: page.nextToken };
    });
    result.executions = executions.length;
    for (const { executionArn } of executions) {
      const described = withoutMetadata(await sfn.send(new DescribeExecutionCommand({ executionArn })));
      add('executions', `execution ${described.name}`, JSON.stringify(described));
      const history = await pages(async (nextToken) => {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: true, maxResults: 100, nextToken }));
        return { items: page.events ?? [], next: page.nextToken };
      });
      for (const event of history) add('executions', `history ${described.name}#${event.id} ${event.type}`, JSON.stringify(event));
    }

    // Comprehend Medical jobs: names and full descriptions.
    const cm = new ComprehendMedicalClient({ ...clientConfig, endpoint: rt.endpoints.comprehendmedical });
    const entityJobs = await pages(async (NextToken) => {
      const page = await cm.send(new ListEntitiesDetectionV2JobsCommand({ NextToken }));
      return { items: page.ComprehendMedicalAsyncJobPropertiesList ?? [], next: page.NextToken };
    });
    const snomedJobs = await pages(async (NextToken) => {
      const page = await cm.send(new ListSNOMEDCTInferenceJobsCommand({ NextToken }));
      return { items: page.ComprehendMedicalAsyncJobPropertiesList ?? [], next: page.NextToken };
    });
    for (const j of [...entityJobs, ...snomedJobs]) add('jobs', `cm list ${j.JobName}`, JSON.stringify(j));
    const described: ComprehendMedicalAsyncJobProperties[] = [];
    for (const j of entityJobs) described.push((await persistently(() => cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: j.JobId })))).ComprehendMedicalAsyncJobProperties ?? {});
    for (const j of snomedJobs) described.push((await persistently(() => cm.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId: j.JobId })))).ComprehendMedicalAsyncJobProperties ?? {});
    for (const j of described) add('jobs', `cm describe ${j.JobName}`, JSON.stringify(j));
    result.cmJobs = described.length;

    // Entity Resolution: the workflow and every matching job.
    const er = new EntityResolutionClient({ ...clientConfig, endpoint: rt.endpoints.entityresolution });
    for (const { workflowName } of (await persistently(() => er.send(new ListMatchingWorkflowsCommand({})))).workflowSummaries ?? []) {
      const workflow = withoutMetadata(await persistently(() => er.send(new GetMatchingWorkflowCommand({ workflowName }))));
      add('jobs', `er workflow ${workflowName}`, JSON.stringify(workflow));
      const jobs = await pages(async (nextToken) => {
        const page = await er.send(new ListMatchingJobsCommand({ workflowName, nextToken }));
        return { items: page.jobs ?? [], next: page.nextToken };
      });
      for (const { jobId } of jobs) {
        const job = withoutMetadata(await persistently(() => er.send(new GetMatchingJobCommand({ workflowName, jobId }))));
        add('jobs', `er job ${jobId}`, JSON.stringify(job));
      }
    }

    // Every item of the table: document claims (the idempotency records), batches, runs, the lock.
    result.tableItems = await scanAll(new DynamoDBClient({ ...clientConfig, endpoint: rt.endpoints.dynamodb }), rt.tableName);
    for (const item of result.tableItems) add('items', `dynamodb ${String(item.pk)}/${String(item.sk)}`, JSON.stringify(item));

    // Every S3 key and its metadata; the contents that must carry no PHI.
    const s3 = rt.s3Client();
    result.objectKeys = await pages(async (ContinuationToken) => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: rt.bucketName, ContinuationToken }));
      return { items: (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])), next: page.NextContinuationToken };
    });
    for (const key of result.objectKeys) {
      add('objects', `s3 key ${key}`, key);
      const head = await s3.send(new HeadObjectCommand({ Bucket: rt.bucketName, Key: key }));
      add('objects', `s3 metadata ${key}`, JSON.stringify({ Metadata: head.Metadata, ContentType: head.ContentType, ContentDisposition: head.ContentDisposition, ContentEncoding: head.ContentEncoding }));
      if (contentExcluded(key)) continue;
      const body = await (await s3.send(new GetObjectCommand({ Bucket: rt.bucketName, Key: key }))).Body?.transformToString();
      add('objects', `s3 object ${key}`, body ?? '');
      result.contentScanned.push(key);
    }
    return result;
  } finally {
    await runtime?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  for (const scenario of SCENARIOS) results[scenario.name] = await runScenario(scenario);
}, 300_000);

describe('the needles are honest', () => {
  test('every PHI value of the fixture occurs in some sample note', () => {
    const absent = needles.filter((n) => !notes.some((note) => occursIn(n, note.text))).map((n) => `${n.kind}: ${n.value}`);
    expect(absent).toEqual([]);
  });

  test('every note that names a patient contributes needles', () => {
    const withoutNeedle = notes.filter((note) => !needles.some((n) => n.kind === 'mrn' && occursIn(n, note.text)) && /MRN/.test(note.text)).map((n) => n.key);
    expect(withoutNeedle).toEqual([]);
  });
});

describe('the capture is real and the scenarios ran', () => {
  const logJson = (name: string) => results[name]!.logLines.flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
  const lambdaLines = (name: string) => logJson(name).filter((l) => typeof l.function_name === 'string');

  test('the Lambdas logged at DEBUG level into the capture, from every function', () => {
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    const messages = new Set(lambdaLines('samples').map((l) => l.message));
    for (const expected of [
      'ingest finished', 'batch submitted', 'document rejected',
      'identity records written', 'results collected', 'matching run finished', 'batch completed',
    ]) expect(messages).toContain(expected);
    // The deferral path, made certain by cm.busyStarts (the samples' seeded throttling reaches it
    // only when the order of concurrent calls happens to line three refusals up).
    const partial = lambdaLines('partial').map((l) => l.message);
    expect(partial).toEqual(expect.arrayContaining(['detection jobs deferred to the state machine', 'detection jobs ready', 'document unprocessed']));
    expect(lambdaLines('failed').map((l) => l.message)).toContain('batch failed');
    // ingest, start-jobs, collect-results, matching, finalize.
    const functions = new Set(SCENARIOS.flatMap((s) => lambdaLines(s.name).map((l) => l.function_name)));
    expect(functions.size).toBe(5);
  });

  test('samples: every document claimed, batches COMPLETED, jobs, executions and outputs read back', () => {
    const r = results.samples!;
    const batches = r.tableItems.filter((i) => i.entity === 'BATCH');
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches.every((b) => b.status === 'COMPLETED')).toBe(true);
    expect(r.tableItems.filter((i) => i.entity === 'DOCUMENT')).toHaveLength(files.length);
    const rejected = r.tableItems.filter((i) => i.entity === 'DOCUMENT' && i.status === 'REJECTED');
    expect(rejected.map((d) => d.reason).sort()).toEqual(['EMPTY', 'NOT_UTF8', 'TOO_LARGE']);
    expect(r.tableItems.filter((i) => i.entity === 'DOCUMENT' && i.status === 'PROCESSED')).toHaveLength(files.length - rejected.length);
    expect(r.cmJobs).toBe(2 * batches.length);
    expect(r.executions).toBe(batches.length);
    // The history was read with its data: states' inputs and outputs, tasks' parameters and results.
    const history = haystacks.executions.filter((h) => h.source.startsWith('[samples] history'));
    expect(history.filter((h) => /"stateEnteredEventDetails":\{[^}]*"input":"\{/.test(h.text)).length).toBeGreaterThan(10);
    expect(history.filter((h) => /"(taskSucceeded|lambdaFunctionSucceeded)EventDetails":\{[^}]*"output":"/.test(h.text)).length).toBeGreaterThan(5);
    expect(r.contentScanned.some((k) => k.startsWith(Prefix.matches))).toBe(true);
    expect(r.contentScanned.some((k) => k.endsWith('/Manifest'))).toBe(true);
    expect(r.objectKeys.some((k) => k.endsWith('.out'))).toBe(true);
  });

  test('partial: unprocessed documents recorded with their reason', () => {
    const unprocessed = results.partial!.tableItems.filter((i) => i.entity === 'DOCUMENT' && i.status === 'UNPROCESSED');
    expect(unprocessed.length).toBeGreaterThan(0);
    expect(unprocessed.every((d) => typeof d.reason === 'string')).toBe(true);
  });

  test('failed: Batch Failed events with their cause', () => {
    expect(results.failed!.events.filter((e) => e['detail-type'] === 'Batch Failed').length).toBeGreaterThan(0);
  });
});

describe('zero PHI hits', () => {
  let hitsByPlace: Partial<Record<Place, Hit[]>> = {};
  let scanner: PhiScanner;

  beforeAll(() => {
    scanner = new PhiScanner({ needles, documents: notes.map((n) => n.text) });
    hitsByPlace = Object.fromEntries(PLACES.map((place) => [place, haystacks[place].flatMap((h) => scanner.scan(h.source, h.text))]));
    const counts = Object.fromEntries(PLACES.map((place) => [place, haystacks[place].length]));
    // The figures of the README's Guarantees section.
    process.stdout.write(`PHI scan: ${JSON.stringify({ ...counts, needles: needles.length, windows: scanner.windowCount, hits: Object.values(hitsByPlace).flat().length })}\n`);
  });

  test('control: the same scan finds a note line, an MRN and a phone planted into a real record of each place', () => {
    const line = notes.flatMap((n) => n.text.split('\n')).find((l) => l.length > 60 && !/\d{3}/.test(l))!;
    const mrn = needles.find((n) => n.kind === 'mrn')!.value;
    for (const place of PLACES) {
      const real = haystacks[place][0]!;
      const planted = `${real.text}${JSON.stringify({ message: line, size: Number(mrn), contact: '6175550175' })}`;
      const found = new Set(scanner.scan(real.source, planted).map((h) => h.detector));
      expect({ place, found: [...found].sort() }).toEqual({ place, found: expect.arrayContaining(['needle:mrn', 'needle:phone', 'window']) });
    }
  });

  test.each(PLACES)('%s', (place) => {
    expect(haystacks[place].length).toBeGreaterThan(0);
    expect(hitsByPlace[place]).toEqual([]);
  });
});
