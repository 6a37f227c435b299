/**
 * Ingest core: one SQS batch of S3 notifications -> at most a few Comprehend Medical batches.
 *
 * PROTOCOL — every document version lands in exactly one submitted batch, or is rejected, even when
 * invocations crash anywhere, notifications repeat, and SQS redelivers a crashed batch split over
 * several invocations. DynamoDB conditional writes only (no transactions, no
 * ReturnValuesOnConditionCheckFailure: the local DynamoDB has neither).
 *
 *  1. Parse. Records outside `inbox/`, folder markers, non-ObjectCreated records and `s3:TestEvent`
 *     messages are ignored (logged, counted). documentId = sha256(bucket \n key \n versionId|null).
 *  2. Validate each document (key with `//`; one GetObject: size from its headers, the body read
 *     only when the size passes; strict UTF-8). [after-validate]
 *  3. Read the accepted documents' items (consistent BatchGetItem, 100 keys a request): existing claims are routed by the
 *     rules below and need no candidate, so a repeated notification never opens one (an empty
 *     candidate left by a crash would stay OPEN forever). For the rest, create the candidate batch
 *     item FIRST (status OPEN; one per `maxBatchDocuments` documents), then claim each document:
 *     PutItem of its document item (CLAIMED with batchId = candidate, or REJECTED with the reason)
 *     if `attribute_not_exists(pk)`. A claim therefore always points at an existing batch item.
 *     When the claim exists already (a race since the read), the stored
 *     item wins over this invocation's validation: it is read back (consistent read) and routed by
 *     the rules below. [after-claim]
 *  4. Placement. Every claimed document points at a batch Y. A SEALED batch's `documentIds` never
 *     changes again, and a claim moves only away from a batch that is SEALED (or later) without it,
 *     so "document in Y.documentIds" is final. Rules for a document pointing at Y:
 *     - Y is OPEN: seal Y (conditional OPEN -> SEALED) with the documents of this invocation that
 *       point at Y. Our own candidates are sealed this way once nothing else is pending; a foreign
 *       OPEN Y (its invocation crashed before sealing, or is still running) is adopted the same way.
 *       If the seal loses the race, Y is read again and the rules below apply.
 *     - Y is SEALED and the document is in Y.documentIds: resume Y (steps 6–8).
 *     - Y is SUBMITTED, AWAITING_MATCH, COMPLETED or FAILED and the document is in Y.documentIds:
 *       duplicate notification, done.
 *     - Y is SEALED or later and the document is NOT in Y.documentIds (a crashed invocation claimed
 *       it, then a retry sealed Y without it): steal it — conditional update of the claim's batchId
 *       from Y to one of our OPEN candidates (condition batchId = Y) — and seal it with that
 *       candidate. A lost steal race means another invocation moved it: follow it to its new batch.
 *       (If this invocation found the object version gone, the claim becomes REJECTED NOT_FOUND
 *       under the same condition instead: its copy could never succeed.)
 *     Foreign batches are settled and steals done before our candidates are sealed, so stolen
 *     documents join the current batch. If our candidate was sealed by someone else meanwhile,
 *     its documents are placed by the same rules (those left out go to a fresh candidate). The
 *     rounds are bounded: documents still unplaced after them are not acknowledged, their claims
 *     stay valid, and the redelivery continues by the same rules. A candidate that ends up with
 *     no document is deleted (condition: still OPEN). [after-seal]
 *  5. Rejected claims without `rejectionDone`: copy the object to `rejected/` (metadata
 *     `chartflow-reason`) [after-reject-copy], delete the inbox version [after-reject-delete], put
 *     `Document Rejected` [after-reject-event], set `rejectionDone`. Each step is idempotent (a
 *     source already gone means the copy was made), so a retry finishes it.
 *  6. For each SEALED batch this invocation placed documents in: copy every document of the batch
 *     (the documents of other invocations are read from their items) to
 *     `batches/<batchId>/input/<documentId>.txt` — overwriting the same bytes again is harmless.
 *     [after-copy]
 *  7. ensureDetectionJobs (lambdas/shared/detection-jobs.ts): at most one live job per type
 *     [job-started: a job started, not yet recorded; the retry adopts it by name].
 *     Throttled, or another caller starting them: go on without job ids; the state machine's
 *     start-jobs step starts them later. [after-start-jobs]
 *  8. StartExecution (name = batchId; ExecutionAlreadyExists is the same batch) [after-start-execution],
 *     put `Batch Submitted` — before the status, so that a crash cannot lose the event (consumers
 *     may see it twice) — then SEALED -> SUBMITTED with `submittedAt` (conditional; a later status
 *     set by the state machine is accepted). [after-submit] A retry that finds the batch moved on
 *     by the state machine without `submittedAt` (a crash between StartExecution and the status)
 *     puts the event again and records `submittedAt`, so the event is never lost.
 *  9. Acknowledge a message only when each of its documents is in a SUBMITTED (or later) batch or
 *     rejected and done; malformed messages are never acknowledged (they end in the DLQ).
 *     Unexpected errors are thrown, not returned: the whole invocation fails and SQS redelivers
 *     every message of it, which steps 1–8 absorb as duplicates.
 * 10. Sweep: OPEN candidates older than `abandonedCandidateAfterMs` (twice the function timeout:
 *     their invocation is dead) that no claim points at are deleted (condition: still OPEN, same
 *     gsi1sk). A crash between step 3 and dropping an empty candidate leaves one behind.
 */
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ComprehendMedicalClient } from '@aws-sdk/client-comprehendmedical';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DetailType, EVENT_VERSION, RejectReason, type RejectReasonCode } from '../../contracts/events.js';
import { batchInputKey, batchInputPrefix, rejectedKey, s3Uri } from '../../contracts/layout.js';
import { Keys, STATUS_INDEX, statusKey, type BatchItem, type BatchStatus, type DocumentItem } from '../../contracts/table.js';
import { JOB_START_RETRYABLE, type BatchExecutionInput, type DetectionJobIds } from '../../contracts/workflow.js';
import type { Checkpoint } from '../shared/crash.js';
import {
  BATCH_ID_PATTERN,
  ensureDetectionJobs,
  type DetectionJobsConfig,
} from '../shared/detection-jobs.js';
import { batchStateError, isConditionalCheckFailed } from '../shared/errors.js';
import { copySource, documentId, getDocuments, NULL_VERSION, s3VersionId, type DocumentRef } from '../shared/documents.js';
import { publish } from '../shared/events.js';
import { timeSortableId } from '../shared/ids.js';
import type { AppLogger } from '../shared/logger.js';
import { parseNotification } from './notifications.js';
import { isNotFound, validateDocument, type Validation } from './validate.js';

export interface IngestConfig extends DetectionJobsConfig {
  eventBusName: string;
  stateMachineArn: string;
  maxDocumentBytes: number;
  maxBatchDocuments: number;
}

export interface IngestDeps {
  s3: S3Client;
  dynamo: DynamoDBDocumentClient;
  comprehend: ComprehendMedicalClient;
  sfn: SFNClient;
  events: EventBridgeClient;
  config: IngestConfig;
  logger: AppLogger;
  now(): Date;
  /** A new, unique, PHI-free batch id (see `createBatchId`). */
  newBatchId(): string;
  checkpoint: Checkpoint;
  /**
   * An OPEN candidate older than this was opened by an invocation that is dead (Lambda ended it at
   * its timeout); when no claim points at it, it is deleted (step 10). Unset: no sweep.
   */
  abandonedCandidateAfterMs?: number;
}

export interface IngestMessage {
  messageId: string;
  body: string;
}

export interface IngestResult {
  /** SQS message ids to report as batchItemFailures. */
  failedMessageIds: string[];
  /** Batches this invocation brought to SUBMITTED (its own, or resumed ones). */
  submittedBatchIds: string[];
  /** Documents newly claimed by this invocation. */
  claimedCount: number;
  rejectedCount: number;
  duplicateCount: number;
  ignoredCount: number;
}

/** Time-sortable and random: `20260101T000000000Z-<12 hex>` (32 characters). */
export function createBatchId(now: Date = new Date()): string {
  return timeSortableId(now, 6);
}

const CONCURRENCY = 8;
const MAX_PLACEMENT_ROUNDS = 5;
/** Abandoned candidates deleted per invocation at most (they are rare: one per crash at worst). */
const SWEEP_LIMIT = 10;
const AFTER_SEALED: ReadonlySet<BatchStatus> = new Set(['SUBMITTED', 'AWAITING_MATCH', 'COMPLETED', 'FAILED']);

interface Doc extends DocumentRef {
  documentId: string;
  messageIds: Set<string>;
  validation?: Validation;
  /** In a SUBMITTED (or later) batch, or rejected and done. */
  done: boolean;
}

interface Homeless {
  documentId: string;
  /** The batch its claim points at (sealed without it). */
  from: string;
}

export async function ingest(messages: readonly IngestMessage[], deps: IngestDeps): Promise<IngestResult> {
  return new IngestRun(deps).run(messages);
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

class IngestRun {
  private readonly docs = new Map<string, Doc>();
  private readonly malformed = new Set<string>();
  /** batchId -> ids of our documents whose claim (as last read or written) points there, unplaced. */
  private readonly pointing = new Map<string, Set<string>>();
  /** Our candidates that nobody has sealed yet, as far as we know. */
  private readonly openCandidates = new Set<string>();
  /** Batches holding placed documents of ours: the latest view of each, and which of ours. */
  private readonly placed = new Map<string, { batch: BatchItem; documentIds: Set<string> }>();
  private readonly rejections: DocumentItem[] = [];
  private readonly result: IngestResult = {
    failedMessageIds: [],
    submittedBatchIds: [],
    claimedCount: 0,
    rejectedCount: 0,
    duplicateCount: 0,
    ignoredCount: 0,
  };

  constructor(private readonly deps: IngestDeps) {}

  async run(messages: readonly IngestMessage[]): Promise<IngestResult> {
    const { checkpoint, logger } = this.deps;
    this.collect(messages);
    const docs = [...this.docs.values()];
    if (docs.length > 0) {
      await forEachLimit(docs, CONCURRENCY, async (doc) => {
        doc.validation = await validateDocument(doc, { s3: this.deps.s3, maxDocumentBytes: this.deps.config.maxDocumentBytes });
      });
      checkpoint('after-validate');

      await this.claimAll(docs);
      checkpoint('after-claim');

      await this.place();
      checkpoint('after-seal');
      // After placement, which may turn a stale claim into a rejection.
      await forEachLimit(this.rejections, CONCURRENCY, (item) => this.finishRejection(item));

      for (const { batch, documentIds } of this.placed.values()) {
        if (batch.status === 'SEALED') {
          await this.submit(batch);
          this.result.submittedBatchIds.push(batch.batchId);
        } else {
          // Moved on by the state machine before its submitter recorded the submission (a crash
          // between StartExecution and the status): the Batch Submitted event may never have been put.
          if (!batch.submittedAt) await this.announceLateSubmission(batch);
          for (const id of documentIds) logger.info('duplicate', { documentId: id, batchId: batch.batchId, status: batch.status });
          this.result.duplicateCount += documentIds.size;
        }
        for (const id of documentIds) this.doc(id).done = true;
      }
    }

    await this.sweepAbandonedCandidates();

    const failed = new Set(this.malformed);
    for (const doc of docs) if (!doc.done) for (const id of doc.messageIds) failed.add(id);
    this.result.failedMessageIds = messages.map((m) => m.messageId).filter((id) => failed.has(id));
    const { failedMessageIds, submittedBatchIds, ...counts } = this.result;
    logger.info('ingest finished', {
      messageCount: messages.length,
      failedMessageCount: failedMessageIds.length,
      submittedBatchIds,
      ...counts,
    });
    return this.result;
  }

  // --- 1. parse -------------------------------------------------------------------------------

  private collect(messages: readonly IngestMessage[]): void {
    const { logger, config } = this.deps;
    for (const { messageId, body } of messages) {
      const parsed = parseNotification(body, config.bucket);
      if (parsed.kind === 'test-event') {
        logger.info('test event ignored', { messageId });
        continue;
      }
      if (parsed.kind === 'malformed') {
        logger.error('malformed message', { messageId, problem: parsed.problem });
        this.malformed.add(messageId);
        continue;
      }
      for (const reason of parsed.ignored) logger.info('record ignored', { messageId, reason });
      this.result.ignoredCount += parsed.ignored.length;
      for (const ref of parsed.documents) {
        const id = documentId(ref);
        const doc = this.docs.get(id) ?? { ...ref, documentId: id, messageIds: new Set<string>(), done: false };
        doc.messageIds.add(messageId);
        this.docs.set(id, doc);
      }
    }
  }

  private doc(id: string): Doc {
    const doc = this.docs.get(id);
    if (!doc) throw new Error(`Unknown document ${id}`);
    return doc;
  }

  // --- 3. claim -------------------------------------------------------------------------------

  private async claimAll(docs: Doc[]): Promise<void> {
    const rejected = docs.filter((d) => !d.validation?.accepted);
    // Claims that exist already (repeated notifications, redeliveries) are routed without opening a
    // candidate: a candidate nothing is claimed into would be left OPEN forever if this invocation
    // died before dropping it.
    const acceptedIds = docs.filter((d) => d.validation?.accepted).map((d) => d.documentId);
    const existing = await getDocuments(this.deps.dynamo, this.deps.config.tableName, acceptedIds);
    for (const item of existing.values()) {
      this.deps.logger.info('claim exists', { documentId: item.documentId, status: item.status, batchId: item.batchId });
      this.route(item);
    }
    const accepted = docs.filter((d) => d.validation?.accepted && !existing.has(d.documentId));
    for (let start = 0; start < accepted.length; start += this.deps.config.maxBatchDocuments) {
      const candidate = await this.openCandidate();
      await forEachLimit(accepted.slice(start, start + this.deps.config.maxBatchDocuments), CONCURRENCY, (doc) =>
        this.claim(doc, candidate),
      );
    }
    await forEachLimit(rejected, CONCURRENCY, (doc) => this.claim(doc, undefined));
  }

  /** Creates an OPEN batch item: claims may only point at a batch that exists. */
  private async openCandidate(): Promise<string> {
    const batchId = this.deps.newBatchId();
    if (!BATCH_ID_PATTERN.test(batchId)) throw new Error(`newBatchId returned an invalid id (${BATCH_ID_PATTERN.source})`);
    const now = this.deps.now().toISOString();
    const item: BatchItem = {
      ...Keys.batch(batchId),
      sk: 'BATCH',
      entity: 'BATCH',
      batchId,
      status: 'OPEN',
      createdAt: now,
      updatedAt: now,
      gsi1pk: statusKey('BATCH', 'OPEN'),
      gsi1sk: now,
    };
    await this.deps.dynamo.send(
      new PutCommand({ TableName: this.deps.config.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    this.openCandidates.add(batchId);
    this.pointing.set(batchId, new Set());
    this.deps.logger.info('candidate batch opened', { batchId });
    return batchId;
  }

  private async claim(doc: Doc, candidate: string | undefined): Promise<void> {
    const validation = doc.validation;
    if (!validation) throw new Error('claim before validation');
    const now = this.deps.now().toISOString();
    const status = candidate ? 'CLAIMED' : 'REJECTED';
    const item: DocumentItem = {
      ...Keys.document(doc.documentId),
      sk: 'DOC',
      entity: 'DOCUMENT',
      documentId: doc.documentId,
      bucket: doc.bucket,
      key: doc.key,
      versionId: doc.versionId ?? NULL_VERSION,
      ...(validation.size === undefined ? {} : { size: validation.size }),
      status,
      ...(candidate ? { batchId: candidate } : {}),
      ...(validation.accepted ? {} : { reason: validation.reason }),
      createdAt: now,
      updatedAt: now,
      gsi1pk: statusKey('DOC', status),
      gsi1sk: now,
    };
    let stored: DocumentItem;
    try {
      await this.deps.dynamo.send(
        new PutCommand({ TableName: this.deps.config.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      stored = item;
      if (candidate) this.result.claimedCount++;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      stored = await this.readDocument(doc.documentId);
      this.deps.logger.info('claim exists', { documentId: doc.documentId, status: stored.status, batchId: stored.batchId });
    }
    this.route(stored);
  }

  private route(item: DocumentItem): void {
    if (item.status === 'REJECTED') {
      if (item.rejectionDone) {
        this.doc(item.documentId).done = true;
        this.result.duplicateCount++;
        this.deps.logger.info('duplicate', { documentId: item.documentId, status: item.status });
      } else {
        this.rejections.push(item);
      }
      return;
    }
    if (!item.batchId) throw batchStateError(`Document ${item.documentId} is ${item.status} without a batch`);
    this.pointAt(item.batchId, item.documentId);
  }

  private pointAt(batchId: string, id: string): void {
    const ids = this.pointing.get(batchId) ?? new Set<string>();
    ids.add(id);
    this.pointing.set(batchId, ids);
  }

  private async readDocument(id: string): Promise<DocumentItem> {
    const { Item } = await this.deps.dynamo.send(
      new GetCommand({ TableName: this.deps.config.tableName, Key: Keys.document(id), ConsistentRead: true }),
    );
    if (!Item) throw batchStateError(`Document ${id} vanished after its claim failed`);
    return Item as DocumentItem;
  }

  // --- 4. placement -----------------------------------------------------------------------------

  private async place(): Promise<void> {
    let homeless: Homeless[] = [];
    for (let round = 1; round <= MAX_PLACEMENT_ROUNDS; round++) {
      for (const [batchId, ids] of this.takePointing((id) => !this.openCandidates.has(id))) {
        homeless.push(...(await this.settleForeign(batchId, ids)));
      }
      for (const item of homeless) await this.steal(item);
      homeless = [];
      // A lost steal race points somewhere new: follow it before sealing, so it can join us.
      if (this.hasForeignPointers() && round < MAX_PLACEMENT_ROUNDS) continue;

      for (const candidate of [...this.openCandidates]) homeless.push(...(await this.sealCandidate(candidate)));
      if (homeless.length === 0 && !this.hasForeignPointers()) return;
    }
    const unplaced = homeless.length + [...this.pointing.values()].reduce((n, ids) => n + ids.size, 0);
    this.deps.logger.warn('placement contention: documents left for redelivery', { unplaced });
  }

  private takePointing(select: (batchId: string) => boolean): [string, Set<string>][] {
    const taken = [...this.pointing].filter(([batchId, ids]) => ids.size > 0 && select(batchId));
    for (const [batchId] of taken) this.pointing.delete(batchId);
    return taken;
  }

  private hasForeignPointers(): boolean {
    return [...this.pointing].some(([batchId, ids]) => ids.size > 0 && !this.openCandidates.has(batchId));
  }

  /** A batch we did not open (or no longer own): adopt it if OPEN, then place by the rules. */
  private async settleForeign(batchId: string, ids: Set<string>): Promise<Homeless[]> {
    let batch = await this.readBatch(batchId);
    if (batch.status === 'OPEN') {
      batch = (await this.trySeal(batchId, ids)) ?? (await this.readBatch(batchId));
      if (batch.status === 'OPEN') throw batchStateError(`Batch ${batchId} stays OPEN`);
      this.deps.logger.info('foreign batch sealed', { batchId, adopted: batch.documentIds?.length ?? 0 });
    }
    return this.classify(batch, ids);
  }

  private async sealCandidate(batchId: string): Promise<Homeless[]> {
    this.openCandidates.delete(batchId);
    const ids = this.pointing.get(batchId) ?? new Set<string>();
    this.pointing.delete(batchId);
    if (ids.size === 0) {
      await this.dropEmptyCandidate(batchId);
      return [];
    }
    const batch = (await this.trySeal(batchId, ids)) ?? (await this.readBatch(batchId));
    return this.classify(batch, ids);
  }

  /** Documents in the sealed set are placed there for good; the others must move. */
  private classify(batch: BatchItem, ids: Set<string>): Homeless[] {
    const sealed = new Set(batch.documentIds ?? []);
    const homeless: Homeless[] = [];
    for (const id of ids) {
      if (sealed.has(id)) {
        const entry = this.placed.get(batch.batchId) ?? { batch, documentIds: new Set<string>() };
        entry.batch = batch;
        entry.documentIds.add(id);
        this.placed.set(batch.batchId, entry);
      } else {
        homeless.push({ documentId: id, from: batch.batchId });
      }
    }
    return homeless;
  }

  private async trySeal(batchId: string, ids: Set<string>): Promise<BatchItem | undefined> {
    const now = this.deps.now().toISOString();
    const documentIds = [...ids].sort();
    try {
      const { Attributes } = await this.deps.dynamo.send(
        new UpdateCommand({
          TableName: this.deps.config.tableName,
          Key: Keys.batch(batchId),
          UpdateExpression:
            'SET #status = :sealed, documentIds = :ids, documentCount = :count, updatedAt = :now, gsi1pk = :gsi1pk, gsi1sk = :now',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':sealed': 'SEALED',
            ':open': 'OPEN',
            ':ids': documentIds,
            ':count': documentIds.length,
            ':now': now,
            ':gsi1pk': statusKey('BATCH', 'SEALED'),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.deps.logger.info('batch sealed', { batchId, documentCount: documentIds.length });
      return Attributes as BatchItem;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  private async dropEmptyCandidate(batchId: string): Promise<void> {
    try {
      await this.deps.dynamo.send(
        new DeleteCommand({
          TableName: this.deps.config.tableName,
          Key: Keys.batch(batchId),
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':open': 'OPEN' },
        }),
      );
      this.deps.logger.info('empty candidate batch deleted', { batchId });
    } catch (error) {
      // Sealed by another invocation, which drives it: it is theirs now.
      if (!isConditionalCheckFailed(error)) throw error;
      this.deps.logger.warn('empty candidate batch was sealed by another invocation', { batchId });
    }
  }

  // --- 10. abandoned candidates ----------------------------------------------------------------

  /**
   * Deletes OPEN candidates of dead invocations that no claim points at (a crash between opening a
   * candidate and dropping it, after its documents were claimed elsewhere). Nobody else claims into
   * a candidate, so once its invocation is dead, "no claim points at it" cannot change; a candidate
   * with claims is left for the redelivery of their messages, which adopts it. Best effort: a
   * failure is logged, the documents' outcome does not depend on it.
   */
  private async sweepAbandonedCandidates(): Promise<void> {
    const after = this.deps.abandonedCandidateAfterMs;
    if (after === undefined) return;
    const { tableName } = this.deps.config;
    try {
      const cutoff = new Date(this.deps.now().getTime() - after).toISOString();
      const { Items = [] } = await this.deps.dynamo.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: 'gsi1pk = :open AND gsi1sk < :cutoff',
          ExpressionAttributeValues: { ':open': statusKey('BATCH', 'OPEN'), ':cutoff': cutoff },
          Limit: SWEEP_LIMIT,
        }),
      );
      for (const item of Items as BatchItem[]) {
        if (this.openCandidates.has(item.batchId) || (await this.anyClaimPointsAt(item.batchId))) continue;
        try {
          await this.deps.dynamo.send(
            new DeleteCommand({
              TableName: tableName,
              Key: Keys.batch(item.batchId),
              ConditionExpression: '#status = :open AND gsi1sk = :seen',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':open': 'OPEN', ':seen': item.gsi1sk },
            }),
          );
          this.deps.logger.info('abandoned candidate batch deleted', { batchId: item.batchId });
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
        }
      }
    } catch (error) {
      this.deps.logger.warn('abandoned candidate sweep failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
  }

  private async anyClaimPointsAt(batchId: string): Promise<boolean> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.deps.dynamo.send(
        new QueryCommand({
          TableName: this.deps.config.tableName,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: 'gsi1pk = :claimed',
          FilterExpression: 'batchId = :batchId',
          ExpressionAttributeValues: { ':claimed': statusKey('DOC', 'CLAIMED'), ':batchId': batchId },
          ExclusiveStartKey,
        }),
      );
      if ((page.Items?.length ?? 0) > 0) return true;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return false;
  }

  /** Moves a claim from a batch sealed without it into one of our OPEN candidates. */
  private async steal({ documentId: id, from }: Homeless): Promise<void> {
    const validation = this.docs.get(id)?.validation;
    // The object version is gone since it was claimed (deleted): batching it would fail its copy
    // forever, so the claim becomes a rejection instead.
    if (validation && !validation.accepted) return this.rejectClaim(id, from, validation.reason);
    const into = await this.candidateWithRoom();
    const now = this.deps.now().toISOString();
    try {
      await this.deps.dynamo.send(
        new UpdateCommand({
          TableName: this.deps.config.tableName,
          Key: Keys.document(id),
          UpdateExpression: 'SET batchId = :into, updatedAt = :now, gsi1sk = :now',
          ConditionExpression: 'batchId = :from AND #status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':into': into, ':from': from, ':claimed': 'CLAIMED', ':now': now },
        }),
      );
      this.deps.logger.info('claim stolen', { documentId: id, from, batchId: into });
      this.pointAt(into, id);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const item = await this.readDocument(id);
      this.route(item);
    }
  }

  private async rejectClaim(id: string, from: string, reason: RejectReasonCode): Promise<void> {
    const now = this.deps.now().toISOString();
    try {
      const { Attributes } = await this.deps.dynamo.send(
        new UpdateCommand({
          TableName: this.deps.config.tableName,
          Key: Keys.document(id),
          UpdateExpression: 'SET #status = :rejected, reason = :reason, updatedAt = :now, gsi1pk = :gsi1pk, gsi1sk = :now REMOVE batchId',
          ConditionExpression: 'batchId = :from AND #status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':rejected': 'REJECTED',
            ':reason': reason,
            ':from': from,
            ':claimed': 'CLAIMED',
            ':now': now,
            ':gsi1pk': statusKey('DOC', 'REJECTED'),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.deps.logger.info('stale claim rejected', { documentId: id, from, reason });
      this.route(Attributes as DocumentItem);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      this.route(await this.readDocument(id));
    }
  }

  private async candidateWithRoom(): Promise<string> {
    for (const candidate of this.openCandidates) {
      if ((this.pointing.get(candidate)?.size ?? 0) < this.deps.config.maxBatchDocuments) return candidate;
    }
    return this.openCandidate();
  }

  private async readBatch(batchId: string): Promise<BatchItem> {
    const { Item } = await this.deps.dynamo.send(
      new GetCommand({ TableName: this.deps.config.tableName, Key: Keys.batch(batchId), ConsistentRead: true }),
    );
    // Batch items are written before any claim points at them, and only empty ones are deleted.
    if (!Item) throw batchStateError(`Batch ${batchId} does not exist`);
    return Item as BatchItem;
  }

  // --- 5. rejections ----------------------------------------------------------------------------

  private async finishRejection(item: DocumentItem): Promise<void> {
    const { s3, events, config, logger } = this.deps;
    const reason = item.reason as RejectReasonCode;
    const ref: DocumentRef = { bucket: item.bucket, key: item.key, versionId: item.versionId };
    const target = rejectedKey(item.key);
    if (reason !== RejectReason.NotFound) {
      await this.keepRejectedCopy(ref, target, reason, item.documentId);
      this.deps.checkpoint('after-reject-copy');
      await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: s3VersionId(ref.versionId) }));
      this.deps.checkpoint('after-reject-delete');
    }
    await publish(events, config.eventBusName, DetailType.DocumentRejected, {
      version: EVENT_VERSION,
      documentId: item.documentId,
      bucket: item.bucket,
      key: item.key,
      versionId: item.versionId,
      reason,
      rejectedS3Uri: s3Uri(item.bucket, target),
      rejectedAt: this.deps.now().toISOString(),
    });
    this.deps.checkpoint('after-reject-event');
    const now = this.deps.now().toISOString();
    await this.deps.dynamo.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: Keys.document(item.documentId),
        UpdateExpression: 'SET rejectionDone = :true, updatedAt = :now, gsi1sk = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':true': true, ':now': now },
      }),
    );
    this.doc(item.documentId).done = true;
    this.result.rejectedCount++;
    logger.info('document rejected', { documentId: item.documentId, reason });
  }

  private async keepRejectedCopy(ref: DocumentRef, target: string, reason: string, id: string): Promise<void> {
    const { s3, logger } = this.deps;
    const source = { Bucket: ref.bucket, Key: ref.key, VersionId: s3VersionId(ref.versionId) };
    try {
      const head = await s3.send(new HeadObjectCommand(source));
      await s3.send(
        new CopyObjectCommand({
          Bucket: ref.bucket,
          Key: target,
          CopySource: copySource(ref),
          MetadataDirective: 'REPLACE',
          ContentType: head.ContentType,
          Metadata: { ...head.Metadata, 'chartflow-reason': reason },
        }),
      );
    } catch (error) {
      // The source is deleted only after the copy succeeded: gone means copied by an earlier try
      // (or deleted by the user, and then there is nothing left to keep).
      if (!isNotFound(error)) throw error;
      logger.info('rejected source already gone', { documentId: id });
    }
  }

  // --- 6–8. submit --------------------------------------------------------------------------------

  private async submit(batch: BatchItem): Promise<void> {
    const { s3, config, logger, checkpoint } = this.deps;
    const { batchId } = batch;
    const documentIds = batch.documentIds ?? [];
    logger.appendKeys({ batchId });

    const refs = await this.locate(batchId, documentIds);
    await forEachLimit(documentIds, CONCURRENCY, async (id) => {
      const ref = refs.get(id) as DocumentRef;
      await s3.send(new CopyObjectCommand({ Bucket: config.bucket, Key: batchInputKey(batchId, id), CopySource: copySource(ref) }));
    });
    checkpoint('after-copy');

    const jobs = await this.startJobs(batchId);
    checkpoint('after-start-jobs');

    const documentCount = batch.documentCount ?? documentIds.length;
    const executionArn = await this.startExecution(batchId, documentCount, jobs);
    checkpoint('after-start-execution');

    const submittedAt = this.deps.now().toISOString();
    await publish(this.deps.events, config.eventBusName, DetailType.BatchSubmitted, {
      version: EVENT_VERSION,
      batchId,
      documentCount,
      inputS3Uri: s3Uri(config.bucket, batchInputPrefix(batchId)),
      ...(jobs ? { entitiesJobId: jobs.entitiesJobId, snomedJobId: jobs.snomedJobId } : {}),
      submittedAt,
    });
    await this.markSubmitted(batchId, executionArn, submittedAt);
    logger.info('batch submitted', { documentCount, withJobs: jobs !== undefined });
    checkpoint('after-submit');
  }

  /** Source locations of a batch's documents: ours from the notifications, the rest from their items. */
  private async locate(batchId: string, ids: readonly string[]): Promise<Map<string, DocumentRef>> {
    const refs = new Map<string, DocumentRef>();
    const missing: string[] = [];
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (doc) refs.set(id, doc);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const items = await getDocuments(this.deps.dynamo, this.deps.config.tableName, missing);
      for (const id of missing) {
        const item = items.get(id);
        if (!item) throw batchStateError(`Batch ${batchId} lists document ${id}, which has no item`);
        refs.set(id, { bucket: item.bucket, key: item.key, versionId: item.versionId });
      }
    }
    return refs;
  }

  private async startJobs(batchId: string): Promise<DetectionJobIds | undefined> {
    try {
      return await ensureDetectionJobs(batchId, this.deps);
    } catch (error) {
      // They delay the jobs, never drop them: the execution starts without job ids and its
      // start-jobs step (retried with backoff) gets them.
      if (error instanceof Error && (JOB_START_RETRYABLE as readonly string[]).includes(error.name)) {
        this.deps.logger.warn('detection jobs deferred to the state machine', { reason: error.name });
        return undefined;
      }
      throw error;
    }
  }

  private async startExecution(batchId: string, documentCount: number, jobs: DetectionJobIds | undefined): Promise<string> {
    const { stateMachineArn } = this.deps.config;
    const input: BatchExecutionInput = { batchId, documentCount, ...(jobs ? { jobs } : {}) };
    try {
      const { executionArn } = await this.deps.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: batchId, input: JSON.stringify(input) }),
      );
      if (!executionArn) throw new Error('StartExecution returned no executionArn');
      return executionArn;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ExecutionAlreadyExists')) throw error;
      this.deps.logger.info('execution already exists');
      return executionArnOf(stateMachineArn, batchId);
    }
  }

  /**
   * Puts `Batch Submitted` for a batch the state machine already moved past SUBMITTED, and records
   * the submission time without touching the status. The event may be a second copy (events are
   * at least once); the condition keeps the first recorded time.
   */
  private async announceLateSubmission(batch: BatchItem): Promise<void> {
    const { config, logger } = this.deps;
    const { batchId } = batch;
    const submittedAt = this.deps.now().toISOString();
    const entitiesJobId = batch.entitiesJob?.jobId;
    const snomedJobId = batch.snomedJob?.jobId;
    await publish(this.deps.events, config.eventBusName, DetailType.BatchSubmitted, {
      version: EVENT_VERSION,
      batchId,
      documentCount: batch.documentCount ?? batch.documentIds?.length ?? 0,
      inputS3Uri: s3Uri(config.bucket, batchInputPrefix(batchId)),
      ...(entitiesJobId && snomedJobId ? { entitiesJobId, snomedJobId } : {}),
      submittedAt,
    });
    try {
      await this.deps.dynamo.send(
        new UpdateCommand({
          TableName: config.tableName,
          Key: Keys.batch(batchId),
          UpdateExpression: 'SET submittedAt = :at, executionArn = if_not_exists(executionArn, :arn)',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(submittedAt)',
          ExpressionAttributeValues: { ':at': submittedAt, ':arn': executionArnOf(config.stateMachineArn, batchId) },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    logger.info('late batch submission announced', { batchId, status: batch.status });
  }

  private async markSubmitted(batchId: string, executionArn: string, submittedAt: string): Promise<void> {
    try {
      await this.deps.dynamo.send(
        new UpdateCommand({
          TableName: this.deps.config.tableName,
          Key: Keys.batch(batchId),
          UpdateExpression:
            'SET #status = :submitted, executionArn = :arn, submittedAt = :at, updatedAt = :at, gsi1pk = :gsi1pk, gsi1sk = :at',
          ConditionExpression: '#status = :sealed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':submitted': 'SUBMITTED',
            ':sealed': 'SEALED',
            ':arn': executionArn,
            ':at': submittedAt,
            ':gsi1pk': statusKey('BATCH', 'SUBMITTED'),
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // Another invocation (or the state machine) moved it on already.
      const batch = await this.readBatch(batchId);
      if (!AFTER_SEALED.has(batch.status)) {
        throw batchStateError(`Batch ${batchId} is ${batch.status}, expected SEALED`);
      }
    }
  }
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` -> `...:execution:<name>:<executionName>`. */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') throw new Error('Not a state machine ARN');
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}
