import 'aws-sdk-client-mock-jest';
import { CopyObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { StartEntitiesDetectionV2JobCommand, StartSNOMEDCTInferenceJobCommand } from '@aws-sdk/client-comprehendmedical';
import type { Readable } from 'node:stream';
import { DetailType, RejectReason } from '../../contracts/events.js';
import type { BatchExecutionInput } from '../../contracts/workflow.js';
import { createBatchId, executionArnOf, ingest } from '../../lambdas/ingest/ingest.js';
import { documentId } from '../../lambdas/shared/documents.js';
import {
  BUCKET,
  createWorld,
  drop,
  expectExactlyOnce,
  fixture,
  notes,
  notification,
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

const idOf = (key: string, versionId?: string) => documentId({ bucket: BUCKET, key, ...(versionId ? { versionId } : {}) });
const versionOf = (key: string) => world.s3.get(key)?.versionId;

describe('ingest: happy path', () => {
  test('three notes become one submitted batch with both jobs started exactly as specified', async () => {
    // Arrange
    drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');
    drop(world, 'inbox/note-2.txt', notes['note-2'] ?? '');
    drop(world, 'inbox/sub/note-3.txt', notes['note-3'] ?? '');
    const ids = ['inbox/note-1.txt', 'inbox/note-2.txt', 'inbox/sub/note-3.txt'].map((k) => idOf(k, versionOf(k)));

    // Act
    const result = await ingest(world.messages, world.deps());

    // Assert
    expect(result.failedMessageIds).toEqual([]);
    expect(result.submittedBatchIds).toEqual(['b001-20260101']);
    expect(result.claimedCount).toBe(3);
    await expectExactlyOnce(world, ids);
    const batchId = 'b001-20260101';

    const { config } = world;
    const common = {
      InputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${batchId}/input/` },
      DataAccessRoleArn: config.dataAccessRoleArn,
      KMSKey: config.kmsKeyArn,
      LanguageCode: 'en',
    };
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartEntitiesDetectionV2JobCommand, 1);
    expect(world.comprehend.mock).toHaveReceivedCommandWith(StartEntitiesDetectionV2JobCommand, {
      ...common,
      OutputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${batchId}/output/entities/` },
      JobName: `chartflow-${batchId}-entities`,
      ClientRequestToken: `${batchId}-entities-0`,
    });
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartSNOMEDCTInferenceJobCommand, 1);
    expect(world.comprehend.mock).toHaveReceivedCommandWith(StartSNOMEDCTInferenceJobCommand, {
      ...common,
      OutputDataConfig: { S3Bucket: BUCKET, S3Key: `batches/${batchId}/output/snomedct/` },
      JobName: `chartflow-${batchId}-snomedct`,
      ClientRequestToken: `${batchId}-snomedct-0`,
    });
    const [entitiesJob, snomedJob] = world.comprehend.jobs;

    // Input copies carry the documents' bytes under their ids, never their file names.
    expect(new TextDecoder().decode(world.s3.get(`batches/${batchId}/input/${ids[0]}.txt`)?.bytes)).toBe(notes['note-1']);
    expect(world.s3.mock).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: BUCKET,
      Key: `batches/${batchId}/input/${ids[0]}.txt`,
      CopySource: `${BUCKET}/inbox/note-1.txt?versionId=${versionOf('inbox/note-1.txt')}`,
    });

    expect(world.sfn.startCalls).toHaveLength(1);
    const start = world.sfn.startCalls[0];
    expect(start?.name).toBe(batchId);
    expect(start?.stateMachineArn).toBe(config.stateMachineArn);
    expect(JSON.parse(start?.input ?? '')).toEqual({
      batchId,
      documentCount: 3,
      jobs: { entitiesJobId: entitiesJob!.JobId, snomedJobId: snomedJob!.JobId },
    } satisfies BatchExecutionInput);

    const { batches, documents } = await scanTable(world);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      status: 'SUBMITTED',
      documentIds: [...ids].sort(),
      documentCount: 3,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:ChartflowBatch:${batchId}`,
      submittedAt: '2026-01-01T08:00:00.000Z',
      gsi1pk: 'BATCH#SUBMITTED',
      entitiesJob: { jobId: entitiesJob?.JobId, status: 'SUBMITTED', submitTime: '2026-01-01T08:00:00.000Z' },
      snomedJob: { jobId: snomedJob?.JobId, status: 'SUBMITTED', submitTime: '2026-01-01T08:00:00.000Z' },
    });
    expect(batches[0]?.jobStartLease).toBeUndefined();
    expect(documents.map((d) => d.gsi1pk)).toEqual(['DOC#CLAIMED', 'DOC#CLAIMED', 'DOC#CLAIMED']);

    const submitted = world.events.ofType(DetailType.BatchSubmitted);
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ Source: 'chartflow', EventBusName: config.eventBusName });
    expect(submitted[0]?.Detail).toEqual({
      version: '1',
      batchId,
      documentCount: 3,
      inputS3Uri: `s3://${BUCKET}/batches/${batchId}/input/`,
      entitiesJobId: entitiesJob?.JobId,
      snomedJobId: snomedJob?.JobId,
      submittedAt: '2026-01-01T08:00:00.000Z',
    });
  });

  test('createBatchId is time-sortable, random and fits tokens and execution names', () => {
    const a = createBatchId(new Date('2026-01-01T00:00:00.000Z'));
    const b = createBatchId(new Date('2026-01-01T00:00:00.001Z'));
    expect(a).toMatch(/^20260101T000000000Z-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(createBatchId(new Date(0))).not.toBe(createBatchId(new Date(0)));
    expect(`${a}-snomedct-99`.length).toBeLessThanOrEqual(64);
  });

  test('executionArnOf derives the execution ARN and refuses anything else', () => {
    expect(executionArnOf('arn:aws:states:eu-west-1:123456789012:stateMachine:M', 'b1')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:M:b1',
    );
    expect(() => executionArnOf('arn:aws:lambda:eu-west-1:123456789012:function:f', 'b1')).toThrow('Not a state machine ARN');
  });

  test('more documents than maxBatchDocuments are split over several batches', async () => {
    world = await createWorld(dynamo, { config: { maxBatchDocuments: 2 } });
    const keys = ['a', 'b', 'c', 'd', 'e'].map((n) => `inbox/${n}.txt`);
    for (const key of keys) drop(world, key, `note ${key}`);

    const result = await ingest(world.messages, world.deps());

    expect(result.failedMessageIds).toEqual([]);
    expect(result.submittedBatchIds).toHaveLength(3);
    await expectExactlyOnce(world, keys.map((k) => idOf(k, versionOf(k))));
    const { batches } = await scanTable(world);
    expect(batches.map((b) => b.documentCount).sort()).toEqual([1, 2, 2]);
  });
});

describe('ingest: rejections', () => {
  const cases: [string, string, string | Uint8Array | undefined, Partial<World['config']>][] = [
    [RejectReason.Empty, 'inbox/empty.txt', '', {}],
    [RejectReason.NotUtf8, 'inbox/latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]), {}],
    [RejectReason.TooLarge, 'inbox/large.txt', 'x'.repeat(101), { maxDocumentBytes: 100 }],
    [RejectReason.UnreadableKey, 'inbox/ward//note.txt', 'fine text', {}],
    [RejectReason.NotFound, 'inbox/gone.txt', undefined, {}],
  ];

  test.each(cases)('%s: recorded, kept under rejected/, removed from the inbox, announced', async (reason, key, content, config) => {
    // Arrange
    world = await createWorld(dynamo, { config });
    const message =
      content === undefined
        ? { messageId: 'm-1', body: notification({ key, versionId: 'ver404' }) }
        : drop(world, key, content);
    const versionId = content === undefined ? 'ver404' : versionOf(key);
    const id = idOf(key, versionId);

    // Act
    const result = await ingest([message], world.deps());

    // Assert
    expect(result.failedMessageIds).toEqual([]);
    expect(result.rejectedCount).toBe(1);
    const { documents, batches } = await scanTable(world);
    expect(batches).toEqual([]);
    expect(documents).toEqual([
      expect.objectContaining({ documentId: id, status: 'REJECTED', reason, rejectionDone: true, gsi1pk: 'DOC#REJECTED', key, versionId }),
    ]);
    expect(documents[0]?.batchId).toBeUndefined();
    const rejectedKey = `rejected/${key.slice('inbox/'.length)}`;
    if (reason === RejectReason.NotFound) {
      expect(world.s3.keys()).toEqual([]);
    } else {
      expect(world.s3.get(key)).toBeUndefined();
      expect(world.s3.get(rejectedKey)?.metadata).toEqual({ 'chartflow-reason': reason });
      expect(world.s3.get(rejectedKey)?.contentType).toBe('text/plain');
    }
    const events = world.events.ofType(DetailType.DocumentRejected);
    expect(events.map((e) => e.Detail)).toEqual([
      {
        version: '1',
        documentId: id,
        bucket: BUCKET,
        key,
        versionId,
        reason,
        rejectedS3Uri: `s3://${BUCKET}/${rejectedKey}`,
        rejectedAt: '2026-01-01T08:00:00.000Z',
      },
    ]);
    world.events.expectAllValid();
    expect(world.comprehend.jobs).toEqual([]);
    expect(world.sfn.startCalls).toEqual([]);
  });

  test('an unreadable key is rejected without reading the object', async () => {
    const message = drop(world, 'inbox//note.txt', 'text');

    await ingest([message], world.deps());

    expect(world.s3.mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  test('a too large document is rejected on its size, its body dropped unread', async () => {
    world = await createWorld(dynamo, { config: { maxDocumentBytes: 10 } });
    const message = drop(world, 'inbox/big.txt', 'x'.repeat(11));

    await ingest([message], world.deps());

    const reads = world.s3.mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Key === 'inbox/big.txt');
    expect(reads).toHaveLength(1);
    const body = (await reads[0]!.returnValue).Body as unknown as Readable;
    expect(body.destroyed).toBe(true);
    expect(body.readableDidRead).toBe(false);
    expect((await scanTable(world)).documents.map((d) => d.reason)).toEqual(['TOO_LARGE']);
  });

  test('accepted and rejected documents share an invocation: only the accepted ones are batched', async () => {
    drop(world, 'inbox/good.txt', notes['note-1'] ?? '');
    drop(world, 'inbox/empty.txt', '');

    const result = await ingest(world.messages, world.deps());

    expect(result.failedMessageIds).toEqual([]);
    await expectExactlyOnce(world, [idOf('inbox/good.txt', versionOf('inbox/good.txt'))]);
    expect(world.events.ofType(DetailType.DocumentRejected)).toHaveLength(1);
  });

  test('a repeated notification of a rejected document is a duplicate: no second event', async () => {
    const message = drop(world, 'inbox/empty.txt', '');
    await ingest([message], world.deps());

    const again = await ingest([message], world.deps());

    expect(again.failedMessageIds).toEqual([]);
    expect(again.duplicateCount).toBe(1);
    expect(world.events.ofType(DetailType.DocumentRejected)).toHaveLength(1);
    expect((await scanTable(world)).batches).toEqual([]);
  });
});

describe('ingest: duplicate notifications', () => {
  test('the same object twice in one SQS batch (and twice in one message) is claimed once', async () => {
    const first = drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');
    const versionId = versionOf('inbox/note-1.txt');
    const second = { messageId: 'm-dup', body: first.body };
    const doubled = { messageId: 'm-doubled', body: notification({ key: 'inbox/note-1.txt', versionId }, { key: 'inbox/note-1.txt', versionId }) };

    const result = await ingest([first, second, doubled], world.deps());

    expect(result.failedMessageIds).toEqual([]);
    await expectExactlyOnce(world, [idOf('inbox/note-1.txt', versionId)]);
    expect(world.comprehend.jobs).toHaveLength(2);
  });

  test('a notification seen again in a later SQS batch is acknowledged as a duplicate', async () => {
    const message = drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');
    await ingest([message], world.deps());

    const again = await ingest([{ ...message, messageId: 'm-redelivered' }], world.deps());

    expect(again.failedMessageIds).toEqual([]);
    expect(again.duplicateCount).toBe(1);
    expect(again.submittedBatchIds).toEqual([]);
    expect(world.logger.messages()).toContain('duplicate');
    await expectExactlyOnce(world, [idOf('inbox/note-1.txt', versionOf('inbox/note-1.txt'))]);
    expect(world.sfn.startCalls).toHaveLength(1);
    // The second invocation's candidate batch was never used, and is gone.
    expect((await scanTable(world)).batches).toHaveLength(1);
  });

  test('a new version of the same key is a new document', async () => {
    drop(world, 'inbox/note.txt', 'first version');
    await ingest(world.messages, world.deps());
    const v1 = idOf('inbox/note.txt', world.s3.objects.get(`${BUCKET}/inbox/note.txt`)?.[0]?.versionId);

    drop(world, 'inbox/note.txt', 'second version');
    const result = await ingest(world.messages.slice(1), world.deps());

    expect(result.submittedBatchIds).toEqual(['b002-20260101']);
    await expectExactlyOnce(world, [v1, idOf('inbox/note.txt', versionOf('inbox/note.txt'))]);
  });
});

describe('ingest: notifications', () => {
  test('keys are decoded (+ for spaces, %-escapes, unicode) and copied with a URL-encoded CopySource', async () => {
    const key = 'inbox/ward 3/café+crème 100%/note é.txt';
    const message = drop(world, key, notes['note-ward3'] ?? '');
    expect(message.body).toContain('inbox/ward+3/caf%C3%A9%2Bcr%C3%A8me+100%25/note+%C3%A9.txt');
    const versionId = versionOf(key);

    const result = await ingest([message], world.deps());

    expect(result.failedMessageIds).toEqual([]);
    const id = idOf(key, versionId);
    await expectExactlyOnce(world, [id]);
    const { documents } = await scanTable(world);
    expect(documents[0]).toMatchObject({ key, versionId, documentId: id });
    expect(world.s3.mock).toHaveReceivedCommandWith(CopyObjectCommand, {
      CopySource: `${BUCKET}/inbox/ward%203/caf%C3%A9%2Bcr%C3%A8me%20100%25/note%20%C3%A9.txt?versionId=${versionId}`,
    });
  });

  test('an unversioned bucket: the document id uses "null" and no VersionId is sent', async () => {
    world = await createWorld(dynamo, { versioned: false });
    const message = drop(world, 'inbox/plain.txt', 'plain text note');

    await ingest([message], world.deps());

    const id = documentId({ bucket: BUCKET, key: 'inbox/plain.txt' });
    expect(id).toBe(documentId({ bucket: BUCKET, key: 'inbox/plain.txt', versionId: 'null' }));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await expectExactlyOnce(world, [id]);
    expect(world.s3.mock).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'inbox/plain.txt', VersionId: undefined });
    expect(world.s3.mock).toHaveReceivedCommandWith(CopyObjectCommand, { CopySource: `${BUCKET}/inbox/plain.txt` });
    expect((await scanTable(world)).documents[0]?.versionId).toBe('null');
  });

  test('test events, records outside inbox/, folder markers, removals and other buckets are ignored and acknowledged', async () => {
    const messages = [
      { messageId: 'test-event', body: JSON.stringify(fixture('s3-test-event.json')) },
      { messageId: 'outside', body: notification({ key: 'records/b1.csv', versionId: 'v1' }) },
      { messageId: 'folder', body: notification({ key: 'inbox/', versionId: 'v2' }) },
      { messageId: 'removed', body: notification({ key: 'inbox/a.txt', versionId: 'v3', eventName: 'ObjectRemoved:Delete' }) },
      { messageId: 'other-bucket', body: notification({ key: 'inbox/a.txt', versionId: 'v4', bucket: 'someone-else' }) },
    ];

    const result = await ingest(messages, world.deps());

    expect(result).toMatchObject({ failedMessageIds: [], ignoredCount: 4, submittedBatchIds: [] });
    expect(world.s3.mock.calls()).toHaveLength(0);
    expect(await scanTable(world)).toEqual({ documents: [], batches: [] });
  });

  test('malformed messages are reported as failures (they end in the DLQ); the others are processed', async () => {
    const good = drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');
    const messages = [
      { messageId: 'not-json', body: 'hello' },
      { messageId: 'no-records', body: '{"Something":"else"}' },
      { messageId: 'bad-escape', body: notification({ key: 'x', encodedKey: 'inbox/%E9%ZZ.txt', versionId: 'v1' }) },
      good,
    ];

    const result = await ingest(messages, world.deps());

    expect(result.failedMessageIds).toEqual(['not-json', 'no-records', 'bad-escape']);
    await expectExactlyOnce(world, [idOf('inbox/note-1.txt', versionOf('inbox/note-1.txt'))]);
  });
});

describe('ingest: throttling and executions', () => {
  test('TooManyRequests: the execution starts without jobs, the messages are acknowledged', async () => {
    world.comprehend.throttled.add('entities');
    drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');

    const result = await ingest(world.messages, world.deps());

    expect(result.failedMessageIds).toEqual([]);
    await expectExactlyOnce(world, [idOf('inbox/note-1.txt', versionOf('inbox/note-1.txt'))], { jobsStarted: false });
    const batchId = 'b001-20260101';
    expect(JSON.parse(world.sfn.startCalls[0]?.input ?? '')).toEqual({ batchId, documentCount: 1 });
    expect(world.events.ofType(DetailType.BatchSubmitted)[0]?.Detail).not.toHaveProperty('entitiesJobId');
    const [batch] = (await scanTable(world)).batches;
    expect(batch?.jobStartLease).toBeUndefined();
    expect(batch?.entitiesJob).toBeUndefined();
    // The SNOMED CT job was not attempted after the entities start was throttled.
    expect(world.comprehend.mock).toHaveReceivedCommandTimes(StartSNOMEDCTInferenceJobCommand, 0);
  });

  test('a throttled second job keeps the first one recorded for the state machine to reuse', async () => {
    world.comprehend.throttled.add('snomed');
    drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');

    const result = await ingest(world.messages, world.deps());

    expect(result.failedMessageIds).toEqual([]);
    const [batch] = (await scanTable(world)).batches;
    expect(batch?.entitiesJob?.jobId).toBe(world.comprehend.jobs[0]?.JobId);
    expect(batch?.snomedJob).toBeUndefined();
    expect(JSON.parse(world.sfn.startCalls[0]?.input ?? '')).not.toHaveProperty('jobs');
  });

  test('ExecutionAlreadyExists is the same batch: the batch is still marked SUBMITTED', async () => {
    drop(world, 'inbox/note-1.txt', notes['note-1'] ?? '');
    const crash = (step: string) => {
      if (step === 'after-start-execution') throw new Error('crash');
    };
    await expect(ingest(world.messages, world.deps(crash))).rejects.toThrow('crash');
    world.sfn.closed = true;

    const result = await ingest(world.messages, world.deps());

    expect(result.failedMessageIds).toEqual([]);
    expect(world.sfn.startCalls).toHaveLength(2);
    expect(world.sfn.executions.size).toBe(1);
    const [batch] = (await scanTable(world)).batches;
    expect(batch).toMatchObject({
      status: 'SUBMITTED',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ChartflowBatch:b001-20260101',
    });
  });
});

describe('ingest: no document text anywhere', () => {
  test('neither logs nor events carry document text; logs carry no file names either', async () => {
    world.comprehend.throttled.add('snomed');
    const dropped: [string, string][] = [
      ['inbox/Jane Roe chest pain.txt', notes['note-1'] ?? ''],
      ['inbox/note-2.txt', notes['note-2'] ?? ''],
      ['inbox/latin1 John.txt', ''],
    ];
    for (const [key, text] of dropped) drop(world, key, text);
    const latin1 = new Uint8Array([...new TextEncoder().encode('Denies tobacco use '), 0xff]);
    drop(world, 'inbox/broken.txt', latin1);
    world.messages.push({ messageId: 'junk', body: 'Patient Jane Roe' });

    await ingest(world.messages, world.deps());

    const logged = world.logger.lines.join('\n');
    const published = world.events.events.map((e) => e.raw).join('\n');
    expect(world.logger.lines.length).toBeGreaterThan(5);
    for (const text of [...Object.values(notes), 'Denies tobacco use']) {
      for (const fragment of text.split(/[,.;:]\s*/).filter((f) => f.length > 8)) {
        expect(logged).not.toContain(fragment);
        expect(published).not.toContain(fragment);
      }
    }
    for (const name of ['Jane', 'John', 'chest', 'note-2']) expect(logged).not.toContain(name);
    expect(logged).not.toContain('Patient');
  });
});
