/**
 * What a run did, read back from where the pipeline recorded it: the table (batches, documents,
 * matching runs), the bus archive (events), the matching output (patients linked) and the
 * engine's execution statistics (virtual time, state transitions).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchItem, DocumentItem, MatchingRunItem } from '../../contracts/table.js';
import { Prefix } from '../../contracts/layout.js';
import type { LocalRuntime } from './runtime.js';

export interface RunSummary {
  documents: { dropped: number; processed: number; rejected: number; unprocessed: number; rejectedReasons: Record<string, number> };
  batches: Array<{ batchId: string; status: string; documents: number; transitions: number; virtualMinutes: number; error?: string; cause?: string }>;
  entitiesByCategory: Record<string, number>;
  snomedConcepts: number;
  matchingRuns: Array<{ runId: string; status: string; batches: number; inputRecords?: number; matchIDs?: number }>;
  patients: { records: number; linkedGroups: number; linkedRecords: number };
  comprehendJobs: number;
  lambdaInvocations: number;
  stateTransitions: number;
  /** Virtual time from the runtime's start to the end of the run. */
  virtualMinutes: number;
  deadLetters: number;
  events: Record<string, number>;
}

export async function scanAll(client: DynamoDBClient, tableName: string): Promise<Array<Record<string, unknown>>> {
  const documents = DynamoDBDocumentClient.from(client);
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The latest successful matching output: MatchID -> number of records. */
async function matchClusters(s3: S3Client, bucket: string, jobId: string | undefined): Promise<Map<string, number>> {
  const clusters = new Map<string, number>();
  if (!jobId) return clusters;
  let token: string | undefined;
  const keys: string[] = [];
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: Prefix.matches, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key?.includes(`/${jobId}/success/`)) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  for (const key of keys) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    const [header, ...rows] = body.trim().split(/\r?\n/);
    const column = header!.split(',').indexOf('MatchID');
    if (column < 0) continue;
    // MatchIDs are hex: no quoting around them, so the column can be read from the end safely
    // only if no earlier field holds a comma — the workflow outputs record_id and batch_id only.
    for (const row of rows) {
      const id = row.split(',')[column];
      if (id) clusters.set(id, (clusters.get(id) ?? 0) + 1);
    }
  }
  return clusters;
}

/** The run's summary; `items` is the table if the caller scanned it already (one scan for 10,000 documents is seconds). */
export async function summarize(runtime: LocalRuntime, items?: Array<Record<string, unknown>>): Promise<RunSummary> {
  if (!items) {
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, region: 'us-east-1', credentials: runtime.credentials });
    items = await scanAll(dynamo, runtime.tableName);
    dynamo.destroy();
  }
  const documents = items.filter((i) => i.entity === 'DOCUMENT') as unknown as DocumentItem[];
  const batchItems = (items.filter((i) => i.entity === 'BATCH') as unknown as BatchItem[]).sort((a, b) => a.batchId.localeCompare(b.batchId));
  const runs = (items.filter((i) => i.entity === 'MATCHING_RUN') as unknown as MatchingRunItem[]).sort((a, b) => a.runId.localeCompare(b.runId));

  const entitiesByCategory: Record<string, number> = {};
  let snomedConcepts = 0;
  const rejectedReasons: Record<string, number> = {};
  for (const d of documents) {
    for (const [category, n] of Object.entries(d.entitiesByCategory ?? {})) entitiesByCategory[category] = (entitiesByCategory[category] ?? 0) + n;
    snomedConcepts += d.snomedConceptCount ?? 0;
    if (d.status === 'REJECTED') rejectedReasons[d.reason ?? 'UNKNOWN'] = (rejectedReasons[d.reason ?? 'UNKNOWN'] ?? 0) + 1;
  }

  let stateTransitions = 0;
  // Listed once: batches × executions would be quadratic at 10,000 documents.
  const executions: ReturnType<LocalRuntime['sfn']['listExecutions']>['executions'] = [];
  let token: string | undefined;
  do {
    const page = runtime.sfn.listExecutions({ stateMachineArn: runtime.stateMachineArn, nextToken: token, maxResults: 1000 });
    executions.push(...page.executions);
    token = page.nextToken;
  } while (token);
  const batches = batchItems.map((b) => {
    let transitions = 0;
    let durationMs = 0;
    for (const e of executions) {
      if (!e.name?.startsWith(b.batchId) || !e.executionArn) continue;
      const stats = runtime.sfn.getExecutionStats(e.executionArn);
      transitions += stats.stateTransitions;
      durationMs += stats.durationMs ?? 0;
    }
    stateTransitions += transitions;
    return { batchId: b.batchId, status: b.status, documents: b.documentCount ?? 0, transitions, virtualMinutes: Math.round(durationMs / 600) / 100, error: b.error, cause: b.cause };
  });

  const lastSucceeded = [...runs].reverse().find((r) => r.status === 'SUCCEEDED');
  const clusters = await matchClusters(runtime.s3Client(), runtime.bucketName, lastSucceeded?.jobId);
  const linked = [...clusters.values()].filter((n) => n > 1);

  const events: Record<string, number> = {};
  for (const e of runtime.eventsSeen()) events[e.event['detail-type']] = (events[e.event['detail-type']] ?? 0) + 1;

  return {
    documents: {
      dropped: documents.length,
      processed: documents.filter((d) => d.status === 'PROCESSED').length,
      rejected: documents.filter((d) => d.status === 'REJECTED').length,
      unprocessed: documents.filter((d) => d.status === 'UNPROCESSED').length,
      rejectedReasons,
    },
    batches,
    entitiesByCategory,
    snomedConcepts,
    matchingRuns: runs.map((r) => ({ runId: r.runId, status: r.status, batches: r.batchIds.length, inputRecords: r.metrics?.inputRecords, matchIDs: r.metrics?.matchIDs })),
    patients: { records: [...clusters.values()].reduce((a, b) => a + b, 0), linkedGroups: linked.length, linkedRecords: linked.reduce((a, b) => a + b, 0) },
    comprehendJobs: runtime.comprehendJobs().length,
    lambdaInvocations: runtime.lambdaInvocations,
    stateTransitions,
    virtualMinutes: Math.round((runtime.scheduler.clock.now() - runtime.startedAt) / 600) / 100,
    deadLetters: runtime.deadLetters.length,
    events,
  };
}

export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const d = s.documents;
  lines.push(`Documents: ${d.dropped} dropped, ${d.processed} processed, ${d.rejected} rejected${d.unprocessed ? `, ${d.unprocessed} unprocessed` : ''}`);
  for (const [reason, n] of Object.entries(d.rejectedReasons)) lines.push(`  rejected ${reason}: ${n}`);
  lines.push(`Batches: ${s.batches.length} (${s.comprehendJobs} Comprehend Medical jobs, ${s.lambdaInvocations} Lambda invocations, ${s.deadLetters} dead letters)`);
  for (const b of s.batches) {
    lines.push(`  ${b.batchId}  ${b.status.padEnd(14)} ${String(b.documents).padStart(5)} docs  ${String(b.transitions).padStart(4)} transitions  ${b.virtualMinutes} virtual min${b.error ? `  ${b.error}: ${b.cause ?? ''}` : ''}`);
  }
  lines.push('Entities by category (local engine):');
  for (const [category, n] of Object.entries(s.entitiesByCategory).sort((a, b) => b[1] - a[1])) lines.push(`  ${category.padEnd(32)} ${n}`);
  lines.push(`SNOMED CT concepts linked: ${s.snomedConcepts}`);
  lines.push(`Matching runs: ${s.matchingRuns.length} (${s.matchingRuns.map((r) => `${r.status} covering ${r.batches} batch${r.batches === 1 ? '' : 'es'}`).join('; ')})`);
  lines.push(`Patients: ${s.patients.records} identity records, ${s.patients.linkedGroups} patients linked across ${s.patients.linkedRecords} documents`);
  lines.push(`Virtual time: ${s.virtualMinutes} min; state transitions: ${s.stateTransitions}`);
  lines.push(`Events: ${Object.entries(s.events).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  return lines.join('\n');
}
