/**
 * Candidate batches are never left behind: a redelivery of documents that are all claimed already
 * opens no candidate, so an invocation that dies before it could drop an empty candidate leaves
 * no OPEN batch that nothing will ever seal (found by the mixed-fault soak run: an S3 notification
 * repeated, then the ingest Lambda crashing after its claims).
 */
import { ingest } from '../../lambdas/ingest/ingest.js';
import { crashAt, createWorld, drop, putItem, scanTable, startDynamo, type LocalDynamo, type World } from '../fixtures/ingest/harness.js';

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

test('a repeated notification whose invocation crashes after the claims leaves no OPEN batch', async () => {
  // Arrange: two notes processed once
  drop(world, 'inbox/a.txt', 'clinical note a');
  drop(world, 'inbox/b.txt', 'clinical note b');
  const first = await ingest(world.messages, world.deps());
  expect(first.failedMessageIds).toEqual([]);

  // Act: the same notifications again; that invocation dies after its claims, SQS redelivers
  const checkpoint = crashAt('after-claim');
  await expect(ingest(world.messages, world.deps(checkpoint))).rejects.toThrow('Injected crash at ingest:after-claim');
  const retry = await ingest(world.messages, world.deps(checkpoint));

  // Assert
  expect(retry.failedMessageIds).toEqual([]);
  const { batches, documents } = await scanTable(world);
  expect(batches.map((b) => [b.status, b.documentIds?.length])).toEqual([['SUBMITTED', 2]]);
  expect(documents).toHaveLength(2);
});

test('new and already claimed documents in one invocation: one candidate, only the new ones claimed into it', async () => {
  // Arrange
  drop(world, 'inbox/a.txt', 'clinical note a');
  await ingest(world.messages, world.deps());
  drop(world, 'inbox/b.txt', 'clinical note b');

  // Act: both messages (a repeated, b new)
  const result = await ingest(world.messages, world.deps());

  // Assert
  expect(result.failedMessageIds).toEqual([]);
  expect(result.claimedCount).toBe(1);
  const { batches } = await scanTable(world);
  expect(batches.map((b) => [b.status, b.documentIds?.length]).sort()).toEqual([['SUBMITTED', 1], ['SUBMITTED', 1]]);
});

describe('abandoned candidates', () => {
  const HOUR = 3600_000;
  const openBatch = (batchId: string, at: string) => ({
    pk: `BATCH#${batchId}`, sk: 'BATCH', entity: 'BATCH', batchId, status: 'OPEN', createdAt: at, updatedAt: at, gsi1pk: 'BATCH#OPEN', gsi1sk: at,
  });

  test('an old empty OPEN candidate is deleted by a later invocation; a young one, or one a claim points at, is kept', async () => {
    // Arrange: three OPEN candidates left by dead invocations, one of them with a claim
    const old = new Date(world.clock.now().getTime() - 2 * HOUR).toISOString();
    const young = world.clock.now().toISOString();
    await putItem(world, openBatch('old-empty', old));
    await putItem(world, openBatch('young-empty', young));
    await putItem(world, openBatch('old-claimed', old));
    await putItem(world, {
      pk: 'DOC#d1', sk: 'DOC', entity: 'DOCUMENT', documentId: 'd1', bucket: 'b', key: 'inbox/x.txt', versionId: 'null',
      status: 'CLAIMED', batchId: 'old-claimed', createdAt: old, updatedAt: old, gsi1pk: 'DOC#CLAIMED', gsi1sk: old,
    });
    drop(world, 'inbox/a.txt', 'clinical note a');

    // Act
    const result = await ingest(world.messages, { ...world.deps(), abandonedCandidateAfterMs: HOUR });

    // Assert
    expect(result.failedMessageIds).toEqual([]);
    const { batches } = await scanTable(world);
    expect(batches.filter((b) => b.status === 'OPEN').map((b) => b.batchId).sort()).toEqual(['old-claimed', 'young-empty']);
    expect(world.logger.messages()).toContain('abandoned candidate batch deleted');
  });

  test('without abandonedCandidateAfterMs nothing is swept', async () => {
    await putItem(world, openBatch('old-empty', new Date(world.clock.now().getTime() - 48 * HOUR).toISOString()));
    await ingest([], world.deps());
    expect((await scanTable(world)).batches.map((b) => b.batchId)).toEqual(['old-empty']);
  });
});
