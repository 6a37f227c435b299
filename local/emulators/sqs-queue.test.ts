import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { VirtualClock } from '../clock.js';
import { LocalQueue, type LocalQueueOptions } from './sqs-queue.js';

const ARN = 'arn:aws:sqs:eu-west-1:123456789012:chartflow-ingest';
const START = Date.UTC(2026, 0, 1);

function setup(overrides: Partial<LocalQueueOptions> = {}) {
  const clock = new VirtualClock(START);
  const dead: SQSRecord[] = [];
  let n = 0;
  const queue = new LocalQueue({
    clock,
    batchSize: 3,
    maximumBatchingWindowSeconds: 20,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 3,
    deadLetter: (message) => dead.push(message),
    eventSourceARN: ARN,
    newMessageId: () => `m${++n}`,
    ...overrides,
  });
  return { clock, queue, dead };
}

const ids = (batch: SQSRecord[] | undefined) => batch?.map((m) => m.messageId);

describe('LocalQueue', () => {
  it('waits for the batching window when fewer than batchSize messages are visible', () => {
    const { clock, queue } = setup();
    expect(queue.nextWakeTime()).toBeUndefined();
    queue.send('a');
    clock.advance(5_000);
    queue.send('b');
    expect(queue.receiveBatch()).toBeUndefined();
    expect(queue.nextWakeTime()).toBe(START + 20_000); // the oldest message's window
    clock.advance(14_999);
    expect(queue.receiveBatch()).toBeUndefined();
    clock.advance(1);
    expect(ids(queue.receiveBatch())).toEqual(['m1', 'm2']);
    expect(queue.inFlight).toBe(2);
  });

  it('releases a batch as soon as batchSize messages are visible, and no more than batchSize', () => {
    const { queue } = setup();
    for (const body of ['a', 'b', 'c', 'd']) queue.send(body);
    expect(queue.nextWakeTime()).toBe(START);
    const batch = queue.receiveBatch();
    expect(ids(batch)).toEqual(['m1', 'm2', 'm3']);
    expect(queue.receiveBatch()).toBeUndefined(); // m4 alone waits for its window
    expect(queue.size).toBe(4);
    expect(queue.inFlight).toBe(3);
  });

  it('delivers records in the Lambda SQS shape', () => {
    const { clock, queue } = setup({ maximumBatchingWindowSeconds: 0 });
    queue.send('{"Records":[]}');
    clock.advance(1_000);
    const [record] = queue.receiveBatch() ?? [];
    expect(record).toEqual({
      messageId: 'm1',
      receiptHandle: expect.any(String),
      body: '{"Records":[]}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(START),
        SenderId: 'LOCAL',
        ApproximateFirstReceiveTimestamp: String(START + 1_000),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update('{"Records":[]}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: ARN,
      awsRegion: 'eu-west-1',
    });
  });

  it('deletes the succeeded messages of a partial failure and redelivers the failed one after the visibility timeout', () => {
    const { clock, queue } = setup();
    ['a', 'b', 'c'].forEach((b) => queue.send(b));
    const first = queue.receiveBatch()!;
    const receivedAt = clock.now();
    clock.advance(10_000);
    queue.settle(first, ['m2']);
    expect(queue.size).toBe(1);
    expect(queue.inFlight).toBe(1);
    expect(queue.receiveBatch()).toBeUndefined();
    // Lambda does not change the visibility: it ends 60 s after the receive.
    expect(queue.nextWakeTime()).toBe(receivedAt + 60_000);
    clock.advanceTo(receivedAt + 60_000);
    expect(queue.inFlight).toBe(0);
    expect(queue.receiveBatch()).toBeUndefined(); // alone: waits for the batching window again
    expect(queue.nextWakeTime()).toBe(receivedAt + 80_000);
    clock.advanceTo(receivedAt + 80_000);
    const second = queue.receiveBatch()!;
    expect(ids(second)).toEqual(['m2']);
    expect(second[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second[0]?.attributes.ApproximateFirstReceiveTimestamp).toBe(String(receivedAt));
    expect(second[0]?.receiptHandle).not.toBe(first[1]?.receiptHandle);
    queue.settle(second, []);
    expect(queue.size).toBe(0);
    expect(queue.nextWakeTime()).toBeUndefined();
  });

  it('retries the whole batch when the handler throws', () => {
    const { clock, queue } = setup();
    ['a', 'b', 'c'].forEach((b) => queue.send(b));
    queue.settleAllFailed(queue.receiveBatch()!);
    clock.advance(60_000);
    const again = queue.receiveBatch()!;
    expect(ids(again)).toEqual(['m1', 'm2', 'm3']);
    expect(again.map((m) => m.attributes.ApproximateReceiveCount)).toEqual(['2', '2', '2']);
  });

  it('treats an unknown failed id as a failure of the whole batch, as Lambda does', () => {
    const { clock, queue } = setup();
    ['a', 'b', 'c'].forEach((b) => queue.send(b));
    queue.settle(queue.receiveBatch()!, ['not-in-batch']);
    expect(queue.size).toBe(3);
    clock.advance(60_000);
    expect(ids(queue.receiveBatch())).toEqual(['m1', 'm2', 'm3']);
  });

  it('moves a message to the dead-letter callback after maxReceiveCount receives', () => {
    const { clock, queue, dead } = setup({ maximumBatchingWindowSeconds: 0 });
    queue.send('poison');
    queue.send('fine');
    for (let receive = 1; receive <= 3; receive += 1) {
      const batch = queue.receiveBatch()!;
      expect(batch.find((m) => m.messageId === 'm1')?.attributes.ApproximateReceiveCount).toBe(String(receive));
      queue.settle(batch, ['m1']);
      expect(dead).toEqual([]);
      clock.advanceTo(queue.nextWakeTime()!);
    }
    // The clock moved past the last visibility timeout; the queue acts when it is next used.
    expect(queue.receiveBatch()).toBeUndefined();
    expect(dead.map((m) => [m.messageId, m.body, m.attributes.ApproximateReceiveCount])).toEqual([['m1', 'poison', '3']]);
    expect(queue.size).toBe(0);
    expect(queue.nextWakeTime()).toBeUndefined();
  });

  it('redelivers and finally dead-letters messages that are never settled', () => {
    const { clock, queue, dead } = setup({ maximumBatchingWindowSeconds: 0, maxReceiveCount: 2 });
    queue.send('crash');
    queue.receiveBatch(); // handler crashed: no settle
    expect(queue.receiveBatch()).toBeUndefined();
    clock.advanceTo(queue.nextWakeTime()!);
    const again = queue.receiveBatch()!;
    expect(again[0]?.attributes.ApproximateReceiveCount).toBe('2');
    clock.advanceTo(queue.nextWakeTime()!);
    expect(queue.size).toBe(0);
    expect(dead).toHaveLength(1);
  });

  it('ignores a late settle with a stale receipt handle', () => {
    const { clock, queue } = setup({ maximumBatchingWindowSeconds: 0 });
    queue.send('slow');
    const first = queue.receiveBatch()!;
    clock.advance(60_000);
    const second = queue.receiveBatch()!; // the visibility timeout ended before the first settle
    queue.settle(first, []);
    expect(queue.size).toBe(1);
    queue.settle(second, []);
    expect(queue.size).toBe(0);
  });

  it('validates its configuration and messages', () => {
    expect(() => setup({ batchSize: 0 })).toThrow('batchSize must be an integer from 1 to 10000');
    expect(() => setup({ batchSize: 100, maximumBatchingWindowSeconds: 0 })).toThrow('at least 1');
    expect(() => setup({ maximumBatchingWindowSeconds: 301 })).toThrow('maximumBatchingWindowSeconds');
    expect(() => setup({ eventSourceARN: 'chartflow-ingest' })).toThrow('eventSourceARN');
    const { queue } = setup();
    expect(() => queue.send('')).toThrow('non-empty');
    expect(() => queue.send('x'.repeat(256 * 1024 + 1))).toThrow('more than the 262144 allowed');
  });
  it('redelivers a successfully processed message once when asked (at-least-once delivery)', () => {
    const asked: string[] = [];
    const { queue } = setup({ maximumBatchingWindowSeconds: 0, redeliver: (m) => (asked.push(m.messageId), m.messageId === 'm1') });
    queue.send('a');
    queue.send('b');
    const first = queue.receiveBatch()!;
    queue.settle(first, []);
    expect(asked).toEqual(['m1', 'm2']);
    expect(queue.size).toBe(1); // m2 deleted, m1 kept for one more delivery
    const again = queue.receiveBatch()!;
    expect(ids(again)).toEqual(['m1']);
    expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    queue.settle(again, []);
    expect(asked).toEqual(['m1', 'm2']); // never asked twice for one message
    expect(queue.size).toBe(0);
  });

  it('never redelivers a failed message through the redelivery hook', () => {
    const asked: string[] = [];
    const { queue } = setup({ maximumBatchingWindowSeconds: 0, redeliver: (m) => (asked.push(m.messageId), true) });
    queue.send('a');
    queue.settleAllFailed(queue.receiveBatch()!);
    expect(asked).toEqual([]);
  });
});
