/**
 * The ingest queue of the local runtime: SQS standard-queue semantics seen through Lambda's SQS
 * event source mapping, as a deterministic in-process structure driven by a clock (no HTTP, no
 * timers). The runtime loop asks `nextWakeTime()`, advances the virtual clock there, calls
 * `receiveBatch()`, runs the handler and reports the outcome with `settle()` or
 * `settleAllFailed()`.
 *
 * - A batch is released when `batchSize` messages are visible, when the oldest visible message
 *   has waited `maximumBatchingWindowSeconds`, or when the visible bodies reach Lambda's 6 MB
 *   invocation payload limit — as Lambda's poller does.
 * - Receiving makes a message invisible for `visibilityTimeoutSeconds` and counts the receive.
 * - ReportBatchItemFailures: the messages not reported as failed are deleted; the failed ones
 *   stay invisible until their visibility timeout ends (Lambda leaves it unchanged). A reported
 *   id that is not in the batch makes the whole batch count as failed, as Lambda does.
 * - At-least-once delivery: when `redeliver` says so for a successfully processed message, the
 *   message is not deleted but becomes visible again at once (a stored copy delivered again, as
 *   SQS standard queues may do), at most once per message.
 * - A message whose visibility timeout ends after `maxReceiveCount` receives is moved to the
 *   dead-letter callback instead of becoming visible again (SQS redrive policy). The same
 *   applies to messages never settled (a crashed or timed-out handler).
 *
 * There are no timers: what the clock makes due (a visibility timeout ending, a move to the
 * dead-letter callback) happens when the queue is next used — any method or counter.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { Clock } from '../clock.js';

export interface LocalQueueOptions {
  clock: Clock;
  /** 1–10,000 (above 10 Lambda requires a batching window of at least 1 s). */
  batchSize: number;
  /** 0–300. */
  maximumBatchingWindowSeconds: number;
  /** 0–43,200. */
  visibilityTimeoutSeconds: number;
  /** 1–1,000: receives before a message goes to the dead-letter callback. */
  maxReceiveCount: number;
  deadLetter: (message: SQSRecord) => void;
  /** `arn:aws:sqs:<region>:<account>:<name>`; the region becomes `awsRegion` of the records. */
  eventSourceARN: string;
  /** Message ids; random UUIDs by default (inject for reproducible ids). */
  newMessageId?: () => string;
  /** Fault injection: asked for each successfully processed message whether to deliver it once more. */
  redeliver?: (message: SQSRecord) => boolean;
}

/** Messages are delivered in the shape Lambda gives its SQS handler. */
export type Message = SQSRecord;

/** SQS's classic maximum message size. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Lambda's synchronous invocation payload limit, which also bounds an SQS batch. */
const MAX_BATCH_BYTES = 6 * 1024 * 1024;

interface Entry {
  seq: number;
  messageId: string;
  body: string;
  bytes: number;
  md5OfBody: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Epoch ms from which the message can be received (again). */
  visibleAt: number;
  /** Handle of the latest receive; settling with an older handle is ignored. */
  receiptHandle?: string;
  lastRecord?: Message;
  /** Delivered again after a successful receive (at most once). */
  redelivered?: boolean;
}

export class LocalQueue {
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly visibilityMs: number;
  private readonly maxReceiveCount: number;
  private readonly deadLetter: (message: Message) => void;
  private readonly eventSourceARN: string;
  private readonly awsRegion: string;
  private readonly newMessageId: () => string;
  private readonly redeliver: ((message: Message) => boolean) | undefined;
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(options: LocalQueueOptions) {
    const int = (name: string, value: number, min: number, max: number) => {
      if (!Number.isInteger(value) || value < min || value > max) throw new Error(`LocalQueue: ${name} must be an integer from ${min} to ${max}, got ${value}`);
      return value;
    };
    this.batchSize = int('batchSize', options.batchSize, 1, 10_000);
    const window = int('maximumBatchingWindowSeconds', options.maximumBatchingWindowSeconds, 0, 300);
    if (this.batchSize > 10 && window < 1) throw new Error('LocalQueue: a batchSize above 10 needs maximumBatchingWindowSeconds of at least 1 (as Lambda requires)');
    this.windowMs = window * 1000;
    this.visibilityMs = int('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 0, 43_200) * 1000;
    this.maxReceiveCount = int('maxReceiveCount', options.maxReceiveCount, 1, 1000);
    const arn = /^arn:aws[\w-]*:sqs:([a-z0-9-]+):(\d{12}):([\w-]{1,80}(\.fifo)?)$/.exec(options.eventSourceARN);
    if (!arn) throw new Error(`LocalQueue: eventSourceARN must look like arn:aws:sqs:<region>:<account>:<name>, got "${options.eventSourceARN}"`);
    this.awsRegion = arn[1] as string;
    this.eventSourceARN = options.eventSourceARN;
    this.clock = options.clock;
    this.deadLetter = options.deadLetter;
    this.newMessageId = options.newMessageId ?? randomUUID;
    this.redeliver = options.redeliver;
  }

  /** Enqueues a message; it is visible at once. Returns its message id. */
  send(body: string): string {
    if (typeof body !== 'string' || body.length === 0) throw new Error('LocalQueue.send: the body must be a non-empty string');
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_MESSAGE_BYTES) throw new Error(`LocalQueue.send: the body is ${bytes} bytes, more than the ${MAX_MESSAGE_BYTES} allowed`);
    const now = this.clock.now();
    const messageId = this.newMessageId();
    if (this.entries.has(messageId)) throw new Error(`LocalQueue.send: duplicate message id ${messageId}`);
    this.entries.set(messageId, {
      seq: this.seq++,
      messageId,
      body,
      bytes,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      sentAt: now,
      receiveCount: 0,
      visibleAt: now,
    });
    return messageId;
  }

  /**
   * The next batch if Lambda's poller would invoke now, else undefined. The messages become
   * invisible for the visibility timeout and their receive count goes up.
   */
  receiveBatch(): Message[] | undefined {
    const now = this.clock.now();
    this.expire(now);
    const visible = this.visible(now);
    if (!this.batchReady(visible, now)) return undefined;
    const batch: Message[] = [];
    let bytes = 0;
    for (const entry of visible) {
      if (batch.length === this.batchSize) break;
      if (batch.length > 0 && bytes + entry.bytes > MAX_BATCH_BYTES) break;
      bytes += entry.bytes;
      entry.receiveCount += 1;
      entry.firstReceiveAt ??= now;
      entry.visibleAt = now + this.visibilityMs;
      entry.receiptHandle = randomBytes(24).toString('base64');
      entry.lastRecord = this.toRecord(entry);
      batch.push(structuredClone(entry.lastRecord));
    }
    return batch;
  }

  /**
   * Reports a processed batch (ReportBatchItemFailures): messages not listed in
   * `failedMessageIds` are deleted; the listed ones come back after their visibility timeout.
   */
  settle(batch: Message[], failedMessageIds: string[]): void {
    const ids = new Set(batch.map((m) => m.messageId));
    // Lambda treats an unknown or empty identifier as a failure of the whole batch.
    const wholeBatchFailed = failedMessageIds.some((id) => typeof id !== 'string' || id === '' || !ids.has(id));
    const failed = new Set(wholeBatchFailed ? ids : failedMessageIds);
    for (const message of batch) {
      const entry = this.entries.get(message.messageId);
      // Already deleted or dead-lettered, or received again since: this receipt is stale.
      if (!entry || entry.receiptHandle !== message.receiptHandle) continue;
      if (!failed.has(message.messageId)) {
        if (!entry.redelivered && this.redeliver?.(structuredClone(message))) {
          entry.redelivered = true;
          entry.visibleAt = this.clock.now();
        } else {
          this.entries.delete(message.messageId);
        }
      }
      // Failed: nothing to do, the message reappears when its visibility timeout ends.
    }
    this.expire(this.clock.now());
  }

  /** The handler threw: every message of the batch is retried after its visibility timeout. */
  settleAllFailed(batch: Message[]): void {
    this.settle(batch, batch.map((m) => m.messageId));
  }

  /**
   * Epoch ms at which `receiveBatch()` may next return a batch or a message next changes state
   * (visibility timeout ends, dead-lettering): now if a batch is ready, undefined when the queue
   * is empty.
   */
  nextWakeTime(): number | undefined {
    const now = this.clock.now();
    this.expire(now);
    const visible = this.visible(now);
    if (this.batchReady(visible, now)) return now;
    let next: number | undefined;
    const consider = (t: number) => {
      if (next === undefined || t < next) next = t;
    };
    const oldest = visible[0];
    if (oldest) consider(oldest.visibleAt + this.windowMs);
    for (const entry of this.entries.values()) if (entry.visibleAt > now) consider(entry.visibleAt);
    return next;
  }

  /** Messages in the queue: visible, in flight, or waiting out a visibility timeout. */
  get size(): number {
    this.expire(this.clock.now());
    return this.entries.size;
  }

  /** Messages received and not yet deleted or visible again. */
  get inFlight(): number {
    const now = this.clock.now();
    this.expire(now);
    let count = 0;
    for (const entry of this.entries.values()) if (entry.visibleAt > now) count += 1;
    return count;
  }

  private visible(now: number): Entry[] {
    return [...this.entries.values()].filter((e) => e.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
  }

  private batchReady(visible: Entry[], now: number): boolean {
    const oldest = visible[0];
    if (!oldest) return false;
    if (visible.length >= this.batchSize) return true;
    if (now >= oldest.visibleAt + this.windowMs) return true;
    return visible.reduce((sum, e) => sum + e.bytes, 0) >= MAX_BATCH_BYTES;
  }

  /** Redrive: a message whose visibility timeout ended after maxReceiveCount receives leaves. */
  private expire(now: number): void {
    const due = [...this.entries.values()]
      .filter((e) => e.receiveCount >= this.maxReceiveCount && e.visibleAt <= now)
      .sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    for (const entry of due) {
      this.entries.delete(entry.messageId);
      this.deadLetter(structuredClone(entry.lastRecord ?? this.toRecord(entry)));
    }
  }

  private toRecord(entry: Entry): Message {
    return {
      messageId: entry.messageId,
      receiptHandle: entry.receiptHandle ?? '',
      body: entry.body,
      attributes: {
        ApproximateReceiveCount: String(entry.receiveCount),
        SentTimestamp: String(entry.sentAt),
        SenderId: 'LOCAL',
        ApproximateFirstReceiveTimestamp: String(entry.firstReceiveAt ?? entry.sentAt),
      },
      messageAttributes: {},
      md5OfBody: entry.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: this.eventSourceARN,
      awsRegion: this.awsRegion,
    };
  }
}
