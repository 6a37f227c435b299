import 'aws-sdk-client-mock-jest';
import { DetailType } from '../../contracts/events.js';
import { Keys, statusKey, type BatchItem, type DocumentItem } from '../../contracts/table.js';
import { ingest } from '../../lambdas/ingest/ingest.js';
import { documentId } from '../../lambdas/shared/documents.js';
import {
  BUCKET,
  crashAt,
  createWorld,
  drop,
  expectExactlyOnce,
  getBatch,
  putItem,
  scanTable,
  startDynamo,
  type LocalDynamo,
  type World,
} from '../fixtures/ingest/harness.js';

let dynamo: LocalDynamo;
let world: World;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  world = await createWorld(dynamo);
});

const CHECKPOINTS = ['after-validate', 'after-claim', 'after-seal', 'after-copy', 'after-start-jobs', 'after-start-execution', 'after-submit'];

/** Drops `n` notes (one message each) and returns their document ids. */
function dropNotes(n: number, prefix = 'note'): string[] {
  return Array.from({ length: n }, (_, i) => {
    const key = `inbox/${prefix}-${i + 1}.txt`;
    const message = drop(world, key, `clinical note number ${i + 1}`);
    const versionId = world.s3.get(key)?.versionId;
    expect(message.body).toContain(key);
    return documentId({ bucket: BUCKET, key, ...(versionId ? { versionId } : {}) });
  });
}

describe('crash and retry at each checkpoint', () => {
  test.each(CHECKPOINTS)('%s: the redelivered batch ends with each document in exactly one batch', async (step) => {
    // Arrange
    const ids = dropNotes(3);
    drop(world, 'inbox/empty.txt', '');
    const checkpoint = crashAt(step);

    // Act: the invocation dies at the step, SQS redelivers every message of it.
    await expect(ingest(world.messages, world.deps(checkpoint))).rejects.toThrow(`Injected crash at ingest:${step}`);
    const retry = await ingest(world.messages, world.deps(checkpoint));

    // Assert
    expect(checkpoint.fired).toBe(true);
    expect(retry.failedMessageIds).toEqual([]);
    await expectExactlyOnce(world, ids);
    expect(world.events.ofType(DetailType.DocumentRejected)).toHaveLength(1);
    expect(world.sfn.executions.size).toBe(1);
    expect(world.events.ofType(DetailType.BatchSubmitted).length).toBeGreaterThanOrEqual(1);
  });

  test.each(CHECKPOINTS)('%s: the redelivery is split over two invocations', async (step) => {
    const ids = dropNotes(4);
    const checkpoint = crashAt(step);
    await expect(ingest(world.messages, world.deps(checkpoint))).rejects.toThrow('Injected crash');

    const first = await ingest(world.messages.slice(0, 2), world.deps(checkpoint));
    const second = await ingest(world.messages.slice(2), world.deps(checkpoint));

    expect([...first.failedMessageIds, ...second.failedMessageIds]).toEqual([]);
    await expectExactlyOnce(world, ids);
  });

  test('crashes at every checkpoint in turn, one per delivery, still end exactly once', async () => {
    const ids = dropNotes(3);
    const outcomes: string[] = [];
    for (const step of CHECKPOINTS) {
      outcomes.push(await ingest(world.messages, world.deps(crashAt(step))).then(() => 'ok', (error: Error) => error.name));
    }
    const last = await ingest(world.messages, world.deps());

    // Each delivery gets one step further and dies there, up to and including after-submit.
    expect(outcomes).toEqual(CHECKPOINTS.map(() => 'InjectedCrash'));
    expect(last.failedMessageIds).toEqual([]);
    expect(last.duplicateCount).toBe(3);
    await expectExactlyOnce(world, ids);
  });

  test('a job start whose response is lost is found by name on the retry, not started twice', async () => {
    const ids = dropNotes(2);
    world.comprehend.loseNextResponse.add('entities');
    await expect(ingest(world.messages, world.deps())).rejects.toThrow('socket hang up');

    const retry = await ingest(world.messages, world.deps());

    expect(retry.failedMessageIds).toEqual([]);
    await expectExactlyOnce(world, ids);
    const [batch] = (await scanTable(world)).batches;
    expect(batch?.entitiesJob?.jobId).toBe(world.comprehend.startsFor('b001-20260101', 'entities')[0]?.JobId);
    expect(world.comprehend.jobs).toHaveLength(2);
  });
});

describe('resume rules for an existing claim', () => {
  const now = '2026-01-01T07:00:00.000Z';
  const batchItem = (batchId: string, status: BatchItem['status'], documentIds?: string[]): BatchItem => ({
    ...Keys.batch(batchId),
    sk: 'BATCH',
    entity: 'BATCH',
    batchId,
    status,
    ...(documentIds ? { documentIds, documentCount: documentIds.length } : {}),
    createdAt: now,
    updatedAt: now,
    gsi1pk: statusKey('BATCH', status),
    gsi1sk: now,
  });
  /** A claim left by an earlier (crashed) invocation for a note already in the inbox. */
  const claimFor = (key: string, batchId: string): { id: string; item: DocumentItem } => {
    const versionId = world.s3.get(key)?.versionId ?? 'null';
    const id = documentId({ bucket: BUCKET, key, versionId });
    return {
      id,
      item: {
        ...Keys.document(id),
        sk: 'DOC',
        entity: 'DOCUMENT',
        documentId: id,
        bucket: BUCKET,
        key,
        versionId,
        status: 'CLAIMED',
        batchId,
        createdAt: now,
        updatedAt: now,
        gsi1pk: statusKey('DOC', 'CLAIMED'),
        gsi1sk: now,
      },
    };
  };

  test('claim in a SUBMITTED batch that holds it: duplicate, acknowledged, nothing started', async () => {
    const [message] = [drop(world, 'inbox/a.txt', 'note a')];
    const a = claimFor('inbox/a.txt', 'old-batch');
    await putItem(world, { ...batchItem('old-batch', 'SUBMITTED', [a.id]) });
    await putItem(world, { ...a.item });

    const result = await ingest([message!], world.deps());

    expect(result).toMatchObject({ failedMessageIds: [], duplicateCount: 1, submittedBatchIds: [] });
    expect(world.comprehend.jobs).toEqual([]);
    expect(world.sfn.startCalls).toEqual([]);
    expect(world.logger.lines.some((l) => l.includes('"duplicate"') && l.includes(a.id))).toBe(true);
  });

  test.each(['AWAITING_MATCH', 'COMPLETED', 'FAILED'] as const)('claim in a %s batch that holds it: duplicate', async (status) => {
    const message = drop(world, 'inbox/a.txt', 'note a');
    const a = claimFor('inbox/a.txt', 'old-batch');
    await putItem(world, { ...batchItem('old-batch', status, [a.id]) });
    await putItem(world, { ...a.item });

    const result = await ingest([message], world.deps());

    expect(result).toMatchObject({ failedMessageIds: [], duplicateCount: 1 });
    expect((await getBatch(world, 'old-batch'))?.status).toBe(status);
  });

  test('claim in a SEALED batch that holds it: that batch is resumed, with the documents of other invocations', async () => {
    const message = drop(world, 'inbox/a.txt', 'note a');
    drop(world, 'inbox/b.txt', 'note b'); // b's notification is not in this delivery
    const a = claimFor('inbox/a.txt', 'sealed-batch');
    const b = claimFor('inbox/b.txt', 'sealed-batch');
    await putItem(world, { ...batchItem('sealed-batch', 'SEALED', [a.id, b.id].sort()) });
    await putItem(world, { ...a.item });
    await putItem(world, { ...b.item });

    const result = await ingest([message], world.deps());

    expect(result).toMatchObject({ failedMessageIds: [], submittedBatchIds: ['sealed-batch'] });
    await expectExactlyOnce(world, [a.id, b.id]);
    expect(new TextDecoder().decode(world.s3.get(`batches/sealed-batch/input/${b.id}.txt`)?.bytes)).toBe('note b');
  });

  test.each(['SEALED', 'SUBMITTED', 'COMPLETED'] as const)(
    'claim pointing at a %s batch without it: stolen into the current batch (condition batchId = Y)',
    async (status) => {
      const message = drop(world, 'inbox/a.txt', 'note a');
      drop(world, 'inbox/other.txt', 'other note');
      const other = claimFor('inbox/other.txt', 'y');
      const a = claimFor('inbox/a.txt', 'y');
      await putItem(world, { ...batchItem('y', status, [other.id]) });
      await putItem(world, { ...other.item });
      await putItem(world, { ...a.item });

      const result = await ingest([message], world.deps());

      expect(result).toMatchObject({ failedMessageIds: [], submittedBatchIds: ['b001-20260101'] });
      const { documents } = await scanTable(world);
      expect(documents.find((d) => d.documentId === a.id)?.batchId).toBe('b001-20260101');
      expect(documents.find((d) => d.documentId === other.id)?.batchId).toBe('y');
      expect((await getBatch(world, 'b001-20260101'))?.documentIds).toEqual([a.id]);
      expect((await getBatch(world, 'y'))?.status).toBe(status);
      expect(world.s3.get(`batches/y/input/${a.id}.txt`)).toBeUndefined();
    },
  );

  test('claims pointing at an OPEN batch (crashed before sealing): adopted, sealed with the documents at hand', async () => {
    const messageA = drop(world, 'inbox/a.txt', 'note a');
    const messageB = drop(world, 'inbox/b.txt', 'note b');
    const a = claimFor('inbox/a.txt', 'crashed');
    const b = claimFor('inbox/b.txt', 'crashed');
    await putItem(world, { ...batchItem('crashed', 'OPEN') });
    await putItem(world, { ...a.item });
    await putItem(world, { ...b.item });

    // Only a's notification comes back in this delivery.
    const first = await ingest([messageA], world.deps());

    expect(first).toMatchObject({ failedMessageIds: [], submittedBatchIds: ['crashed'] });
    expect((await getBatch(world, 'crashed'))?.documentIds).toEqual([a.id]);
    // Every document was claimed already: no candidate was opened.
    expect(await getBatch(world, 'b001-20260101')).toBeUndefined();

    // b comes later: `crashed` is sealed without it, so it is stolen into a new batch.
    const second = await ingest([messageB], world.deps());

    expect(second).toMatchObject({ failedMessageIds: [], submittedBatchIds: ['b001-20260101'] });
    await expectExactlyOnce(world, [a.id, b.id]);
  });

  test('a claim to steal whose object version is gone becomes a NOT_FOUND rejection, not a stuck copy', async () => {
    drop(world, 'inbox/a.txt', 'note a');
    const a = claimFor('inbox/a.txt', 'y');
    const message = { messageId: 'm-a', body: world.messages[0]!.body };
    world.s3.objects.clear();
    await putItem(world, { ...batchItem('y', 'SUBMITTED', ['0'.repeat(32)]) });
    await putItem(world, { ...a.item });

    const result = await ingest([message], world.deps());

    expect(result).toMatchObject({ failedMessageIds: [], rejectedCount: 1, submittedBatchIds: [] });
    const { documents, batches } = await scanTable(world);
    expect(documents[0]).toMatchObject({ status: 'REJECTED', reason: 'NOT_FOUND', rejectionDone: true, gsi1pk: 'DOC#REJECTED' });
    expect(documents[0]?.batchId).toBeUndefined();
    expect(batches.map((b) => b.batchId)).toEqual(['y']);
    expect(world.events.ofType(DetailType.DocumentRejected)).toHaveLength(1);
    world.events.expectAllValid();
  });

  test('a stolen document joins the new documents of the same invocation', async () => {
    const stale = drop(world, 'inbox/a.txt', 'note a');
    const fresh = drop(world, 'inbox/fresh.txt', 'fresh note');
    const a = claimFor('inbox/a.txt', 'y');
    await putItem(world, { ...batchItem('y', 'SUBMITTED', ['0'.repeat(32)]) });
    await putItem(world, { ...a.item });
    const freshId = documentId({ bucket: BUCKET, key: 'inbox/fresh.txt', versionId: world.s3.get('inbox/fresh.txt')?.versionId });

    const result = await ingest([stale, fresh], world.deps());

    expect(result.submittedBatchIds).toEqual(['b001-20260101']);
    expect((await getBatch(world, 'b001-20260101'))?.documentIds).toEqual([a.id, freshId].sort());
  });

  test('a claim without a batch item behind it is a state error, thrown (never acknowledged)', async () => {
    const message = drop(world, 'inbox/a.txt', 'note a');
    const a = claimFor('inbox/a.txt', 'missing');
    await putItem(world, { ...a.item });

    await expect(ingest([message], world.deps())).rejects.toMatchObject({ name: 'BatchStateError' });
  });
});
