/**
 * Reads what one Comprehend Medical batch job left in S3 (see reference/aws-facts.md, "Batch
 * input and output"): under the job's output prefix a folder `<account>-<JobType>-<JobId>/`
 * with one `<input>.out` per processed file and a summary `Manifest`, and a folder
 * `Manifest_<account>-<Operation>-<JobId>/` with `success/` and `failed/` file lists.
 *
 * The account id is unknown here, so the prefix is listed and the folder found by job id. The
 * exact place and format of the success/failed lists are not fully documented: they are taken
 * from the summary's `*FilesListLocation` when it points into the bucket, else found by name
 * (anywhere under the prefix), and read as one JSON document or as JSON lines.
 */
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { WorkflowError, type DetectionJobResult } from '../../contracts/workflow.js';
import { namedError } from '../shared/errors.js';

export type JobLabel = 'entities' | 'snomedct';

export interface ManifestSummary {
  Status?: string;
  JobType?: string;
  InputFileCount?: number;
  SuccessFilesCount?: number;
  UnprocessedFilesCount?: number;
  SuccessfulFilesListLocation?: string;
  UnprocessedFilesListLocation?: string;
  FailedJobErrorMessage?: string;
}

export interface FailedFile {
  errorCode: string;
  errorMessage?: string;
}

export interface JobOutputs {
  label: JobLabel;
  jobId: string;
  bucket: string;
  /** `<outputS3Key><account>-<JobType>-<JobId>/` */
  folder: string;
  summary: ManifestSummary;
  /** Every object key under the job's output prefix. */
  keys: ReadonlySet<string>;
  /** documentId -> the `.out` key named by the success manifest (when it named one that exists). */
  succeeded: ReadonlyMap<string, string | undefined>;
  failed: ReadonlyMap<string, FailedFile>;
  /** Manifest entries that name no document of the batch. */
  foreignEntries: number;
}

export const outputsError = (message: string) => namedError(WorkflowError.OutputsUnreadable, message);

export async function readJobOutputs(
  s3: S3Client,
  label: JobLabel,
  job: DetectionJobResult,
  documentIds: ReadonlySet<string>,
): Promise<JobOutputs> {
  const bucket = job.outputS3Bucket;
  const prefix = job.outputS3Key === '' || job.outputS3Key.endsWith('/') ? job.outputS3Key : `${job.outputS3Key}/`;
  const keys = new Set(await listKeys(s3, bucket, prefix));
  const folder = findFolder(keys, prefix, job.jobId, label, bucket);
  const manifestKey = `${folder}Manifest`;
  if (!keys.has(manifestKey)) throw outputsError(`${label} job ${job.jobId}: no Manifest in s3://${bucket}/${folder}`);
  const summary = parseSummary(await readText(s3, bucket, manifestKey), label, job.jobId);

  const succeeded = new Map<string, string | undefined>();
  const failed = new Map<string, FailedFile>();
  let foreignEntries = 0;
  const lists = await manifestLists(s3, keys, prefix, bucket, job.jobId, summary);
  for (const { key, kind } of lists) {
    for (const entry of parseFileList(await readText(s3, bucket, key), label, job.jobId)) {
      const documentId = typeof entry.Input === 'string' ? documentIdOf(entry.Input) : undefined;
      if (documentId === undefined || !documentIds.has(documentId)) {
        foreignEntries += 1;
        continue;
      }
      if (kind === 'failed') {
        failed.set(documentId, {
          errorCode: typeof entry.ErrorCode === 'string' && entry.ErrorCode ? entry.ErrorCode : 'FAILED',
          ...(typeof entry.ErrorMessage === 'string' && entry.ErrorMessage ? { errorMessage: entry.ErrorMessage } : {}),
        });
      } else {
        const named = typeof entry.Output === 'string' ? resolveKey(entry.Output, bucket, folder) : undefined;
        succeeded.set(documentId, named !== undefined && keys.has(named) ? named : undefined);
      }
    }
  }
  return { label, jobId: job.jobId, bucket, folder, summary, keys, succeeded, failed, foreignEntries };
}

/** The `.out` object of a document, or undefined when the job wrote none. */
export function outputKeyOf(outputs: JobOutputs, documentId: string): string | undefined {
  const named = outputs.succeeded.get(documentId);
  if (named !== undefined) return named;
  // Input `batches/<id>/input/<documentId>.txt` relative to the input prefix is `<documentId>.txt`.
  const expected = `${outputs.folder}${documentId}.txt.out`;
  return outputs.keys.has(expected) ? expected : undefined;
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw outputsError(`s3://${bucket}/${key} has no body`);
  return response.Body.transformToString('utf-8');
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  return keys;
}

function findFolder(keys: ReadonlySet<string>, prefix: string, jobId: string, label: JobLabel, bucket: string): string {
  // Describe*Job may report the job's own folder as OutputDataConfig.S3Key (the service appends
  // `<account>-<JobType>-<JobId>/` to the requested key): then the prefix is the folder.
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (normalized.slice(0, -1).endsWith(`-${jobId}`) && keys.has(`${normalized}Manifest`)) return normalized;
  const folders = new Set<string>();
  for (const key of keys) {
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const name = rest.slice(0, slash);
    if (name.endsWith(`-${jobId}`) && !name.startsWith('Manifest_')) folders.add(`${prefix}${name}/`);
  }
  const withManifest = [...folders].filter((f) => keys.has(`${f}Manifest`));
  const candidates = withManifest.length > 0 ? withManifest : [...folders];
  if (candidates.length === 0) throw outputsError(`${label} job ${jobId}: no output folder under s3://${bucket}/${prefix}`);
  if (candidates.length > 1) throw outputsError(`${label} job ${jobId}: ${candidates.length} output folders under s3://${bucket}/${prefix}`);
  return candidates[0] as string;
}

function parseSummary(text: string, label: JobLabel, jobId: string): ManifestSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw outputsError(`${label} job ${jobId}: Manifest is not JSON`);
  }
  const summary = isObject(parsed) ? parsed.Summary : undefined;
  if (!isObject(summary)) throw outputsError(`${label} job ${jobId}: Manifest has no Summary`);
  return summary as ManifestSummary;
}

interface ManifestList {
  key: string;
  kind: 'success' | 'failed';
}

async function manifestLists(
  s3: S3Client,
  keys: ReadonlySet<string>,
  prefix: string,
  bucket: string,
  jobId: string,
  summary: ManifestSummary,
): Promise<ManifestList[]> {
  const lists = new Map<string, ManifestList['kind']>();
  // By name: .../Manifest_<account>-<Operation>-<JobId>/(success|failed)/<file>
  for (const key of keys) {
    const parts = key.slice(prefix.length).split('/');
    const at = parts.findIndex((p) => p.startsWith('Manifest_') && p.endsWith(`-${jobId}`));
    const kind = at >= 0 ? parts[at + 1] : undefined;
    if ((kind === 'success' || kind === 'failed') && !key.endsWith('/') && parts.length > at + 2) lists.set(key, kind);
  }
  // By the summary's locations (a file or a folder), when they point into this bucket.
  const located: [string | undefined, ManifestList['kind']][] = [
    [summary.SuccessfulFilesListLocation, 'success'],
    [summary.UnprocessedFilesListLocation, 'failed'],
  ];
  for (const [location, kind] of located) {
    if (typeof location !== 'string' || !location) continue;
    const key = resolveKey(location, bucket, '');
    if (key === undefined) continue;
    const within = key.startsWith(prefix) ? keys : new Set(await listKeys(s3, bucket, key));
    for (const candidate of within) {
      const matches = candidate === key || candidate.startsWith(key.endsWith('/') ? key : `${key}/`);
      if (matches && !candidate.endsWith('/')) lists.set(candidate, kind);
    }
  }
  return [...lists].map(([key, kind]) => ({ key, kind }));
}

interface FileEntry {
  Input?: unknown;
  Output?: unknown;
  ErrorCode?: unknown;
  ErrorMessage?: unknown;
}

function parseFileList(text: string, label: JobLabel, jobId: string): FileEntry[] {
  const entries: FileEntry[] = [];
  const collect = (value: unknown) => {
    if (!isObject(value)) throw outputsError(`${label} job ${jobId}: a file list entry is not an object`);
    if (Array.isArray(value.Files)) {
      for (const file of value.Files) if (isObject(file)) entries.push(file);
    } else if ('Input' in value) {
      entries.push(value);
    }
  };
  if (!text.trim()) return entries;
  try {
    collect(JSON.parse(text));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // JSON lines: one document per line.
    for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
      try {
        collect(JSON.parse(line));
      } catch (lineError) {
        if (lineError instanceof SyntaxError) throw outputsError(`${label} job ${jobId}: a file list is neither JSON nor JSON lines`);
        throw lineError;
      }
    }
  }
  return entries;
}

/** `s3://bucket/batches/b/input/d1.txt`, `batches/b/input/d1.txt` or `d1.txt` -> `d1`. */
function documentIdOf(input: string): string | undefined {
  const path = input.replace(/^s3:\/\/[^/]+\//, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  const id = name.endsWith('.txt') ? name.slice(0, -'.txt'.length) : name;
  return id || undefined;
}

/** An `s3://` URI in `bucket` or a key; a bare relative name is taken relative to `folder`. */
function resolveKey(location: string, bucket: string, folder: string): string | undefined {
  const uri = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
  if (uri) return uri[1] === bucket ? uri[2] : undefined;
  if (folder && !location.startsWith(folder) && !location.includes('/')) return `${folder}${location}`;
  return location;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
