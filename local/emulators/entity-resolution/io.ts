/**
 * Input and output of a matching job, through the S3 API.
 *
 * Input: every object under the Glue table's location (keys ending in `/` and files whose name
 * starts with `_` or `.` are skipped, as Hive/Athena skip them), read as CSV (RFC 4180, the first
 * `skip.header.line.count` lines of each file skipped) or JSON lines, columns mapped to the schema
 * mapping's fields. A row that cannot become a record (malformed, wrong number of fields, no
 * unique id, a unique id seen before in the same source) is counted as not processed and reported
 * in the error file.
 *
 * Output layout (the real column order is unconfirmed; this is the emulator's choice):
 *   <OutputS3Path>/<WorkflowName>/<jobId>/success/part-00000.csv, part-00001.csv, ...
 *     InputSourceARN, <each configured Output name in order>, RecordId, MatchID, MatchRule
 *     rows grouped by MatchID, clusters in the order of their first record
 *   <OutputS3Path>/<WorkflowName>/<jobId>/error/part-00000.csv   (only when rows were rejected)
 *     InputSourceARN, RecordId, Source, Line, ErrorMessage   (never the row's values)
 * An Output name may be a schema field or a group name (its parts joined by a space); `Hashed`
 * values are SHA-256, lowercase hex; output `ApplyNormalization` normalizes values by field type.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { formatCsv, parseCsv } from './csv.js';
import type { MatchField, MatchRecord, MatchResult } from './match.js';
import { normalizeValue } from './normalize.js';
import type { GlueTableDefinition } from './types.js';

/** An input source ready to read: its table, its schema fields and where each field's column is. */
export interface InputSourcePlan {
  sourceArn: string;
  table: GlueTableDefinition;
  fields: MatchField[];
  /** The UNIQUE_ID field's name. */
  uniqueIdField: string;
  /** Column index in the table of each field, by field name. */
  columnIndex: ReadonlyMap<string, number>;
}

export interface RejectedRow {
  sourceArn: string;
  recordId: string;
  /** `s3://bucket/key` of the file. */
  source: string;
  line: number;
  message: string;
}

export interface InputData {
  records: MatchRecord[];
  rejected: RejectedRow[];
  /** Every data row read, accepted or not. */
  inputRecords: number;
}

/** A failure that ends the job FAILED with this message. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** Maps each schema field to its table column (case-insensitive, as Glue lower-cases names). */
export function planInputSource(
  sourceArn: string,
  table: GlueTableDefinition,
  fields: MatchField[],
): InputSourcePlan {
  const columns = table.columns.map((c) => c.toLowerCase());
  const columnIndex = new Map<string, number>();
  for (const field of fields) {
    const index = columns.indexOf(field.fieldName.toLowerCase());
    if (index < 0) {
      throw new Error(`schema field "${field.fieldName}" is not a column of the Glue table ${table.arn} (columns: ${table.columns.join(', ')})`);
    }
    columnIndex.set(field.fieldName, index);
  }
  const uniqueIds = fields.filter((f) => f.type === 'UNIQUE_ID');
  if (uniqueIds.length !== 1) throw new Error(`the schema of ${sourceArn} must have exactly one UNIQUE_ID field, has ${uniqueIds.length}`);
  return { sourceArn, table, fields, uniqueIdField: uniqueIds[0]!.fieldName, columnIndex };
}

function isDataFile(key: string): boolean {
  if (key.endsWith('/')) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  return !name.startsWith('_') && !name.startsWith('.');
}

/** A row as column values in table order, or why it is not one. */
type RawRow = { line: number; values: string[] } | { line: number; error: string };

function csvRows(text: string, table: GlueTableDefinition): RawRow[] {
  return parseCsv(text)
    .filter((row) => row.line > table.skipHeaderLines)
    .map((row): RawRow => {
      if (row.error) return { line: row.line, error: `malformed CSV row: ${row.error}` };
      if (row.fields.length !== table.columns.length) {
        return { line: row.line, error: `the row has ${row.fields.length} fields; the table has ${table.columns.length} columns` };
      }
      return { line: row.line, values: row.fields };
    });
}

function jsonScalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function jsonRows(text: string, table: GlueTableDefinition): RawRow[] {
  const columns = table.columns.map((c) => c.toLowerCase());
  const rows: RawRow[] = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    const line = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lineText);
    } catch {
      rows.push({ line, error: 'malformed JSON line' });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      rows.push({ line, error: 'the JSON line is not an object' });
      return;
    }
    // The JSON SerDe matches keys to columns case-insensitively.
    const byColumn = new Map(Object.entries(parsed).map(([k, v]) => [k.toLowerCase(), v]));
    rows.push({ line, values: columns.map((c) => jsonScalar(byColumn.get(c))) });
  });
  return rows;
}

/** Reads every data file of the source's table and turns its rows into match records. */
export async function readInputSource(s3: S3Client, plan: InputSourcePlan, seenIds = new Set<string>()): Promise<InputData> {
  const { bucket, key: rawPrefix } = parseS3Uri(plan.table.location);
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const data: InputData = { records: [], rejected: [], inputRecords: 0 };
  const keys: string[] = [];
  try {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) if (object.Key && isDataFile(object.Key)) keys.push(object.Key);
    }
  } catch (error) {
    throw new JobFailure(`Failed to read the input data of ${plan.sourceArn} at ${plan.table.location}: ${describe(error)}`);
  }
  const idIndex = plan.columnIndex.get(plan.uniqueIdField)!;
  for (const key of keys.sort()) {
    let text: string;
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      throw new JobFailure(`Failed to read s3://${bucket}/${key} of ${plan.sourceArn}: ${describe(error)}`);
    }
    const source = `s3://${bucket}/${key}`;
    const rows = plan.table.format === 'json' ? jsonRows(text, plan.table) : csvRows(text, plan.table);
    for (const row of rows) {
      data.inputRecords++;
      const reject = (recordId: string, message: string) =>
        data.rejected.push({ sourceArn: plan.sourceArn, recordId, source, line: row.line, message });
      if ('error' in row) {
        reject('', row.error);
        continue;
      }
      const recordId = (row.values[idIndex] ?? '').trim();
      if (recordId === '') {
        reject('', `the unique id (${plan.uniqueIdField}) is missing`);
        continue;
      }
      if (seenIds.has(recordId)) {
        reject(recordId, `the unique id (${plan.uniqueIdField}) was already used by another record of this input source`);
        continue;
      }
      seenIds.add(recordId);
      const values: Record<string, string> = {};
      for (const field of plan.fields) values[field.fieldName] = row.values[plan.columnIndex.get(field.fieldName)!] ?? '';
      data.records.push({ sourceArn: plan.sourceArn, recordId, values });
    }
  }
  return data;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

export interface OutputColumn {
  name: string;
  hashed: boolean;
}

export const OUTPUT_TRAILING_COLUMNS = ['RecordId', 'MatchID', 'MatchRule'] as const;

/** The success table: a header and one row per record, grouped by MatchID. */
export function buildOutputTable(
  columns: OutputColumn[],
  fieldsBySource: ReadonlyMap<string, MatchField[]>,
  records: MatchRecord[],
  results: MatchResult[],
  applyNormalization: boolean,
): string[][] {
  const header = ['InputSourceARN', ...columns.map((c) => c.name), ...OUTPUT_TRAILING_COLUMNS];
  const order = new Map<string, number>();
  results.forEach((r) => {
    if (!order.has(r.matchId)) order.set(r.matchId, order.size);
  });
  const indexes = results.map((_, i) => i).sort((a, b) => order.get(results[a]!.matchId)! - order.get(results[b]!.matchId)! || a - b);
  const rows = indexes.map((i) => {
    const record = records[i]!;
    const result = results[i]!;
    const fields = fieldsBySource.get(record.sourceArn) ?? [];
    const values = columns.map((column) => {
      const value = outputValue(column.name, fields, record, applyNormalization);
      return column.hashed && value !== '' ? createHash('sha256').update(value).digest('hex') : value;
    });
    return [record.sourceArn, ...values, result.recordId, result.matchId, result.matchRule];
  });
  return [header, ...rows];
}

/** A field's value, or a group's parts joined; '' when the source has no such field. */
function outputValue(name: string, fields: MatchField[], record: MatchRecord, normalize: boolean): string {
  const lower = name.toLowerCase();
  const field = fields.find((f) => f.fieldName.toLowerCase() === lower);
  const parts = field ? [field] : fields.filter((f) => f.groupName?.toLowerCase() === lower);
  const values = parts.map((f) => {
    const raw = record.values[f.fieldName] ?? '';
    return normalize && raw.trim() !== '' ? normalizeValue(f.type, raw) : raw;
  });
  return values.filter((v) => v !== '').join(normalize ? '' : ' ');
}

export function buildErrorTable(rejected: RejectedRow[]): string[][] {
  return [
    ['InputSourceARN', 'RecordId', 'Source', 'Line', 'ErrorMessage'],
    ...rejected.map((r) => [r.sourceArn, r.recordId, r.source, String(r.line), r.message]),
  ];
}

/** `<OutputS3Path>/<workflowName>/<jobId>/` as bucket and key prefix. */
export function jobOutputLocation(outputS3Path: string, workflowName: string, jobId: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(outputS3Path);
  const base = key === '' || key.endsWith('/') ? key : `${key}/`;
  return { bucket, prefix: `${base}${workflowName}/${jobId}/` };
}

/**
 * Writes a table (header first) as CSV part files `part-00000.csv`, ... under `prefix`, each with
 * the header and at most `rowsPerFile` rows; at least one file, even with no rows. Returns the keys.
 */
export async function writeCsvParts(
  s3: S3Client,
  target: { bucket: string; prefix: string; kmsArn?: string },
  table: string[][],
  rowsPerFile: number,
): Promise<string[]> {
  const [header, ...rows] = table;
  const keys: string[] = [];
  for (let part = 0, start = 0; part === 0 || start < rows.length; part++, start += rowsPerFile) {
    const key = `${target.prefix}part-${String(part).padStart(5, '0')}.csv`;
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: key,
        Body: formatCsv([header!, ...rows.slice(start, start + rowsPerFile)]),
        ContentType: 'text/csv',
        ...(target.kmsArn ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.kmsArn } : {}),
      }),
    );
    keys.push(key);
  }
  return keys;
}
