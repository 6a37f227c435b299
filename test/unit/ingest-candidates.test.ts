/**
 * Candidate batches are never left behind: a redelivery of documents that are all claimed already
 * opens no candidate, so an invocation that dies before it could drop an empty candidate leaves
 * no OPEN batch that nothing will ever seal (found by the mixed-fault soak run: an S3 notification
 * repeated, then the ingest Lambda crashing after its claims).
 */
import { ingest } from '../../lambdas/ingest/ingest.js';
import { crashAt, createWorld, drop, scanTable, startDynamo, type LocalDynamo, type World } from '../fixtures/ingest/harness.js';

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
