import { ingest } from '../../lambdas/ingest/ingest.js';
import { documentId } from '../../lambdas/shared/documents.js';
import {
  BUCKET,
  crashAt,
  createWorld,
  drop,
  expectExactlyOnce,
  jitteryDoc,
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

function dropNotes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const key = `inbox/note-${i + 1}.txt`;
    drop(world, key, `clinical note number ${i + 1}`);
    return documentId({ bucket: BUCKET, key, versionId: world.s3.get(key)?.versionId });
  });
}

describe('concurrent invocations', () => {
  // Each seed delays every DynamoDB request differently, so claims, seals and steals of the two
  // invocations interleave differently (adopting a live candidate, losing a seal, stealing back).
  const SEEDS = [1, 2, 3];
  test.each([
    ['the same messages', [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]],
    ['overlapping messages', [0, 1, 2, 3], [2, 3, 4, 5]],
    ['one shared message', [0, 1, 2], [2, 3, 4, 5]],
  ])('two invocations racing on %s still place each document exactly once', async (_label, left, right) => {
    for (const seed of SEEDS) {
      world = await createWorld(dynamo);
      const ids = dropNotes(6);
      const pick = (indexes: number[]) => indexes.map((i) => world.messages[i]!);

      const results = await Promise.all([
        ingest(pick(left), world.deps(undefined, jitteryDoc(dynamo, seed * 2))),
        ingest(pick(right), world.deps(undefined, jitteryDoc(dynamo, seed * 2 + 1))),
      ]);

      expect(results.flatMap((r) => r.failedMessageIds)).toEqual([]);
      await expectExactlyOnce(world, ids);
    }
  });

  test('invocations racing a crashed one’s split redelivery adopt, steal and still end exactly once', async () => {
    for (const seed of SEEDS) {
      world = await createWorld(dynamo);
      const ids = dropNotes(5);
      await expect(ingest(world.messages, world.deps(crashAt('after-claim')))).rejects.toThrow('Injected crash');

      const results = await Promise.all([
        ingest(world.messages.slice(0, 3), world.deps(undefined, jitteryDoc(dynamo, seed * 3))),
        ingest(world.messages.slice(1), world.deps(undefined, jitteryDoc(dynamo, seed * 3 + 1))),
        ingest(world.messages.slice(3), world.deps(undefined, jitteryDoc(dynamo, seed * 3 + 2))),
      ]);

      expect(results.flatMap((r) => r.failedMessageIds)).toEqual([]);
      await expectExactlyOnce(world, ids);
    }
  });
});
