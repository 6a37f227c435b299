/**
 * Fault injection for the local runtime, selectable per run (`--faults`) and from tests.
 *
 * A spec is a comma-separated list of `name=value` pairs, for example
 *   `cm.throttle=0.3,cm.job=FAILED,cm.jobMinutes=45,er.job=FAILED,crash=ingest:after-claim,seed=7`.
 * Rates are fractions from 0 to 1, drawn per call (or per job, per notification, per invocation)
 * so that faults can be mixed in one run. Every emulator reads only its own section and counts
 * what it actually injected; all randomness comes from generators seeded with `seed`, so a run
 * with the same spec and seed injects the same faults (up to the interleaving of concurrent work).
 */
import { CRASH_POINTS } from '../lambdas/shared/crash.js';

export type CmJobOutcome = 'COMPLETED' | 'FAILED' | 'PARTIAL_SUCCESS' | 'STOPPED';

export interface FaultSpec {
  /** Comprehend Medical: fraction of API calls answered with TooManyRequestsException. */
  cmThrottleRate: number;
  /** Comprehend Medical: fraction of API calls answered with InternalServerException. */
  cmInternalErrorRate: number;
  /**
   * Comprehend Medical: fraction of Start*Job calls that find the 10-active-jobs quota of the
   * operation reached (as if other jobs of the account were running); answered as the quota is.
   */
  cmActiveLimitRate: number;
  /**
   * Comprehend Medical: the first N Start*Job calls for each new job (same client request token,
   * or job name without one) find the active-jobs quota reached, then the job starts. Unlike the
   * rate above this does not depend on the order of concurrent calls: N = 3 outlasts the SDK's
   * three attempts in ingest, so every batch's first starter defers and a later call starts it.
   */
  cmBusyStarts: number;
  /** Comprehend Medical: how batch jobs end unless a per-job rate below picks another outcome (default COMPLETED). */
  cmJobOutcome: CmJobOutcome;
  /** Comprehend Medical: fraction of jobs that end FAILED / STOPPED / PARTIAL_SUCCESS (drawn per job). */
  cmJobFailedRate: number;
  cmJobStoppedRate: number;
  cmJobPartialRate: number;
  /** Comprehend Medical: virtual duration of a batch job in minutes (default 5). */
  cmJobMinutes: number;
  /** Comprehend Medical: fraction of jobs that take `cmSlowJobMinutes` instead (slow jobs, past the poll deadline). */
  cmSlowJobRate: number;
  /** Default 1,500 minutes: beyond the default 24-hour detection deadline. */
  cmSlowJobMinutes: number;
  /** Entity Resolution: fraction of API calls answered with ThrottlingException. */
  erThrottleRate: number;
  /** Entity Resolution: fraction of API calls answered with InternalServerException. */
  erInternalErrorRate: number;
  /** Entity Resolution: fraction of StartMatchingJob calls answered with ConflictException (a job started elsewhere runs). */
  erConflictRate: number;
  /** Entity Resolution: how matching jobs end (default SUCCEEDED). */
  erJobOutcome: 'SUCCEEDED' | 'FAILED';
  /** Entity Resolution: fraction of matching jobs that end FAILED (drawn per job). */
  erJobFailedRate: number;
  /** Entity Resolution: virtual duration of a matching job in minutes (default 2). */
  erJobMinutes: number;
  /** S3: fraction of notifications delivered two or three times instead of once. */
  s3DuplicateRate: number;
  /** S3: each delivery is delayed by a random 0..N virtual seconds, so notifications arrive out of order. */
  s3ReorderSeconds: number;
  /** SQS: fraction of messages delivered once more after a successful receive (at-least-once delivery). */
  sqsRedeliverRate: number;
  /** Lambda crash points, `<function>:<step>` (the function throws once when it reaches the step). */
  crashAt: string[];
  /** Lambda crash points at random: each checkpoint crashes with this probability (each point at most 3 times a run). */
  crashRate: number;
  /**
   * State machine Lambda tasks: fraction of invocations that fail once with Lambda.ServiceException
   * (half of them before the handler runs, half after it ran and its response was lost); the
   * workflow's retry policy takes them.
   */
  lambdaServiceErrorRate: number;
  seed: number;
}

export const defaultFaults: FaultSpec = {
  cmThrottleRate: 0,
  cmInternalErrorRate: 0,
  cmActiveLimitRate: 0,
  cmBusyStarts: 0,
  cmJobOutcome: 'COMPLETED',
  cmJobFailedRate: 0,
  cmJobStoppedRate: 0,
  cmJobPartialRate: 0,
  cmJobMinutes: 5,
  cmSlowJobRate: 0,
  cmSlowJobMinutes: 1500,
  erThrottleRate: 0,
  erInternalErrorRate: 0,
  erConflictRate: 0,
  erJobOutcome: 'SUCCEEDED',
  erJobFailedRate: 0,
  erJobMinutes: 2,
  s3DuplicateRate: 0,
  s3ReorderSeconds: 0,
  sqsRedeliverRate: 0,
  crashAt: [],
  crashRate: 0,
  lambdaServiceErrorRate: 0,
  seed: 1,
};

/** Every name `--faults` accepts, in the order of the help text. */
export const FAULT_NAMES = [
  'cm.throttle', 'cm.internal', 'cm.activeLimit', 'cm.busyStarts', 'cm.job', 'cm.failed', 'cm.stopped', 'cm.partial', 'cm.jobMinutes',
  'cm.slow', 'cm.slowMinutes', 'er.throttle', 'er.internal', 'er.conflict', 'er.job', 'er.failed', 'er.jobMinutes',
  's3.duplicate', 's3.reorder', 'sqs.redeliver', 'crash', 'crash.rate', 'lambda.serviceError', 'seed',
] as const;

const rate = (name: string, value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--faults ${name}: expected a rate between 0 and 1, got "${value}"`);
  return n;
};
const positive = (name: string, value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`--faults ${name}: expected a non-negative number, got "${value}"`);
  return n;
};
function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--faults ${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}
function crashPoint(value: string): string {
  const [fn = '', step = '', ...rest] = value.split(':');
  const steps = (CRASH_POINTS as Record<string, readonly string[] | undefined>)[fn];
  if (!steps || rest.length > 0 || !steps.includes(step)) {
    const known = Object.entries(CRASH_POINTS).flatMap(([f, s]) => s.map((x) => `${f}:${x}`));
    throw new Error(`--faults crash: unknown crash point "${value}" (known: ${known.join(', ')})`);
  }
  return value;
}

/** Parses a `--faults` string; throws a clear error on any unknown name or bad value. */
export function parseFaults(spec: string | undefined): FaultSpec {
  const faults: FaultSpec = { ...defaultFaults, crashAt: [] };
  if (!spec) return faults;
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new Error(`--faults: expected name=value, got "${part}"`);
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    switch (name) {
      case 'cm.throttle': faults.cmThrottleRate = rate(name, value); break;
      case 'cm.internal': faults.cmInternalErrorRate = rate(name, value); break;
      case 'cm.activeLimit': faults.cmActiveLimitRate = rate(name, value); break;
      case 'cm.busyStarts': faults.cmBusyStarts = Math.trunc(positive(name, value)); break;
      case 'cm.job': faults.cmJobOutcome = oneOf(name, value, ['COMPLETED', 'FAILED', 'PARTIAL_SUCCESS', 'STOPPED'] as const); break;
      case 'cm.failed': faults.cmJobFailedRate = rate(name, value); break;
      case 'cm.stopped': faults.cmJobStoppedRate = rate(name, value); break;
      case 'cm.partial': faults.cmJobPartialRate = rate(name, value); break;
      case 'cm.jobMinutes': faults.cmJobMinutes = positive(name, value); break;
      case 'cm.slow': faults.cmSlowJobRate = rate(name, value); break;
      case 'cm.slowMinutes': faults.cmSlowJobMinutes = positive(name, value); break;
      case 'er.throttle': faults.erThrottleRate = rate(name, value); break;
      case 'er.internal': faults.erInternalErrorRate = rate(name, value); break;
      case 'er.conflict': faults.erConflictRate = rate(name, value); break;
      case 'er.job': faults.erJobOutcome = oneOf(name, value, ['SUCCEEDED', 'FAILED'] as const); break;
      case 'er.failed': faults.erJobFailedRate = rate(name, value); break;
      case 'er.jobMinutes': faults.erJobMinutes = positive(name, value); break;
      case 's3.duplicate': faults.s3DuplicateRate = rate(name, value); break;
      case 's3.reorder': faults.s3ReorderSeconds = positive(name, value); break;
      case 'sqs.redeliver': faults.sqsRedeliverRate = rate(name, value); break;
      case 'crash': faults.crashAt.push(crashPoint(value)); break;
      case 'crash.rate': faults.crashRate = rate(name, value); break;
      case 'lambda.serviceError': faults.lambdaServiceErrorRate = rate(name, value); break;
      case 'seed': faults.seed = Math.trunc(positive(name, value)); break;
      default:
        throw new Error(`--faults: unknown fault "${name}" (known: ${FAULT_NAMES.join(', ')})`);
    }
  }
  if (faults.cmThrottleRate + faults.cmInternalErrorRate > 1) throw new Error('--faults: cm.throttle + cm.internal must not exceed 1');
  if (faults.erThrottleRate + faults.erInternalErrorRate > 1) throw new Error('--faults: er.throttle + er.internal must not exceed 1');
  if (faults.cmJobFailedRate + faults.cmJobStoppedRate + faults.cmJobPartialRate > 1) {
    throw new Error('--faults: cm.failed + cm.stopped + cm.partial must not exceed 1');
  }
  return faults;
}

/**
 * How a Comprehend Medical job ends and how long it takes, from the spec and two draws in [0, 1).
 * Also says which faults this job carries, for the emulator's counts.
 */
export function planCmJob(faults: FaultSpec, outcomeDraw: number, slowDraw: number): { outcome: CmJobOutcome; minutes: number; injected: string[] } {
  const injected: string[] = [];
  let outcome: CmJobOutcome = faults.cmJobOutcome;
  const f = faults.cmJobFailedRate;
  const s = faults.cmJobStoppedRate;
  const p = faults.cmJobPartialRate;
  if (outcomeDraw < f) outcome = 'FAILED';
  else if (outcomeDraw < f + s) outcome = 'STOPPED';
  else if (outcomeDraw < f + s + p) outcome = 'PARTIAL_SUCCESS';
  if (outcome === 'FAILED') injected.push('cm.failed');
  if (outcome === 'STOPPED') injected.push('cm.stopped');
  if (outcome === 'PARTIAL_SUCCESS') injected.push('cm.partial');
  const slow = slowDraw < faults.cmSlowJobRate;
  if (slow) injected.push('cm.slow');
  return { outcome, minutes: slow ? faults.cmSlowJobMinutes : faults.cmJobMinutes, injected };
}

/** Counts of injected faults by name (`cm.throttle`, `crash:ingest:after-claim`, ...). */
export class FaultCounter {
  private readonly counts = new Map<string, number>();
  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** A small deterministic generator (mulberry32): the same seed gives the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
