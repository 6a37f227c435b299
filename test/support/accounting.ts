/**
 * The accounting invariant of a run, checked from what the pipeline recorded — the table, the
 * bucket, the bus archive, the Comprehend Medical emulator's jobs and the ingest DLQ — never from
 * what the test believes happened:
 *
 * - every document version dropped in `inbox/` ends in exactly one terminal state: processed in
 *   exactly one batch (its input copy, both jobs' `.out` files and its identity record present),
 *   unprocessed by a PARTIAL_SUCCESS job (reason recorded), or rejected with a reason (kept under
 *   `rejected/`, gone from `inbox/`, announced); with `allowFailed`, a document of a FAILED batch
 *   whose input is kept counts as awaiting redrive;
 * - no document is in two batches, two identity records or two live jobs' outputs;
 * - no Comprehend Medical job was started twice for the same documents (a new job for a batch's
 *   input only after the previous one ended FAILED or STOPPED);
 * - every batch has a terminal status and its last terminal event agrees with it; events, items
 *   and objects agree (ids, counts); nothing was dead-lettered.
 *
 * `auditRun` returns counts and a list of violations; tests assert that the list is empty.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DetailType, RejectReason } from '../../contracts/events.js';
import { batchInputKey, batchRecordsKey, Prefix, rejectedKey } from '../../contracts/layout.js';
import type { BatchItem, DocumentItem } from '../../contracts/table.js';
import { documentId } from '../../lambdas/shared/documents.js';
import type { JobSnapshot } from '../../local/emulators/comprehend-medical/index.js';
import type { LocalRuntime } from '../../local/runtime/runtime.js';
import { scanAll } from '../../local/runtime/summary.js';

export interface RunState {
  bucket: string;
  items: Array<Record<string, unknown>>;
  /** Every object key in the documents bucket. */
  keys: Set<string>;
  /** `chartflow-reason` metadata of the objects under `rejected/`. */
  rejectedReasons: Map<string, string | undefined>;
  /** record_id values of each `records/<batchId>.csv`. */
  records: Map<string, string[]>;
  events: Array<{ detailType: string; detail: Record<string, unknown> }>;
  jobs: JobSnapshot[];
  deadLetters: number;
}

export interface AuditExpectation {
  /** Keys put under `inbox/`, once each (the local bucket has no versions: one version per key). */
  dropped: readonly string[];
  /** Keys that must produce no document at all (outside `inbox/`, folder markers). */
  ignored?: readonly string[];
  /** Documents of FAILED batches (inputs kept, `Batch Failed` put) count as awaiting redrive, not lost. */
  allowFailed?: boolean;
}

export interface AuditCounts {
  documents: number;
  processed: number;
  unprocessed: number;
  rejected: number;
  /** In a FAILED batch, inputs kept (only with `allowFailed`). */
  awaitingRedrive: number;
  lost: number;
  duplicated: number;
  batches: number;
  comprehendJobs: number;
  duplicateJobs: number;
  /** Empty OPEN candidate batches left by an ingest crash (no document, no claim points at them). */
  orphanCandidates: number;
  events: number;
}

export interface AuditReport {
  counts: AuditCounts;
  violations: string[];
}

async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Reads everything the audit needs from a running (settled) runtime. */
export async function collectRunState(runtime: LocalRuntime): Promise<RunState> {
  const dynamo = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, region: 'us-east-1', credentials: runtime.credentials });
  const items = await scanAll(dynamo, runtime.tableName);
  dynamo.destroy();
  const s3 = runtime.s3Client();
  const bucket = runtime.bucketName;
  const keys = new Set(await listKeys(s3, bucket));
  const rejectedReasons = new Map<string, string | undefined>();
  const records = new Map<string, string[]>();
  for (const key of keys) {
    if (key.startsWith(Prefix.rejected)) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      rejectedReasons.set(key, head.Metadata?.['chartflow-reason']);
    } else if (key.startsWith(Prefix.records) && key.endsWith('.csv')) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
      const [header = '', ...rows] = (body ?? '').split(/\r?\n/).filter((l) => l.length > 0);
      if (!header.startsWith('record_id,')) throw new Error(`${key}: expected record_id as the first column`);
      // record_id is a hex document id: the first comma ends it.
      records.set(key.slice(Prefix.records.length, -'.csv'.length), rows.map((r) => r.slice(0, r.indexOf(','))));
    }
  }
  return {
    bucket,
    items,
    keys,
    rejectedReasons,
    records,
    events: runtime.eventsSeen().map((e) => ({ detailType: e.event['detail-type'], detail: e.event.detail as Record<string, unknown> })),
    jobs: [...runtime.comprehendJobs()],
    deadLetters: runtime.deadLetters.length,
  };
}

export async function auditRun(runtime: LocalRuntime, expectation: AuditExpectation): Promise<AuditReport> {
  return auditState(await collectRunState(runtime), expectation);
}

const DEAD_JOB = new Set(['FAILED', 'STOPPED']);
const JOB_FOLDER = /^batches\/([^/]+)\/output\/(entities|snomedct)\/\d{12}-(?:EntitiesDetection|SNOMEDCTInference)-([0-9a-f]+)\/(.+)$/;

/** The invariant over a collected state (pure: tests may plant violations in a copy). */
export function auditState(state: RunState, expectation: AuditExpectation): AuditReport {
  const violations: string[] = [];
  const v = (message: string) => violations.push(message);
  const docs = new Map<string, DocumentItem>();
  const batches = new Map<string, BatchItem>();
  for (const item of state.items) {
    if (item.entity === 'DOCUMENT') docs.set(String(item.documentId), item as unknown as DocumentItem);
    if (item.entity === 'BATCH') batches.set(String(item.batchId), item as unknown as BatchItem);
  }
  const jobsById = new Map(state.jobs.map((j) => [j.jobId, j]));
  const eventsOf = (type: string, field: string, id: string) => state.events.filter((e) => e.detailType === type && e.detail[field] === id);

  // --- jobs: one live job per type and input, inputs of known batches -------------------------
  let duplicateJobs = 0;
  const jobGroups = new Map<string, JobSnapshot[]>();
  for (const job of state.jobs) {
    const match = /^batches\/([^/]+)\/input\/$/.exec(job.input.S3Key ?? '');
    if (!match || !batches.has(match[1]!)) v(`job ${job.jobId}: input ${job.input.S3Key ?? ''} is not the input of a known batch`);
    const group = `${job.kind} ${job.input.S3Key ?? ''}`;
    jobGroups.set(group, [...(jobGroups.get(group) ?? []), job]);
  }
  for (const [group, jobs] of jobGroups) {
    const ordered = [...jobs].sort((a, b) => a.submitTime - b.submitTime);
    for (let i = 1; i < ordered.length; i++) {
      const before = ordered[i - 1]!;
      const job = ordered[i]!;
      if (!DEAD_JOB.has(before.status) || (before.endTime !== undefined && job.submitTime < before.endTime)) {
        duplicateJobs++;
        v(`duplicate job: ${group}: ${job.jobId} started while ${before.jobId} was ${before.status}`);
      }
    }
  }

  // --- objects: where each document's bytes and outputs are ------------------------------------
  const inputsOf = new Map<string, Set<string>>(); // batchId -> document ids with an input copy
  const outsOf = new Map<string, Array<{ batchId: string; type: string; jobId: string }>>(); // documentId -> .out files
  for (const key of state.keys) {
    const input = /^batches\/([^/]+)\/input\/([0-9a-f]{32})\.txt$/.exec(key);
    if (input) {
      inputsOf.set(input[1]!, (inputsOf.get(input[1]!) ?? new Set()).add(input[2]!));
      continue;
    }
    const out = JOB_FOLDER.exec(key);
    if (out && out[4]!.endsWith('.txt.out')) {
      const id = out[4]!.slice(0, -'.txt.out'.length);
      outsOf.set(id, [...(outsOf.get(id) ?? []), { batchId: out[1]!, type: out[2]!, jobId: out[3]! }]);
    } else if (key.startsWith(Prefix.batches) && !out && !/\/input\/$/.test(key)) {
      v(`unexpected object ${key}`);
    }
  }
  for (const [batchId, ids] of inputsOf) {
    const batch = batches.get(batchId);
    const sealed = new Set(batch?.documentIds ?? []);
    for (const id of ids) if (!sealed.has(id)) v(`stray input copy batches/${batchId}/input/${id}.txt (not in the batch's document set)`);
  }
  const recordRows = new Map<string, string[]>(); // documentId -> batches whose records list it
  for (const [batchId, ids] of state.records) for (const id of ids) recordRows.set(id, [...(recordRows.get(id) ?? []), batchId]);
  const inBatches = new Map<string, string[]>(); // documentId -> batches whose sealed set lists it
  for (const batch of batches.values()) for (const id of batch.documentIds ?? []) inBatches.set(id, [...(inBatches.get(id) ?? []), batch.batchId]);

  // --- documents -------------------------------------------------------------------------------
  const counts: AuditCounts = {
    documents: 0, processed: 0, unprocessed: 0, rejected: 0, awaitingRedrive: 0, lost: 0, duplicated: 0,
    batches: batches.size, comprehendJobs: state.jobs.length, duplicateJobs, orphanCandidates: 0, events: state.events.length,
  };
  const expected = new Map<string, string>(); // documentId -> key
  for (const key of new Set(expectation.dropped)) expected.set(documentId({ bucket: state.bucket, key }), key);
  counts.documents = expected.size;
  for (const key of expectation.ignored ?? []) {
    if (docs.has(documentId({ bucket: state.bucket, key }))) v(`${key}: should be ignored, but has a document record`);
  }
  for (const [id, doc] of docs) if (!expected.has(id)) v(`document ${id} (${doc.key}) was never dropped`);

  for (const [id, key] of expected) {
    const doc = docs.get(id);
    const where = `${key} (${id})`;
    const batchesListing = inBatches.get(id) ?? [];
    const liveOuts = (outsOf.get(id) ?? []).filter((o) => !DEAD_JOB.has(jobsById.get(o.jobId)?.status ?? ''));
    const duplicated =
      batchesListing.length > 1 ||
      (recordRows.get(id)?.length ?? 0) > 1 ||
      liveOuts.filter((o) => o.type === 'entities').length > 1 ||
      liveOuts.filter((o) => o.type === 'snomedct').length > 1;
    if (duplicated) {
      counts.duplicated++;
      v(`${where}: duplicated (batches ${batchesListing.join(', ') || '-'}, identity records in ${recordRows.get(id)?.join(', ') ?? '-'}, ${liveOuts.length} live .out files)`);
    }
    if (!doc) {
      counts.lost++;
      v(`${where}: lost (no document record)`);
      continue;
    }
    const before = violations.length;
    if (doc.status === 'REJECTED') {
      if (!doc.reason) v(`${where}: rejected without a reason`);
      if (!doc.rejectionDone) v(`${where}: rejection not finished`);
      if (batchesListing.length > 0) v(`${where}: rejected, yet in batch ${batchesListing.join(', ')}`);
      if (doc.reason !== RejectReason.NotFound) {
        const kept = rejectedKey(key);
        if (!state.keys.has(kept)) v(`${where}: rejected, but ${kept} is missing`);
        else if (state.rejectedReasons.get(kept) !== doc.reason) v(`${where}: ${kept} carries reason ${state.rejectedReasons.get(kept) ?? 'none'}, the record ${doc.reason ?? 'none'}`);
      }
      if (state.keys.has(key)) v(`${where}: rejected, but still in inbox/`);
      const announced = eventsOf(DetailType.DocumentRejected, 'documentId', id);
      if (announced.length === 0) v(`${where}: rejected without a Document Rejected event`);
      if (announced.some((e) => e.detail.reason !== doc.reason)) v(`${where}: a Document Rejected event disagrees on the reason`);
      if (violations.length === before) counts.rejected++;
      continue;
    }
    if (eventsOf(DetailType.DocumentRejected, 'documentId', id).length > 0) v(`${where}: ${doc.status}, yet announced as rejected`);
    const batch = doc.batchId ? batches.get(doc.batchId) : undefined;
    if (!batch) {
      counts.lost++;
      v(`${where}: lost (${doc.status}, batch ${doc.batchId ?? 'none'} does not exist)`);
      continue;
    }
    if (!(batch.documentIds ?? []).includes(id)) {
      counts.lost++;
      v(`${where}: lost (its record points at batch ${batch.batchId}, which was sealed without it)`);
      continue;
    }
    if (!inputsOf.get(batch.batchId)?.has(id)) v(`${where}: input copy ${batchInputKey(batch.batchId, id)} is missing`);
    // Outputs may have been read (PROCESSED) before a later step (matching) failed the batch.
    if (batch.status === 'FAILED' && expectation.allowFailed) {
      if (violations.length === before) counts.awaitingRedrive++;
      continue;
    }
    if (doc.status === 'PROCESSED') {
      if (batch.status !== 'COMPLETED') v(`${where}: PROCESSED in batch ${batch.batchId}, which is ${batch.status}`);
      for (const [type, job] of [['entities', batch.entitiesJob], ['snomedct', batch.snomedJob]] as const) {
        if (!job || !liveOuts.some((o) => o.type === type && o.jobId === job.jobId && o.batchId === batch.batchId)) {
          v(`${where}: the ${type} .out file of job ${job?.jobId ?? '(none recorded)'} is missing`);
        }
      }
      if (!(state.records.get(batch.batchId) ?? []).includes(id)) v(`${where}: no identity record in ${batchRecordsKey(batch.batchId)}`);
      if (violations.length === before) counts.processed++;
    } else if (doc.status === 'UNPROCESSED') {
      if (batch.status !== 'COMPLETED' || batch.outcome !== 'PARTIAL_SUCCESS') v(`${where}: UNPROCESSED in batch ${batch.batchId} (${batch.status}, ${batch.outcome ?? 'no outcome'})`);
      if (!doc.reason) v(`${where}: unprocessed without a reason`);
      if (violations.length === before) counts.unprocessed++;
    } else {
      counts.lost++;
      v(`${where}: lost (${doc.status} in batch ${batch.batchId}, which is ${batch.status})`);
    }
  }

  // --- batches and their events ----------------------------------------------------------------
  const terminalEvents = new Set<string>([DetailType.BatchCompleted, DetailType.BatchFailed]);
  for (const batch of batches.values()) {
    const b = `batch ${batch.batchId}`;
    const ids = batch.documentIds ?? [];
    // An ingest crash between opening its candidate and sealing or deleting it can leave an OPEN
    // candidate no claim points at: it holds no document and nothing reads it. Counted, not a
    // violation (see the report: a sweeper would delete it).
    if (batch.status === 'OPEN' && ids.length === 0 && ![...docs.values()].some((d) => d.batchId === batch.batchId)) {
      counts.orphanCandidates++;
      continue;
    }
    if (batch.documentCount !== undefined && batch.documentCount !== ids.length) v(`${b}: documentCount ${batch.documentCount} but ${ids.length} documents sealed`);
    if (ids.length === 0) v(`${b}: ${batch.status} with no documents`);
    if (batch.status !== 'COMPLETED' && batch.status !== 'FAILED') {
      v(`${b}: left ${batch.status}, without a terminal status`);
      continue;
    }
    for (const id of ids) if (docs.get(id)?.batchId !== batch.batchId) v(`${b}: lists ${id}, whose record points at ${docs.get(id)?.batchId ?? 'nothing'}`);
    if (eventsOf(DetailType.BatchSubmitted, 'batchId', batch.batchId).length === 0) v(`${b}: no Batch Submitted event`);
    const terminal = state.events.filter((e) => terminalEvents.has(e.detailType) && e.detail.batchId === batch.batchId);
    const last = terminal[terminal.length - 1];
    const wanted = batch.status === 'COMPLETED' ? DetailType.BatchCompleted : DetailType.BatchFailed;
    if (!last) v(`${b}: ${batch.status} without a terminal event`);
    else if (last.detailType !== wanted) v(`${b}: ${batch.status}, but its last terminal event is ${last.detailType}`);
    if (batch.status === 'FAILED') {
      if (!expectation.allowFailed) v(`${b}: FAILED (${batch.error ?? ''}) and not redriven`);
      continue;
    }
    const processed = ids.filter((id) => docs.get(id)?.status === 'PROCESSED').length;
    for (const event of terminal.filter((e) => e.detailType === DetailType.BatchCompleted)) {
      if (event.detail.processedCount !== processed || event.detail.documentCount !== ids.length) {
        v(`${b}: Batch Completed says ${String(event.detail.processedCount)}/${String(event.detail.documentCount)} processed, the records ${processed}/${ids.length}`);
      }
    }
    if (batch.processedCount !== undefined && batch.processedCount !== processed) v(`${b}: processedCount ${batch.processedCount}, ${processed} documents PROCESSED`);
    for (const [field, job] of [['entitiesJob', batch.entitiesJob], ['snomedJob', batch.snomedJob]] as const) {
      const known = job ? jobsById.get(job.jobId) : undefined;
      if (!known || (known.status !== 'COMPLETED' && known.status !== 'PARTIAL_SUCCESS')) v(`${b}: ${field} ${job?.jobId ?? '(none)'} is ${known?.status ?? 'unknown to Comprehend Medical'}`);
    }
  }
  for (const e of state.events) {
    const batchId = e.detail.batchId;
    if (typeof batchId === 'string' && !batches.has(batchId)) v(`${e.detailType} event for unknown batch ${batchId}`);
    const docId = e.detail.documentId;
    if (typeof docId === 'string' && !docs.has(docId)) v(`${e.detailType} event for unknown document ${docId}`);
  }
  if (state.deadLetters > 0) v(`${state.deadLetters} notification(s) in the ingest dead-letter queue`);
  return { counts, violations };
}
