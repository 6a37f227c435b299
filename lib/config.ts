import type { Node } from 'constructs';

/**
 * A wait/describe loop's schedule: exponential backoff from `baseSeconds` to `capSeconds`, bounded
 * by a deadline. With `maxLagRatio`, no poll lands later than `(1 + maxLagRatio) × max(elapsed,
 * lagBoundFromSeconds)`: a job that ends after `lagBoundFromSeconds` is seen at most `maxLagRatio`
 * of its duration late, while shorter jobs keep the sparse backoff (see lib/constructs/job-poller.ts).
 */
export interface PollSchedule {
  baseSeconds: number;
  capSeconds: number;
  backoffRate: number;
  deadlineSeconds: number;
  /** Largest detection lag as a fraction of the elapsed time (0.1 = 10 %), from `lagBoundFromSeconds` on. */
  maxLagRatio?: number;
  /** When the lag bound starts to hold (seconds of polling); default `baseSeconds`. */
  lagBoundFromSeconds?: number;
}

/**
 * Everything a deployer may tune, read from CDK context (`-c chartflow:batchSize=1000` or
 * cdk.json) with defaults that suit a small team. See the README's "Deploy" section.
 */
export interface ChartflowConfig {
  /** Most documents in one batch (= the SQS batch size of the ingest function). 1–5,000. */
  batchSize: number;
  /** How long the queue gathers documents before invoking ingest, in seconds (0–300). */
  batchingWindowSeconds: number;
  /** Concurrent ingest invocations at most (SQS event source maximum concurrency, 2–1,000). */
  ingestMaxConcurrency: number;
  ingestTimeoutSeconds: number;
  /** Receives before a notification goes to the ingest DLQ. */
  maxReceiveCount: number;
  /** Comprehend Medical's per-file limit, in bytes. */
  maxDocumentBytes: number;
  detectionPoll: PollSchedule;
  matchingPoll: PollSchedule;
  /** How a batch waits while another batch's matching run holds the lock. */
  matchingTurnPoll: PollSchedule;
  /** A matching lock without a live owner expires after this many seconds. */
  matchingLockSeconds: number;
  /** Days before a document left in inbox/ expires (it was copied to batches/ on ingest). */
  inboxRetentionDays: number;
  /** Days before a rejected document expires. */
  rejectedRetentionDays: number;
  /** Days before a replaced or deleted object version expires. */
  noncurrentVersionRetentionDays: number;
  logRetentionDays: number;
  eventArchiveRetentionDays: number;
}

export const defaultConfig: ChartflowConfig = {
  batchSize: 500,
  batchingWindowSeconds: 60,
  ingestMaxConcurrency: 2,
  ingestTimeoutSeconds: 120,
  maxReceiveCount: 5,
  maxDocumentBytes: 70_000,
  // Backoff for short jobs; from 30 minutes on a job is seen at most 10 % late (at most 15 min).
  detectionPoll: { baseSeconds: 60, capSeconds: 900, backoffRate: 1.5, deadlineSeconds: 24 * 3600, maxLagRatio: 0.1, lagBoundFromSeconds: 1800 },
  matchingPoll: { baseSeconds: 30, capSeconds: 600, backoffRate: 1.5, deadlineSeconds: 6 * 3600 },
  matchingTurnPoll: { baseSeconds: 60, capSeconds: 600, backoffRate: 1.5, deadlineSeconds: 12 * 3600 },
  matchingLockSeconds: 8 * 3600,
  inboxRetentionDays: 30,
  rejectedRetentionDays: 90,
  noncurrentVersionRetentionDays: 30,
  logRetentionDays: 365,
  eventArchiveRetentionDays: 365,
};

const CONTEXT_PREFIX = 'chartflow:';

/** Reads `chartflow:<name>` context values over the defaults; throws on values out of range. */
export function configFromContext(node: Node, overrides: Partial<ChartflowConfig> = {}): ChartflowConfig {
  const config: ChartflowConfig = structuredClone({ ...defaultConfig, ...overrides });
  const numbers: Array<keyof ChartflowConfig> = [
    'batchSize', 'batchingWindowSeconds', 'ingestMaxConcurrency', 'ingestTimeoutSeconds', 'maxReceiveCount',
    'maxDocumentBytes', 'matchingLockSeconds', 'inboxRetentionDays', 'rejectedRetentionDays',
    'noncurrentVersionRetentionDays', 'logRetentionDays', 'eventArchiveRetentionDays',
  ];
  for (const name of numbers) {
    const raw: unknown = node.tryGetContext(`${CONTEXT_PREFIX}${name}`);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`context ${CONTEXT_PREFIX}${name}: expected a number, got ${String(raw)}`);
    (config as unknown as Record<string, number>)[name] = value;
  }
  for (const name of ['detectionPoll', 'matchingPoll', 'matchingTurnPoll'] as const) {
    const raw: unknown = node.tryGetContext(`${CONTEXT_PREFIX}${name}`);
    if (raw === undefined) continue;
    const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`context ${CONTEXT_PREFIX}${name}: expected a JSON object, got ${String(raw)}`);
    }
    const merged: Record<string, unknown> = { ...config[name], ...parsed };
    // null switches an optional member off (e.g. `"maxLagRatio": null` for plain backoff).
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    config[name] = merged as unknown as PollSchedule;
  }
  validateConfig(config);
  return config;
}

export function validateConfig(c: ChartflowConfig): void {
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new Error(`Invalid Chartflow configuration: ${message}`);
  };
  check(Number.isInteger(c.batchSize) && c.batchSize >= 1 && c.batchSize <= 5000, 'batchSize must be an integer 1–5000');
  check(c.batchingWindowSeconds >= 0 && c.batchingWindowSeconds <= 300, 'batchingWindowSeconds must be 0–300');
  check(c.batchSize <= 10 || c.batchingWindowSeconds >= 1, 'a batchSize over 10 needs batchingWindowSeconds >= 1 (an SQS rule)');
  check(c.ingestMaxConcurrency >= 2 && c.ingestMaxConcurrency <= 1000, 'ingestMaxConcurrency must be 2–1000');
  check(c.ingestTimeoutSeconds >= 10 && c.ingestTimeoutSeconds <= 900, 'ingestTimeoutSeconds must be 10–900');
  check(c.ingestTimeoutSeconds * 6 <= 43_200, 'the queue visibility (6 × ingestTimeoutSeconds) must stay within 12 hours');
  check(c.maxReceiveCount >= 1 && c.maxReceiveCount <= 1000, 'maxReceiveCount must be 1–1000');
  check(c.maxDocumentBytes >= 1 && c.maxDocumentBytes <= 70_000, 'maxDocumentBytes must be 1–70000 (the service limit)');
  for (const name of ['detectionPoll', 'matchingPoll', 'matchingTurnPoll'] as const) {
    const p = c[name];
    for (const [key, value] of Object.entries(p)) check(typeof value === 'number' && Number.isFinite(value), `${name}.${key} must be a number`);
    check(p.baseSeconds >= 1 && p.capSeconds >= p.baseSeconds, `${name}: need 1 <= baseSeconds <= capSeconds`);
    check(p.backoffRate >= 1 && p.backoffRate <= 10, `${name}: backoffRate must be 1–10`);
    check(p.deadlineSeconds >= p.baseSeconds && p.deadlineSeconds <= 30 * 86400, `${name}: deadlineSeconds must be >= baseSeconds and <= 30 days`);
    check(p.maxLagRatio === undefined || (p.maxLagRatio > 0 && p.maxLagRatio <= 10), `${name}: maxLagRatio must be > 0 and <= 10`);
    check(p.lagBoundFromSeconds === undefined || (p.lagBoundFromSeconds >= p.baseSeconds && p.lagBoundFromSeconds <= p.deadlineSeconds), `${name}: lagBoundFromSeconds must be between baseSeconds and deadlineSeconds`);
    // A schedule is inlined in the definition (1 MB at most) unless it is constant.
    check(p.deadlineSeconds / p.baseSeconds <= 100_000, `${name}: deadlineSeconds / baseSeconds must be <= 100000`);
  }
}
