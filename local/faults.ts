/**
 * Fault injection for the local runtime, selectable per run (`--faults`) and from tests.
 *
 * A spec is a comma-separated list of `name=value` pairs, for example
 *   `cm.throttle=0.3,cm.job=FAILED,cm.jobMinutes=45,er.job=FAILED,crash=ingest:after-claim,seed=7`.
 * Every emulator reads only its own section; all randomness comes from one seeded generator so
 * a run with the same spec and seed injects the same faults.
 */
export interface FaultSpec {
  /** Comprehend Medical: fraction of API calls answered with TooManyRequestsException. */
  cmThrottleRate: number;
  /** Comprehend Medical: fraction of API calls answered with InternalServerException. */
  cmInternalErrorRate: number;
  /** Comprehend Medical: how batch jobs end (default COMPLETED). */
  cmJobOutcome: 'COMPLETED' | 'FAILED' | 'PARTIAL_SUCCESS' | 'STOPPED';
  /** Comprehend Medical: virtual duration of a batch job in minutes (default 5). */
  cmJobMinutes: number;
  /** Entity Resolution: fraction of API calls answered with ThrottlingException. */
  erThrottleRate: number;
  /** Entity Resolution: fraction of API calls answered with InternalServerException. */
  erInternalErrorRate: number;
  /** Entity Resolution: how matching jobs end (default SUCCEEDED). */
  erJobOutcome: 'SUCCEEDED' | 'FAILED';
  /** Entity Resolution: virtual duration of a matching job in minutes (default 2). */
  erJobMinutes: number;
  /** Lambda crash points, `<function>:<step>` (the function throws once when it reaches the step). */
  crashAt: string[];
  seed: number;
}

export const defaultFaults: FaultSpec = {
  cmThrottleRate: 0,
  cmInternalErrorRate: 0,
  cmJobOutcome: 'COMPLETED',
  cmJobMinutes: 5,
  erThrottleRate: 0,
  erInternalErrorRate: 0,
  erJobOutcome: 'SUCCEEDED',
  erJobMinutes: 2,
  crashAt: [],
  seed: 1,
};

const rate = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--faults ${name}: expected a rate between 0 and 1, got "${value}"`);
  return n;
};
const positive = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--faults ${name}: expected a non-negative number, got "${value}"`);
  return n;
};
function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--faults ${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
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
      case 'cm.job': faults.cmJobOutcome = oneOf(name, value, ['COMPLETED', 'FAILED', 'PARTIAL_SUCCESS', 'STOPPED'] as const); break;
      case 'cm.jobMinutes': faults.cmJobMinutes = positive(name, value); break;
      case 'er.throttle': faults.erThrottleRate = rate(name, value); break;
      case 'er.internal': faults.erInternalErrorRate = rate(name, value); break;
      case 'er.job': faults.erJobOutcome = oneOf(name, value, ['SUCCEEDED', 'FAILED'] as const); break;
      case 'er.jobMinutes': faults.erJobMinutes = positive(name, value); break;
      case 'crash': faults.crashAt.push(value); break;
      case 'seed': faults.seed = Math.trunc(positive(name, value)); break;
      default:
        throw new Error(`--faults: unknown fault "${name}" (known: cm.throttle, cm.internal, cm.job, cm.jobMinutes, er.throttle, er.internal, er.job, er.jobMinutes, crash, seed)`);
    }
  }
  return faults;
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
