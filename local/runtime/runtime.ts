/**
 * The offline runtime: the synthesized Chartflow stack provisioned on local emulators, its real
 * Lambda handlers run in-process, its real state machine definitions run by aws-local-stepfunctions,
 * all on one virtual clock. Nothing here re-implements the pipeline: buckets, table, queue
 * semantics, notification filter, bus rules, Glue table and matching workflow are all read from
 * the template.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { Context, S3EventRecord, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ENTRY_METADATA_KEY, PROJECT_ROOT } from '../../lib/constructs/house-function.js';
import { Env } from '../../contracts/env.js';
import { setCrashInjector } from '../../lambdas/shared/crash.js';
import { defaultFaults, FaultCounter, seededRandom, type FaultSpec } from '../faults.js';
import { startComprehendMedicalEmulator, type ComprehendMedicalEmulator } from '../emulators/comprehend-medical/index.js';
import { startDynamoDB, type LocalDynamoDB } from '../emulators/dynamodb.js';
import {
  startEntityResolutionEmulator,
  type EntityResolutionEmulator,
  type GlueTableDefinition,
  type MatchingWorkflowDefinition,
  type SchemaMappingDefinition,
} from '../emulators/entity-resolution/index.js';
import { startEventBridge, type EventEnvelope, type EventRuleSpec, type LocalEventBridge } from '../emulators/eventbridge.js';
import { startS3, s3ClientEnvironment, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, type LocalS3 } from '../emulators/s3.js';
import { LocalQueue } from '../emulators/sqs-queue.js';
import { LocalStepFunctions, VirtualScheduler, startStepFunctionsEndpoint, type StepFunctionsEndpoint } from '../stepfunctions/index.js';
import { TaskFailure } from '../stepfunctions/task-router.js';
import { VirtualClock } from '../clock.js';
import { synthesizeStack, TemplateResolver, type CfnTemplate, type Json } from './template.js';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
/** `crash.rate`: a checkpoint crashes at most this many times a run, so that retries get through. */
export const MAX_RANDOM_CRASHES_PER_POINT = 3;

export interface RuntimeOptions {
  dataDir: string;
  faults?: FaultSpec;
  /** Remove what an earlier run left in dataDir (default true). */
  fresh?: boolean;
  /** Called with each Chartflow event as it is put on the bus (progress display). */
  onEvent?: (event: EventEnvelope) => void;
  /** Powertools log level of the in-process Lambdas (default WARN: quiet terminal). */
  lambdaLogLevel?: string;
  /** CDK context over cdk.json's (`chartflow:<name>` values), as `cdk deploy -c` would pass it. */
  context?: Record<string, unknown>;
}

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  entry: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  handler?: LambdaHandler;
}

export interface Endpoints {
  s3: string;
  dynamodb: string;
  stepfunctions: string;
  events: string;
  comprehendmedical: string;
  entityresolution: string;
}

/**
 * Ports of the first runtime of this process, reused by later ones: the Lambda modules are loaded
 * once per process and keep the SDK clients they built at load time, so a second runtime in the
 * same process (tests) must answer on the same endpoints.
 */
const stickyPorts: Partial<Record<keyof Endpoints, number>> = {};
const portOf = (endpoint: string) => Number(new URL(endpoint).port);

/** Empties the data folder of a fresh run and starts the local S3 on it. */
async function startStorage(options: RuntimeOptions, clock: VirtualClock): Promise<LocalS3> {
  const { dataDir } = options;
  if (options.fresh !== false) rmSync(dataDir, { recursive: true, force: true });
  for (const sub of ['s3', 'dynamodb']) mkdirSync(path.join(dataDir, sub), { recursive: true });
  return startS3({ directory: path.join(dataDir, 's3'), clock, port: stickyPorts.s3 });
}

export class LocalRuntime {
  /** Virtual time when the runtime started: a run's virtual duration is measured from here. */
  readonly startedAt: number;
  readonly resolver: TemplateResolver;
  readonly bucketName: string;
  readonly tableName: string;
  readonly busName: string;
  readonly stateMachineArn: string;
  readonly deadLetters: string[] = [];
  readonly functions = new Map<string, LocalFunction>();
  private readonly faults: FaultSpec;
  private s3!: LocalS3;
  private dynamo!: LocalDynamoDB;
  private events!: LocalEventBridge;
  private comprehend!: ComprehendMedicalEmulator;
  private entityResolution!: EntityResolutionEmulator;
  private sfnEndpoint!: StepFunctionsEndpoint;
  sfn!: LocalStepFunctions;
  private queue!: LocalQueue;
  private ingestFunction!: LocalFunction;
  private maxConcurrency = 2;
  private inFlight = 0;
  private pumping: Promise<void> | undefined;
  private wakePump: (() => void) | undefined;
  private stopped = false;
  private invocations = 0;
  private readonly notificationPrefixes: string[] = [];
  /** Faults the runtime itself injected (S3 notifications, SQS, Lambda crashes and service errors). */
  private readonly injected = new FaultCounter();
  /** State machine Lambda invocations (function + payload) already failed once by `lambda.serviceError`. */
  private readonly failedOnce = new Set<string>();
  private readonly random: Record<'s3' | 'sqs' | 'crash' | 'lambda', () => number>;

  private constructor(
    readonly template: CfnTemplate,
    private readonly options: RuntimeOptions,
    readonly scheduler: VirtualScheduler,
  ) {
    this.startedAt = scheduler.clock.now();
    this.faults = options.faults ?? defaultFaults;
    const seed = this.faults.seed;
    // One generator per fault kind: enabling one does not move the draws of another.
    this.random = { s3: seededRandom(seed + 301), sqs: seededRandom(seed + 302), crash: seededRandom(seed + 303), lambda: seededRandom(seed + 304) };
    this.resolver = new TemplateResolver(template, { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION });
    const only = (type: string) => {
      const ids = this.resolver.ofType(type);
      if (ids.length !== 1) throw new Error(`Expected exactly one ${type} in the template, found ${ids.length}`);
      return ids[0]!;
    };
    // The documents bucket is the one the notification custom resource points at.
    const notifications = this.resolver.ofType('Custom::S3BucketNotifications').map((id) => this.resolver.properties(id));
    const documentsBucket = String(notifications[0]?.BucketName ?? '');
    if (!documentsBucket) throw new Error('No bucket notification in the template: nothing would feed the ingest queue');
    this.bucketName = documentsBucket;
    this.tableName = this.resolver.ref(only('AWS::DynamoDB::Table'));
    this.busName = this.resolver.ref(only('AWS::Events::EventBus'));
    this.stateMachineArn = this.resolver.ref(only('AWS::StepFunctions::StateMachine'));
  }

  /** Synthesizes the stack and starts every emulator; call `stop()` when done. */
  static async start(options: RuntimeOptions): Promise<LocalRuntime> {
    const scheduler = new VirtualScheduler(new VirtualClock());
    // The S3 server's worker thread boots while this thread synthesizes the stack.
    const storage = startStorage(options, scheduler.clock);
    let template: CfnTemplate;
    try {
      ({ template } = synthesizeStack(options.context));
    } catch (error) {
      await storage.then((s3) => s3.stop(), () => undefined);
      throw error;
    }
    const runtime = new LocalRuntime(template, options, scheduler);
    await runtime.provision(await storage);
    return runtime;
  }

  get endpoints(): Endpoints {
    return {
      s3: this.s3.endpoint,
      dynamodb: this.dynamo.endpoint,
      stepfunctions: this.sfnEndpoint.endpoint,
      events: this.events.endpoint,
      comprehendmedical: this.comprehend.endpoint,
      entityresolution: this.entityResolution.endpoint,
    };
  }

  get credentials() {
    return { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY };
  }

  s3Client() {
    return this.s3.client();
  }

  get lambdaInvocations(): number {
    return this.invocations;
  }

  private async provision(s3: LocalS3): Promise<void> {
    const { dataDir } = this.options;
    const clock = this.scheduler.clock;

    this.s3 = s3;
    await this.s3.createBucket(this.bucketName);
    this.dynamo = await startDynamoDB({ directory: path.join(dataDir, 'dynamodb'), port: stickyPorts.dynamodb });
    await this.createTables();

    this.events = await startEventBridge({
      clock,
      archiveFile: path.join(dataDir, 'events.jsonl'),
      buses: [this.busName],
      rules: this.eventRules(),
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      port: stickyPorts.events,
    });
    this.comprehend = await startComprehendMedicalEmulator({ s3: this.s3.client(), clock, faults: this.faults, accountId: LOCAL_ACCOUNT, region: LOCAL_REGION, port: stickyPorts.comprehendmedical });
    this.entityResolution = await startEntityResolutionEmulator({
      s3: this.s3.client(),
      clock,
      faults: this.faults,
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      port: stickyPorts.entityresolution,
      ...this.matchingDefinitions(),
    });

    this.sfn = new LocalStepFunctions({
      scheduler: this.scheduler,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      seed: this.faults.seed,
      tasks: {
        invokeLambda: (name, payload) => this.invokeTask(name, payload),
        endpoints: {
          comprehendmedical: this.comprehend.endpoint,
          entityresolution: this.entityResolution.endpoint,
          dynamodb: this.dynamo.endpoint,
          eventbridge: this.events.endpoint,
          s3: this.s3.endpoint,
        },
        region: LOCAL_REGION,
        credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
        clientConfig: { s3: { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } },
      },
    });
    for (const id of this.resolver.ofType('AWS::StepFunctions::StateMachine')) {
      const props = this.resolver.properties(id);
      this.sfn.createStateMachine({ arn: this.resolver.arn(id), name: id, definition: String(props.DefinitionString) });
    }
    this.sfnEndpoint = await startStepFunctionsEndpoint(this.sfn, { port: stickyPorts.stepfunctions });
    for (const [name, endpoint] of Object.entries(this.endpoints)) stickyPorts[name as keyof Endpoints] = portOf(endpoint);
    this.setProcessEnvironment();
    this.installCrashInjector();
    this.loadFunctions();
    this.wireIngestQueue();
    this.s3.onEvent((record) => this.onObjectEvent(record));
    await this.s3.notifyOnly(this.bucketName, this.notificationPrefixes);
  }

  private async createTables(): Promise<void> {
    const client = this.dynamo.client();
    for (const id of this.resolver.ofType('AWS::DynamoDB::Table')) {
      const p = this.resolver.properties(id) as unknown as CreateTableCommandInput & { BillingMode?: string };
      await client.send(new CreateTableCommand({
        TableName: this.resolver.ref(id),
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
        BillingMode: p.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : undefined,
        ProvisionedThroughput: p.BillingMode === 'PAY_PER_REQUEST' ? undefined : { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      }));
    }
  }

  /** The bus rules of the template, with local targets; plus one observer rule for progress. */
  private eventRules(): EventRuleSpec[] {
    const rules: EventRuleSpec[] = this.resolver.ofType('AWS::Events::Rule').map((id) => {
      const p = this.resolver.properties(id);
      const targets = (p.Targets as Array<Record<string, Json>> | undefined) ?? [];
      return {
        name: id,
        busName: String(p.EventBusName ?? 'default'),
        eventPattern: p.EventPattern as object,
        targets: targets.map((t) => ({
          id: String(t.Id),
          // SNS topics (the alarm topic) have no emulator: deliveries are recorded in the archive.
          deliver: async () => {},
        })),
      };
    });
    rules.push({
      name: 'local-progress-observer',
      busName: this.busName,
      eventPattern: { source: ['chartflow'] },
      targets: [{ id: 'progress', deliver: async (event: EventEnvelope) => { this.options.onEvent?.(event); } }],
    });
    return rules;
  }

  /** The Glue table, schema mappings and matching workflows of the template, resolved. */
  private matchingDefinitions(): { workflows: MatchingWorkflowDefinition[]; schemaMappings: SchemaMappingDefinition[]; glueTables: GlueTableDefinition[] } {
    const glueTables = this.resolver.ofType('AWS::Glue::Table').map((id): GlueTableDefinition => {
      const p = this.resolver.properties(id);
      const input = p.TableInput as Record<string, Json>;
      const sd = input.StorageDescriptor as Record<string, Json>;
      const serde = String((sd.SerdeInfo as Record<string, Json>).SerializationLibrary ?? '');
      const params = (input.Parameters as Record<string, string> | undefined) ?? {};
      return {
        arn: `arn:aws:glue:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${String(p.DatabaseName)}/${String(input.Name)}`,
        location: String(sd.Location),
        format: /json/i.test(serde) ? 'json' : 'csv',
        columns: (sd.Columns as Array<{ Name: string }>).map((c) => c.Name),
        skipHeaderLines: Number(params['skip.header.line.count'] ?? 0),
      };
    });
    const schemaMappings = this.resolver.ofType('AWS::EntityResolution::SchemaMapping').map((id) => ({
      arn: this.resolver.arn(id),
      ...(this.resolver.properties(id) as unknown as Omit<SchemaMappingDefinition, 'arn'>),
    }));
    const workflows = this.resolver.ofType('AWS::EntityResolution::MatchingWorkflow').map((id) => this.resolver.properties(id) as unknown as MatchingWorkflowDefinition);
    return { workflows, schemaMappings, glueTables };
  }

  /**
   * The Lambdas share this process, so their environments are merged into process.env. They must
   * agree on every variable they share (they do: one table, one bucket, one bus); a conflict is
   * refused rather than silently resolved.
   */
  private setProcessEnvironment(): void {
    const merged: Record<string, string> = {};
    for (const id of this.resolver.ofType('AWS::Lambda::Function')) {
      const vars = ((this.resolver.properties(id).Environment as Record<string, Json> | undefined)?.Variables ?? {}) as Record<string, string>;
      for (const [k, v] of Object.entries(vars)) {
        if (k === 'POWERTOOLS_SERVICE_NAME' || k === 'NODE_OPTIONS') continue;
        if (merged[k] !== undefined && merged[k] !== v) throw new Error(`Lambda environments disagree on ${k}; the local runtime runs them in one process`);
        merged[k] = v;
      }
    }
    Object.assign(process.env, merged, s3ClientEnvironment(this.s3.endpoint), {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.endpoint,
      AWS_ENDPOINT_URL_SFN: this.sfnEndpoint.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: this.events.endpoint,
      AWS_ENDPOINT_URL_COMPREHENDMEDICAL: this.comprehend.endpoint,
      AWS_ENDPOINT_URL_ENTITYRESOLUTION: this.entityResolution.endpoint,
      POWERTOOLS_LOG_LEVEL: this.options.lambdaLogLevel ?? 'WARN',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // Crashes are decided by the injector (installCrashInjector), per runtime rather than per process.
      [Env.CrashAt]: '',
    });
  }

  /**
   * `crash=<function>:<step>` fires once per run; `crash.rate` crashes any checkpoint at random,
   * each at most MAX_RANDOM_CRASHES_PER_POINT times. Every crash is counted.
   */
  private installCrashInjector(): void {
    const { crashAt, crashRate } = this.faults;
    if (crashAt.length === 0 && crashRate === 0) {
      setCrashInjector(undefined);
      return;
    }
    const named = new Set(crashAt);
    const fired = new Map<string, number>();
    setCrashInjector((point) => {
      const times = fired.get(point) ?? 0;
      const crash = named.has(point) ? times === 0 : crashRate > 0 && times < MAX_RANDOM_CRASHES_PER_POINT && this.random.crash() < crashRate;
      if (crash) {
        fired.set(point, times + 1);
        this.injected.add(`crash:${point}`);
      }
      return crash;
    });
  }

  private loadFunctions(): void {
    for (const id of this.resolver.ofType('AWS::Lambda::Function')) {
      const resource = this.resolver.resource(id);
      const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
      if (typeof entry !== 'string') continue; // CDK's own helpers (deploy-time custom resources)
      const props = this.resolver.properties(id);
      const fn: LocalFunction = {
        logicalId: id,
        name: this.resolver.ref(id),
        arn: this.resolver.arn(id),
        entry,
        environment: (((props.Environment as Record<string, Json> | undefined)?.Variables ?? {}) as Record<string, string>),
        timeoutSeconds: Number(props.Timeout ?? 3),
      };
      this.functions.set(fn.name, fn);
      this.functions.set(fn.arn, fn);
    }
  }

  /** Invokes a function's real handler module in-process, as Lambda would. */
  async invoke(nameOrArn: string, payload: unknown): Promise<unknown> {
    const fn = this.functions.get(nameOrArn) ?? this.functions.get(nameOrArn.replace(/:(\$LATEST|\d+)$/, ''));
    if (!fn) throw new Error(`No local function ${nameOrArn}`);
    if (!fn.handler) {
      const module = (await import(pathToFileURL(path.join(PROJECT_ROOT, fn.entry)).href)) as { handler: LambdaHandler };
      fn.handler = module.handler;
    }
    this.invocations += 1;
    const started = Date.now();
    const context = {
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: '512',
      awsRequestId: `local-${this.invocations}`,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, fn.timeoutSeconds * 1000 - (Date.now() - started)),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    } as Context;
    return fn.handler(payload, context);
  }

  /**
   * A Lambda task of the state machine. With `lambda.serviceError`, an invocation (function and
   * payload) fails once with Lambda.ServiceException — half of the time before the handler runs,
   * half after it ran (the response was lost) — and its retry goes through.
   */
  private async invokeTask(nameOrArn: string, payload: unknown): Promise<unknown> {
    const rate = this.faults.lambdaServiceErrorRate;
    const key = `${nameOrArn}\n${JSON.stringify(payload)}`;
    if (rate === 0 || this.failedOnce.has(key) || this.random.lambda() >= rate) return this.invoke(nameOrArn, payload);
    this.failedOnce.add(key);
    this.injected.add('lambda.serviceError');
    if (this.random.lambda() < 0.5) await this.invoke(nameOrArn, payload);
    throw new TaskFailure(
      'Lambda.ServiceException',
      'Lambda was unable to process the request. (Service: Lambda, Status Code: 500, local fault injection: lambda.serviceError)',
    );
  }

  /** The queue, its DLQ policy and the event source mapping, as the template declares them. */
  private wireIngestQueue(): void {
    const [mappingId] = this.resolver.ofType('AWS::Lambda::EventSourceMapping');
    if (!mappingId) throw new Error('No SQS event source mapping in the template');
    const mapping = this.resolver.properties(mappingId);
    const queueArn = String(mapping.EventSourceArn);
    const queueId = this.resolver.ofType('AWS::SQS::Queue').find((id) => this.resolver.arn(id) === queueArn);
    if (!queueId) throw new Error(`The event source ${queueArn} is not a queue of the template`);
    const queueProps = this.resolver.properties(queueId);
    const redrive = queueProps.RedrivePolicy as { maxReceiveCount?: number } | undefined;
    const fn = this.functions.get(String(mapping.FunctionName));
    if (!fn) throw new Error(`The event source targets an unknown function ${String(mapping.FunctionName)}`);
    this.ingestFunction = fn;
    this.maxConcurrency = Number((mapping.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 1000);
    this.queue = new LocalQueue({
      clock: this.scheduler.clock,
      batchSize: Number(mapping.BatchSize ?? 10),
      maximumBatchingWindowSeconds: Number(mapping.MaximumBatchingWindowInSeconds ?? 0),
      visibilityTimeoutSeconds: Number(queueProps.VisibilityTimeout ?? 30),
      maxReceiveCount: Number(redrive?.maxReceiveCount ?? Number.MAX_SAFE_INTEGER),
      eventSourceARN: queueArn,
      deadLetter: (message) => this.deadLetters.push(message.body),
      redeliver: () => {
        if (this.faults.sqsRedeliverRate === 0 || this.random.sqs() >= this.faults.sqsRedeliverRate) return false;
        this.injected.add('sqs.redeliver');
        return true;
      },
    });
    const reportsFailures = ((mapping.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures');
    if (!reportsFailures) throw new Error('The ingest event source must report batch item failures');

    for (const id of this.resolver.ofType('Custom::S3BucketNotifications')) {
      const config = this.resolver.properties(id).NotificationConfiguration as { QueueConfigurations?: Array<Record<string, Json>> };
      for (const q of config.QueueConfigurations ?? []) {
        if (String(q.QueueArn) !== queueArn) continue;
        const rules = ((q.Filter as { Key?: { FilterRules?: Array<{ Name: string; Value: string }> } } | undefined)?.Key?.FilterRules) ?? [];
        this.notificationPrefixes.push(rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value ?? '');
      }
    }
  }

  /** S3 -> SQS, filtered by the template's notification configuration. */
  private onObjectEvent(record: S3EventRecord): void {
    if (!record.eventName.startsWith('ObjectCreated:')) return;
    // The prefixes are the bucket's notification configuration, applied by the local S3 (notifyOnly).
    if (record.s3.bucket.name !== this.bucketName) return;
    const body = JSON.stringify({ Records: [record] });
    const { s3DuplicateRate, s3ReorderSeconds } = this.faults;
    // At least once and unordered: a notification may come two or three times, each copy late.
    let copies = 1;
    if (s3DuplicateRate > 0 && this.random.s3() < s3DuplicateRate) {
      copies = this.random.s3() < 0.5 ? 2 : 3;
      this.injected.add('s3.duplicate', copies - 1);
    }
    for (let i = 0; i < copies; i++) {
      const delayMs = s3ReorderSeconds > 0 ? Math.floor(this.random.s3() * s3ReorderSeconds * 1000) : 0;
      if (delayMs === 0) {
        this.enqueueNotification(body);
      } else {
        this.injected.add('s3.reorder');
        // A virtual sleep: the runtime is not settled while a notification is still on its way.
        void this.scheduler.sleep(delayMs).then(() => this.enqueueNotification(body));
      }
    }
  }

  private enqueueNotification(body: string): void {
    if (this.stopped) return;
    this.queue.send(body);
    this.wakePump?.();
    this.pumping ??= this.pump();
  }

  /**
   * Faults injected so far, by `--faults` name, from the emulators and the runtime (crashes are
   * counted per point as `crash:<function>:<step>`).
   */
  faultsInjected(): Record<string, number> {
    const all: Record<string, number> = { ...this.comprehend.faultCounts(), ...this.entityResolution.faultCounts(), ...this.injected.snapshot() };
    return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Lambda's SQS poller: batches by size or window, bounded concurrency, partial failures. */
  private async pump(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!this.stopped) {
      while (running.size < this.maxConcurrency) {
        const batch = this.queue.receiveBatch();
        if (!batch) break;
        const work = this.scheduler.track(this.deliver(batch)).finally(() => running.delete(work));
        running.add(work);
      }
      if (running.size >= this.maxConcurrency) {
        await Promise.race(running);
        continue;
      }
      const wake = this.queue.nextWakeTime();
      if (wake !== undefined) {
        await Promise.race([this.scheduler.sleepUntil(wake), ...running]);
      } else if (running.size > 0) {
        await Promise.race(running);
      } else {
        // Nothing queued: park (untracked, so the clock may move) until a notification arrives.
        await new Promise<void>((resolve) => (this.wakePump = resolve));
        this.wakePump = undefined;
      }
    }
  }

  private async deliver(batch: NonNullable<ReturnType<LocalQueue['receiveBatch']>>): Promise<void> {
    this.inFlight += 1;
    try {
      const response = (await this.invoke(this.ingestFunction.name, { Records: batch } satisfies SQSEvent)) as SQSBatchResponse | undefined;
      this.queue.settle(batch, (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      // The handler threw: Lambda returns the whole batch to the queue.
      this.queue.settleAllFailed(batch);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Resolves when no notification is queued or in flight and every execution has ended. */
  async settled(): Promise<void> {
    for (;;) {
      await this.scheduler.idle();
      await this.events.drain();
      if (this.queue.size === 0 && this.queue.inFlight === 0 && this.inFlight === 0) {
        await this.scheduler.idle();
        if (this.queue.size === 0 && this.queue.inFlight === 0) return;
      }
      const wake = this.queue.nextWakeTime();
      if (wake !== undefined) await this.scheduler.sleepUntil(wake);
    }
  }

  eventsSeen() {
    return this.events.events();
  }

  comprehendJobs() {
    return this.comprehend.jobs();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    setCrashInjector(undefined);
    this.wakePump?.();
    await this.sfn.close();
    await Promise.allSettled([
      this.sfnEndpoint?.stop(),
      this.comprehend?.stop(),
      this.entityResolution?.stop(),
      this.events?.stop(),
    ]);
    await Promise.allSettled([this.dynamo?.stop(), this.s3?.stop()]);
  }
}
