/**
 * Batch job state: creation with ClientRequestToken replay, the 10-active-jobs quota, the
 * lifecycle as a pure function of the clock, and List's filters, orderings and cursors.
 * Nothing here touches S3: the emulator finalises due jobs (writes their outputs) and records
 * the result with `finish`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServiceError, invalidRequest, tooManyRequests } from './errors.js';

export type JobKind = 'EntitiesDetectionV2' | 'SNOMEDCTInference';
export type JobStatus = 'SUBMITTED' | 'IN_PROGRESS' | 'COMPLETED' | 'PARTIAL_SUCCESS' | 'FAILED' | 'STOP_REQUESTED' | 'STOPPED';
export type TerminalStatus = 'COMPLETED' | 'PARTIAL_SUCCESS' | 'FAILED' | 'STOPPED';

/** Per job kind: the JobType token of the output folder and the operation names. */
export const JOB_KINDS = {
  EntitiesDetectionV2: {
    jobType: 'EntitiesDetection',
    start: 'StartEntitiesDetectionV2Job',
    describe: 'DescribeEntitiesDetectionV2Job',
    list: 'ListEntitiesDetectionV2Jobs',
    stop: 'StopEntitiesDetectionV2Job',
  },
  SNOMEDCTInference: {
    jobType: 'SNOMEDCTInference',
    start: 'StartSNOMEDCTInferenceJob',
    describe: 'DescribeSNOMEDCTInferenceJob',
    list: 'ListSNOMEDCTInferenceJobs',
    stop: 'StopSNOMEDCTInferenceJob',
  },
} as const satisfies Record<JobKind, { jobType: string; start: string; describe: string; list: string; stop: string }>;

/** Virtual delay between SUBMITTED and IN_PROGRESS. */
export const IN_PROGRESS_DELAY_MS = 30_000;
/** Virtual delay between STOP_REQUESTED and STOPPED. */
export const STOP_DELAY_MS = 30_000;
/** Job metadata lives 120 days after submission (as in the documented CLI examples). */
export const JOB_RETENTION_MS = 120 * 24 * 3600 * 1000;
/** Comprehend Medical quota: active (SUBMITTED, IN_PROGRESS, STOP_REQUESTED) jobs per operation. */
export const MAX_ACTIVE_JOBS = 10;
export const DEFAULT_MAX_RESULTS = 100;

/**
 * The answer to a Start*Job beyond the quota: the model gives Start*Job no other error for it than
 * TooManyRequestsException ("contact customer support for ... a service limit increase").
 */
export const activeJobsLimitError = (kind: JobKind) =>
  tooManyRequests(`You have reached the limit of ${MAX_ACTIVE_JOBS} active ${JOB_KINDS[kind].jobType} jobs. Wait for a job to finish, then try again.`);

export interface S3Location {
  S3Bucket: string;
  S3Key?: string;
}

/** The members of a Start*Job request, validated already. */
export interface StartJobRequest {
  InputDataConfig: S3Location;
  OutputDataConfig: S3Location;
  DataAccessRoleArn: string;
  LanguageCode: string;
  JobName?: string;
  ClientRequestToken?: string;
  KMSKey?: string;
}

export interface JobResult {
  status: TerminalStatus;
  /** Epoch ms. */
  endTime: number;
  message?: string;
  /** s3:// URI of the summary Manifest, when one was written. */
  manifestFilePath?: string;
  inputFileCount: number;
  successFileCount: number;
  unprocessedFileCount: number;
}

export interface Job {
  readonly seq: number;
  readonly kind: JobKind;
  readonly jobId: string;
  readonly request: StartJobRequest;
  /** Epoch ms. */
  readonly submitTime: number;
  /** When the job reaches its planned outcome (epoch ms). */
  readonly plannedEnd: number;
  readonly plannedOutcome: TerminalStatus;
  readonly expirationTime: number;
  readonly modelVersion: string;
  stopRequestedAt?: number;
  result?: JobResult;
}

/** What `jobs()` reports: the state as the service would describe it now. */
export interface JobSnapshot {
  jobId: string;
  kind: JobKind;
  jobName?: string;
  status: JobStatus;
  submitTime: number;
  endTime?: number;
  message?: string;
  input: S3Location;
  output: S3Location;
  /** Output folder key (`<S3Key><account>-<JobType>-<JobId>/`). */
  outputFolder: string;
  manifestFilePath?: string;
  /** True once the outputs were written (the job was observed past its end). */
  finalised: boolean;
}

export interface ListFilter {
  JobName?: string;
  JobStatus?: string;
  /** Epoch seconds, as on the wire. */
  SubmitTimeBefore?: number;
  SubmitTimeAfter?: number;
}

const ACTIVE: ReadonlySet<JobStatus> = new Set(['SUBMITTED', 'IN_PROGRESS', 'STOP_REQUESTED']);

/** When a job's pending life ends (planned end, or shortly after a stop request). */
export const dueTime = (job: Job): number =>
  job.stopRequestedAt !== undefined ? job.stopRequestedAt + STOP_DELAY_MS : job.plannedEnd;

/** The status a job shows at `now`. A job past its end stays active until it is finalised. */
export function statusAt(job: Job, now: number): JobStatus {
  if (job.result) return job.result.status;
  if (job.stopRequestedAt !== undefined) return 'STOP_REQUESTED';
  return now < job.submitTime + IN_PROGRESS_DELAY_MS && now < job.plannedEnd ? 'SUBMITTED' : 'IN_PROGRESS';
}

export const outputFolderKey = (prefix: string | undefined, accountId: string, kind: JobKind, jobId: string): string => {
  const base = prefix ?? '';
  const sep = base === '' || base.endsWith('/') ? '' : '/';
  return `${base}${sep}${accountId}-${JOB_KINDS[kind].jobType}-${jobId}/`;
};

/** Members that must match when a ClientRequestToken is replayed. */
const replayFingerprint = (r: StartJobRequest) =>
  JSON.stringify([
    r.InputDataConfig.S3Bucket,
    r.InputDataConfig.S3Key ?? '',
    r.OutputDataConfig.S3Bucket,
    r.OutputDataConfig.S3Key ?? '',
    r.DataAccessRoleArn,
    r.LanguageCode,
    r.JobName ?? null,
    r.KMSKey ?? null,
  ]);

export interface JobStoreOptions {
  /** Real job ids are 32 lowercase hex characters. */
  newJobId: () => string;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly tokens = new Map<string, Job>();
  private seq = 0;
  private readonly tokenKey = randomBytes(32);

  constructor(private readonly options: JobStoreOptions) {}

  /**
   * Creates a job, or returns the job a replayed ClientRequestToken created. Throws
   * TooManyRequestsException beyond the active-jobs quota. The caller finalises due jobs first,
   * so that `now`'s active count is exact.
   */
  start(
    kind: JobKind,
    request: StartJobRequest,
    now: number,
    plan: { outcome: TerminalStatus; durationMs: number; modelVersion: string },
  ): { job: Job; replayed: boolean } {
    this.expire(now);
    const token = request.ClientRequestToken;
    if (token !== undefined) {
      const previous = this.tokens.get(`${kind}/${token}`);
      if (previous) {
        if (replayFingerprint(previous.request) !== replayFingerprint(request)) {
          throw invalidRequest(`The ClientRequestToken ${token} was already used with different parameters.`);
        }
        return { job: previous, replayed: true };
      }
    }
    const active = [...this.jobs.values()].filter((j) => j.kind === kind && ACTIVE.has(statusAt(j, now))).length;
    if (active >= MAX_ACTIVE_JOBS) throw activeJobsLimitError(kind);
    let jobId = this.options.newJobId();
    while (this.jobs.has(jobId)) jobId = this.options.newJobId();
    const job: Job = {
      seq: ++this.seq,
      kind,
      jobId,
      request: structuredClone(request),
      submitTime: now,
      plannedEnd: now + Math.max(0, plan.durationMs),
      plannedOutcome: plan.outcome,
      expirationTime: now + JOB_RETENTION_MS,
      modelVersion: plan.modelVersion,
    };
    this.jobs.set(jobId, job);
    if (token !== undefined) this.tokens.set(`${kind}/${token}`, job);
    return { job, replayed: false };
  }

  /** True when `request` carries a ClientRequestToken that already created a job of this kind. */
  isReplay(kind: JobKind, request: StartJobRequest, now: number): boolean {
    this.expire(now);
    return request.ClientRequestToken !== undefined && this.tokens.has(`${kind}/${request.ClientRequestToken}`);
  }

  /** The job of that kind, or undefined (unknown, other kind, or expired). */
  get(kind: JobKind, jobId: string, now: number): Job | undefined {
    this.expire(now);
    const job = this.jobs.get(jobId);
    return job?.kind === kind ? job : undefined;
  }

  /** Jobs whose pending life is over but whose outputs are not written yet. */
  due(now: number): Job[] {
    return [...this.jobs.values()].filter((j) => !j.result && now >= dueTime(j));
  }

  /** Stop*Job: active jobs move to STOP_REQUESTED; finished jobs are left as they are. */
  requestStop(job: Job, now: number): void {
    if (ACTIVE.has(statusAt(job, now)) && job.stopRequestedAt === undefined && now < job.plannedEnd) {
      job.stopRequestedAt = now;
    }
  }

  finish(job: Job, result: JobResult): void {
    job.result ??= result;
  }

  all(): Job[] {
    return [...this.jobs.values()].sort(compareSubmit);
  }

  /**
   * List*Jobs. Throws ValidationException for a filter that sets more than one criterion and
   * InvalidRequestException for a NextToken this server did not issue for this query.
   */
  list(kind: JobKind, filter: ListFilter | undefined, maxResults: number | undefined, nextToken: string | undefined, now: number): { jobs: Job[]; nextToken?: string } {
    this.expire(now);
    // JSON null means absent, as for any awsJson member.
    const f: ListFilter = Object.fromEntries(Object.entries(filter ?? {}).filter(([, v]) => v !== null && v !== undefined));
    const set = (['JobName', 'JobStatus', 'SubmitTimeBefore', 'SubmitTimeAfter'] as const).filter((k) => f[k] !== undefined);
    if (set.length > 1) {
      throw new ServiceError(
        'ValidationException',
        `The filter that you specified is invalid: you can only set one filter at a time (got ${set.join(', ')}).`,
      );
    }
    const before = f.SubmitTimeBefore !== undefined ? f.SubmitTimeBefore * 1000 : undefined;
    const after = f.SubmitTimeAfter !== undefined ? f.SubmitTimeAfter * 1000 : undefined;
    // With SubmitTimeAfter the service answers newest first; otherwise oldest first.
    const descending = after !== undefined;
    const query = JSON.stringify([kind, f.JobName ?? null, f.JobStatus ?? null, f.SubmitTimeBefore ?? null, f.SubmitTimeAfter ?? null]);

    let matching = [...this.jobs.values()]
      .filter((j) => j.kind === kind)
      .filter((j) => f.JobName === undefined || j.request.JobName === f.JobName)
      .filter((j) => f.JobStatus === undefined || statusAt(j, now) === f.JobStatus)
      .filter((j) => before === undefined || j.submitTime < before)
      .filter((j) => after === undefined || j.submitTime > after)
      .sort(compareSubmit);
    if (descending) matching.reverse();

    if (nextToken !== undefined) {
      const cursor = this.readToken(nextToken, query);
      matching = matching.filter((j) => (descending ? compareSubmit(j, cursor) < 0 : compareSubmit(j, cursor) > 0));
    }
    const limit = maxResults ?? DEFAULT_MAX_RESULTS;
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return {
      jobs: page,
      nextToken: matching.length > limit && last ? this.issueToken({ submitTime: last.submitTime, seq: last.seq }, query) : undefined,
    };
  }

  /** Job metadata is gone after its expiration time, as on AWS (the outputs stay). */
  private expire(now: number): void {
    for (const [id, job] of this.jobs) {
      if (now < job.expirationTime) continue;
      this.jobs.delete(id);
      if (job.request.ClientRequestToken !== undefined) this.tokens.delete(`${job.kind}/${job.request.ClientRequestToken}`);
    }
  }

  // Opaque, signed cursors: a token is valid only for the query that issued it.
  private issueToken(cursor: { submitTime: number; seq: number }, query: string): string {
    const payload = Buffer.from(JSON.stringify({ t: cursor.submitTime, s: cursor.seq, q: query })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  private readToken(token: string, query: string): { submitTime: number; seq: number } {
    const bad = () => invalidRequest('Invalid NextToken: pass the NextToken of a previous response to the same request.');
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length > 0) throw bad();
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { t: number; s: number; q: string };
    if (decoded.q !== query) {
      throw invalidRequest('Invalid NextToken: the token was issued for a different filter.');
    }
    return { submitTime: decoded.t, seq: decoded.s };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.tokenKey).update(payload).digest('base64url').slice(0, 22);
  }
}

const compareSubmit = (a: { submitTime: number; seq: number }, b: { submitTime: number; seq: number }) =>
  a.submitTime - b.submitTime || a.seq - b.seq;

export function snapshot(job: Job, now: number, accountId: string): JobSnapshot {
  const status = statusAt(job, now);
  return {
    jobId: job.jobId,
    kind: job.kind,
    jobName: job.request.JobName,
    status,
    submitTime: job.submitTime,
    endTime: job.result?.endTime,
    message: job.result?.message,
    input: { ...job.request.InputDataConfig },
    output: { ...job.request.OutputDataConfig },
    outputFolder: outputFolderKey(job.request.OutputDataConfig.S3Key, accountId, job.kind, job.jobId),
    manifestFilePath: job.result?.manifestFilePath,
    finalised: job.result !== undefined,
  };
}
