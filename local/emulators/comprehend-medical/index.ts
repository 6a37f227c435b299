/**
 * The local Amazon Comprehend Medical: an HTTP server on loopback speaking awsJson1_1 as the
 * service model says, so that the unmodified `@aws-sdk/client-comprehendmedical` works against it
 * (endpoint override, any credentials; signatures are not checked).
 *
 * - Requests are validated generically from the Smithy model shipped next to this file.
 * - Batch jobs live on the injected clock and are advanced lazily on every call (no timers):
 *   SUBMITTED -> IN_PROGRESS (after 30 s) -> the outcome of `faults.cmJobOutcome` at
 *   submit + `faults.cmJobMinutes`; Stop*Job -> STOP_REQUESTED -> STOPPED 30 s later. The first
 *   call that finds a job past its end writes its outputs through S3, once, before answering.
 * - Faults: `cmThrottleRate` / `cmInternalErrorRate` of calls answer TooManyRequestsException
 *   (where the operation models it) / InternalServerException; `cmActiveLimitRate` of Start*Job
 *   calls find the 10-active-jobs quota reached and get the quota's answer, and so do the first
 *   `cmBusyStarts` calls for each new job (counted per token, whatever the interleaving); each new job's outcome
 *   and duration are drawn from the per-job rates (`planCmJob`). Draws come from generators seeded
 *   with `seed`; every injected fault is counted (`faultCounts()`).
 * - Entities come from the offline engine in local/nlp; its results carry its own ModelVersion.
 *   Batch jobs analyse their documents in a worker thread (`startBatchEngine`); the two jobs of a
 *   batch read each input object once between them (`InputCache`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../../clock.js';
import { FaultCounter, planCmJob, seededRandom, type FaultSpec } from '../../faults.js';
import { localEngine, startBatchEngine, type CmEngine } from './engine.js';
import { ServiceError, internalError, notFound, tooManyRequests } from './errors.js';
import {
  JOB_KINDS,
  JobStore,
  activeJobsLimitError,
  outputFolderKey,
  snapshot,
  type Job,
  type JobKind,
  type JobSnapshot,
  type ListFilter,
  type StartJobRequest,
} from './jobs.js';
import { TARGET_PREFIX, loadModel } from './model.js';
import { materialise, type EmulatorLogger } from './outputs.js';
import { InputCache } from './input-cache.js';
import { InputValidator, validationMessage } from './validate.js';
import { listenOnLoopback } from '../loopback.js';

export type { JobSnapshot, JobKind, JobStatus } from './jobs.js';
export type { EmulatorLogger } from './outputs.js';
export { MAX_FILE_BYTES } from './outputs.js';
export { IN_PROGRESS_DELAY_MS, STOP_DELAY_MS, MAX_ACTIVE_JOBS, JOB_RETENTION_MS } from './jobs.js';

export interface ComprehendMedicalEmulatorOptions {
  /** A client for the local S3: inputs are read and outputs written through the S3 API. */
  s3: S3Client;
  /** All times come from it (virtual time in tests and local runs). */
  clock: Clock;
  /** Read on every call, so a caller may change rates or outcomes between calls. */
  faults: FaultSpec;
  /** Used in the output folder name `<accountId>-<JobType>-<JobId>/`. */
  accountId: string;
  region: string;
  /** 0 or absent: any free port on 127.0.0.1. */
  port?: number;
  /** Structured logs (ids, keys and counts only; never document text). Silent by default. */
  logger?: EmulatorLogger;
}

export interface ComprehendMedicalEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  stop(): Promise<void>;
  /** Every job the emulator knows, oldest first, as it stands at the clock's now. */
  jobs(): ReadonlyArray<JobSnapshot>;
  /** Faults injected so far, by `--faults` name (`cm.throttle`, `cm.failed`, ...). */
  faultCounts(): Record<string, number>;
}

/** Largest request body accepted (DetectEntitiesV2 text is at most 20,000 characters). */
const MAX_BODY_BYTES = 1024 * 1024;

const silentLogger: EmulatorLogger = { info: () => {}, warn: () => {}, error: () => {} };

type Handler = (input: Record<string, unknown>, now: number) => Promise<object> | object;

const secs = (ms: number) => ms / 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** awsJson reads a JSON null member as an absent one. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

export async function startComprehendMedicalEmulator(o: ComprehendMedicalEmulatorOptions): Promise<ComprehendMedicalEmulator> {
  if (!/^\d{12}$/.test(o.accountId)) throw new Error(`comprehend-medical emulator: accountId must be 12 digits, got "${o.accountId}"`);
  const model = loadModel();
  const validator = new InputValidator(model);
  const logger = o.logger ?? silentLogger;
  const random = seededRandom(o.faults.seed);
  // One generator per kind of draw, so that enabling one fault does not move the draws of another.
  const limitRandom = seededRandom(o.faults.seed + 101);
  const outcomeRandom = seededRandom(o.faults.seed + 102);
  const slowRandom = seededRandom(o.faults.seed + 103);
  const counter = new FaultCounter();
  const engine: CmEngine = localEngine;
  const batchEngine = await startBatchEngine();
  const store = new JobStore({ newJobId: () => randomBytes(16).toString('hex') });
  const inflight = new Map<string, Promise<void>>();
  const inputCache = new InputCache();
  /** Start*Job calls refused so far by `cmBusyStarts`, per kind and token (or job name). */
  const busyRefusals = new Map<string, number>();
  const refusedAsBusy = (kind: JobKind, request: StartJobRequest): boolean => {
    if (o.faults.cmBusyStarts <= 0) return false;
    const key = `${kind} ${request.ClientRequestToken ?? request.JobName ?? ''}`;
    const refused = busyRefusals.get(key) ?? 0;
    if (refused >= o.faults.cmBusyStarts) return false;
    busyRefusals.set(key, refused + 1);
    return true;
  };

  const finalise = (job: Job): Promise<void> => {
    let running = inflight.get(job.jobId);
    if (!running) {
      running = materialise(job, {
        s3: o.s3,
        accountId: o.accountId,
        logger,
        engine: batchEngine,
        inputCache,
      })
        .then((result) => store.finish(job, result))
        .finally(() => inflight.delete(job.jobId));
      inflight.set(job.jobId, running);
    }
    return running;
  };
  /** Jobs past their end are finalised before any answer, so every call sees a consistent state. */
  const finaliseDue = async (now: number) => {
    await Promise.all(store.due(now).map(finalise));
  };

  const properties = (job: Job, now: number) => {
    const s = snapshot(job, now, o.accountId);
    const r = job.request;
    return {
      JobId: job.jobId,
      JobName: r.JobName,
      JobStatus: s.status,
      Message: s.message,
      SubmitTime: secs(job.submitTime),
      EndTime: s.endTime !== undefined ? secs(s.endTime) : undefined,
      ExpirationTime: Math.floor(secs(job.expirationTime)),
      InputDataConfig: { S3Bucket: r.InputDataConfig.S3Bucket, S3Key: r.InputDataConfig.S3Key ?? '' },
      // As on AWS, the described output location is the job's own folder.
      OutputDataConfig: { S3Bucket: r.OutputDataConfig.S3Bucket, S3Key: outputFolderKey(r.OutputDataConfig.S3Key, o.accountId, job.kind, job.jobId) },
      LanguageCode: r.LanguageCode,
      DataAccessRoleArn: r.DataAccessRoleArn,
      ManifestFilePath: s.manifestFilePath,
      KMSKey: r.KMSKey,
      ModelVersion: job.modelVersion,
    };
  };

  const jobHandlers = (kind: JobKind): Record<string, Handler> => {
    const names = JOB_KINDS[kind];
    const find = (input: Record<string, unknown>, now: number) => {
      const jobId = input.JobId as string;
      const job = store.get(kind, jobId, now);
      if (!job) throw notFound(`Could not find a ${names.jobType} job with id ${jobId}.`);
      return job;
    };
    return {
      [names.start]: (input, now) => {
        // A replayed token returns its job whatever the quota; only a new job can be refused.
        const request = input as unknown as StartJobRequest;
        if (!store.isReplay(kind, request, now)) {
          if (refusedAsBusy(kind, request)) {
            counter.add('cm.busyStarts');
            throw activeJobsLimitError(kind);
          }
          if (o.faults.cmActiveLimitRate > 0 && limitRandom() < o.faults.cmActiveLimitRate) {
            counter.add('cm.activeLimit');
            throw activeJobsLimitError(kind);
          }
        }
        const plan = planCmJob(o.faults, outcomeRandom(), slowRandom());
        const { job, replayed } = store.start(kind, request, now, {
          outcome: plan.outcome,
          durationMs: plan.minutes * 60_000,
          modelVersion: engine.modelVersion(kind),
        });
        if (!replayed) for (const name of plan.injected) counter.add(name);
        logger.info(replayed ? 'job start replayed' : 'job submitted', { operation: names.start, jobId: job.jobId, outcome: job.plannedOutcome });
        return { JobId: job.jobId };
      },
      [names.describe]: (input, now) => ({ ComprehendMedicalAsyncJobProperties: properties(find(input, now), now) }),
      [names.list]: (input, now) => {
        const page = store.list(kind, input.Filter as ListFilter | undefined, input.MaxResults as number | undefined, input.NextToken as string | undefined, now);
        return { ComprehendMedicalAsyncJobPropertiesList: page.jobs.map((j) => properties(j, now)), NextToken: page.nextToken };
      },
      [names.stop]: (input, now) => {
        const job = find(input, now);
        store.requestStop(job, now);
        logger.info('job stop requested', { operation: names.stop, jobId: job.jobId });
        return { JobId: job.jobId };
      },
    };
  };

  const handlers: Record<string, Handler> = {
    ...jobHandlers('EntitiesDetectionV2'),
    ...jobHandlers('SNOMEDCTInference'),
    DetectEntitiesV2: (input) => engine.detectEntitiesV2(input.Text as string),
    InferSNOMEDCT: (input) => engine.inferSnomedCt(input.Text as string),
  };
  const declared = new Set(model.operationNames());

  /** Maps constraint violations to the error the operation models for them. */
  const rejectInvalid = (operation: string, input: Record<string, unknown>) => {
    const errors = model.operationErrors(operation);
    const text = input.Text;
    if (typeof text === 'string' && errors.includes('InvalidEncodingException') && LONE_SURROGATE.test(text)) {
      throw new ServiceError('InvalidEncodingException', 'The input text was not in valid UTF-8 character encoding.');
    }
    const violations = validator.validate(model.inputShapeId(operation), input);
    if (violations.length === 0) return;
    const tooLong = violations.find((v) => v.path.length === 1 && v.path[0] === 'Text' && v.kind === 'length' && v.bound === 'max');
    if (tooLong && errors.includes('TextSizeLimitExceededException')) {
      throw new ServiceError('TextSizeLimitExceededException', `The size of the text you submitted exceeds the size limit. ${tooLong.message.replace(/^Value '\*\*\*' at 'text' failed to satisfy constraint: /, '')}.`);
    }
    // The model documents ValidationException as "the filter that you specified is invalid".
    const code = violations.some((v) => v.path[0] === 'Filter') && errors.includes('ValidationException') ? 'ValidationException' : 'InvalidRequestException';
    throw new ServiceError(code, validationMessage(violations));
  };

  const dispatch = async (req: IncomingMessage, body: Buffer): Promise<object> => {
    const target = req.headers['x-amz-target'];
    const [prefix, operation, ...rest] = typeof target === 'string' ? target.split('.') : [];
    const handler = prefix === TARGET_PREFIX && operation && rest.length === 0 ? handlers[operation] : undefined;
    if (req.method !== 'POST' || !operation || !handler) {
      const known = operation !== undefined && declared.has(operation);
      throw new ServiceError(
        'UnknownOperationException',
        known ? `The operation ${operation} is not supported by the local Comprehend Medical.` : `Unknown operation ${String(target ?? '(no X-Amz-Target)')}.`,
      );
    }
    const errors = model.operationErrors(operation);

    // Injected faults come first, as a throttle or an outage would on AWS.
    const draw = random();
    if (draw < o.faults.cmThrottleRate && errors.includes('TooManyRequestsException')) {
      counter.add('cm.throttle');
      throw tooManyRequests('Rate exceeded. (local fault injection: cm.throttle)');
    }
    if (draw >= 1 - o.faults.cmInternalErrorRate) {
      counter.add('cm.internal');
      throw internalError('An internal error occurred. Retry your request. (local fault injection: cm.internal)');
    }

    if (body.length > MAX_BODY_BYTES) {
      throw errors.includes('TextSizeLimitExceededException')
        ? new ServiceError('TextSizeLimitExceededException', 'The size of the text you submitted exceeds the size limit.')
        : new ServiceError('SerializationException', 'The request body is too large.');
    }
    let json: string;
    try {
      json = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw errors.includes('InvalidEncodingException')
        ? new ServiceError('InvalidEncodingException', 'The input text was not in valid UTF-8 character encoding.')
        : new ServiceError('SerializationException', 'The request body is not valid UTF-8.');
    }
    let input: unknown;
    try {
      input = json.trim() === '' ? {} : JSON.parse(json);
    } catch {
      throw new ServiceError('SerializationException', 'The request body is not valid JSON.');
    }
    rejectInvalid(operation, input as Record<string, unknown>);

    const now = o.clock.now();
    await finaliseDue(now);
    return handler(withoutNulls(input) as Record<string, unknown>, now);
  };

  const send = (res: ServerResponse, status: number, payload: object, requestId: string) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': requestId,
    });
    res.end(text);
  };

  const server = createServer((req, res) => {
    const requestId = randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep counting but stop buffering once over the limit; dispatch answers the error.
      if (size <= MAX_BODY_BYTES + 1) chunks.push(chunk);
    });
    req.on('end', () => {
      dispatch(req, Buffer.concat(chunks))
        .then((output) => send(res, 200, output, requestId))
        .catch((error: unknown) => {
          const failure = error instanceof ServiceError ? error : internalError('An internal error occurred. Retry your request.');
          if (!(error instanceof ServiceError)) {
            // The name only: a message could quote request content.
            logger.error('request failed', { requestId, target: req.headers['x-amz-target'], error: error instanceof Error ? error.name : 'unknown' });
          }
          send(res, failure.status(model), failure.body(), requestId);
        });
    });
  });

  const endpoint = await listenOnLoopback(server, o.port).catch(async (error: unknown) => {
    await batchEngine.stop();
    throw error;
  });
  logger.info('comprehend medical emulator listening', { endpoint, region: o.region, accountId: o.accountId });

  return {
    endpoint,
    jobs: () => {
      const now = o.clock.now();
      return store.all().map((job) => snapshot(job, now, o.accountId));
    },
    faultCounts: () => counter.snapshot(),
    async stop() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeAllConnections();
      await closed;
      // Let outputs being written finish, so nothing touches S3 after stop().
      await Promise.allSettled([...inflight.values()]);
      await batchEngine.stop();
    },
  };
}
