/**
 * Materialises a finished batch job through the S3 API, in the layout Comprehend Medical uses:
 *
 *   <OutputDataConfig.S3Key><account>-<JobType>-<JobId>/
 *     <relative input path>.out                      one per processed file: the synchronous response
 *     Manifest                                       {"Summary": {...}}
 *     Manifest_<account>-<JobType>-<JobId>/success/SuccessfulFiles.json   {"Files": [{Input, Output, InputSize}]}
 *     Manifest_<account>-<JobType>-<JobId>/failed/UnprocessedFiles.json   {"Files": [{Input, ErrorCode, ErrorMessage}]}
 *
 * Locations inside the manifests and ManifestFilePath are s3:// URIs.
 */
import type { InputCache } from './input-cache.js';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { JOB_KINDS, dueTime, outputFolderKey, type Job, type JobResult, type TerminalStatus } from './jobs.js';

/** Comprehend Medical's per-file limit for batch jobs (70 KB). */
export const MAX_FILE_BYTES = 70 * 1024;

export interface BatchEngine {
  /** The JSON text of the job's synchronous operation's response for one document (DetectEntitiesV2 / InferSNOMEDCT). */
  analyse(kind: Job['kind'], text: string): Promise<string>;
}

/** The project's structured logger (powertools) or anything with the same methods. */
export type EmulatorLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface MaterialiseDeps {
  s3: S3Client;
  engine: BatchEngine;
  accountId: string;
  logger: EmulatorLogger;
  /** Input bytes shared between the jobs that read the same files (a batch's two jobs). */
  inputCache?: InputCache;
}

interface InputFile {
  key: string;
  relative: string;
  size: number;
  etag?: string;
}

interface FileOutcome {
  file: InputFile;
  text?: string;
  outputKey?: string;
  characters?: number;
  error?: { code: string; message: string };
}

const s3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;

const FILE_ERRORS = {
  empty: { code: 'InvalidRequestException', message: 'The input file is empty: a document must contain at least 1 character.' },
  encoding: { code: 'InvalidEncodingException', message: 'The input text was not in valid UTF-8 character encoding.' },
  doubleSlash: { code: 'InvalidRequestException', message: "The input file path contains '//' and cannot be read." },
  tooLarge: (size: number) => ({
    code: 'TextSizeLimitExceededException',
    message: `The input file is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes per file.`,
  }),
  injected: {
    code: 'InternalServerException',
    message: 'An internal error occurred while processing this file (local fault injection: cm.job=PARTIAL_SUCCESS).',
  },
  jobFailed: { code: 'InternalServerException', message: 'The job failed before this file was processed.' },
  jobStopped: { code: 'JobStopped', message: 'The job was stopped before this file was processed.' },
  engine: { code: 'InternalServerException', message: 'An internal error occurred while processing this file.' },
  unreadable: (reason: string) => ({ code: 'InvalidRequestException', message: `The input file could not be read: ${reason}.` }),
};

export const INJECTED_FAILURE_MESSAGE =
  'An internal error occurred and the job could not be completed. (local fault injection: cm.job=FAILED)';

/** The input path below the job's S3Key, as the service mirrors it in the output folder. */
export function relativeInputPath(key: string, prefix: string): string {
  if (prefix === '') return key;
  if (key === prefix) return key.slice(key.lastIndexOf('/') + 1);
  const rest = key.slice(prefix.length);
  return rest.startsWith('/') && !prefix.endsWith('/') ? rest.slice(1) : rest;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** S3 errors that mean "the role cannot use this location": the job fails, as on AWS. */
function isAccessError(error: unknown): error is S3ServiceException {
  return error instanceof S3ServiceException && ['NoSuchBucket', 'AccessDenied', 'AllAccessDisabled', 'InvalidBucketName'].includes(error.name);
}

/**
 * Reads every input, runs the engine, writes the outputs and manifests, and returns the job's
 * terminal state. Throws only on unexpected S3 failures (the caller retries on a later call).
 */
export async function materialise(job: Job, deps: MaterialiseDeps): Promise<JobResult> {
  const { s3, accountId, logger } = deps;
  const endTime = dueTime(job);
  const stopped = job.stopRequestedAt !== undefined;
  const target: TerminalStatus = stopped ? 'STOPPED' : job.plannedOutcome;
  const input = job.request.InputDataConfig;
  const inputPrefix = input.S3Key ?? '';
  const outBucket = job.request.OutputDataConfig.S3Bucket;
  const folder = outputFolderKey(job.request.OutputDataConfig.S3Key, accountId, job.kind, job.jobId);
  const jobType = JOB_KINDS[job.kind].jobType;
  const manifestFolder = `${folder}Manifest_${accountId}-${jobType}-${job.jobId}/`;
  const successKey = `${manifestFolder}success/SuccessfulFiles.json`;
  const failedKey = `${manifestFolder}failed/UnprocessedFiles.json`;
  const manifestKey = `${folder}Manifest`;
  const put = (key: string, body: string, contentType: string) => {
    const params: PutObjectCommandInput = { Bucket: outBucket, Key: key, Body: body, ContentType: contentType };
    if (job.request.KMSKey !== undefined) {
      params.ServerSideEncryption = 'aws:kms';
      params.SSEKMSKeyId = job.request.KMSKey;
    }
    return s3.send(new PutObjectCommand(params));
  };
  const base = { endTime, inputFileCount: 0, successFileCount: 0, unprocessedFileCount: 0 };

  let files: InputFile[];
  try {
    files = await listInputs(s3, input.S3Bucket, inputPrefix, folder);
  } catch (error) {
    if (!isAccessError(error)) throw error;
    logger.warn('job input unreadable', { jobId: job.jobId, bucket: input.S3Bucket, error: error.name });
    return { ...base, status: 'FAILED', message: `Unable to read the input location ${s3Uri(input.S3Bucket, inputPrefix)}: ${error.name}.` };
  }
  if (files.length === 0) {
    return { ...base, status: 'FAILED', message: `No input files were found at ${s3Uri(input.S3Bucket, inputPrefix)}.` };
  }

  try {
    const outcomes = await mapLimit(files, 8, async (file): Promise<FileOutcome> => {
      if (target === 'FAILED') return { file, error: FILE_ERRORS.jobFailed };
      if (target === 'STOPPED') return { file, error: FILE_ERRORS.jobStopped };
      if (file.key.includes('//')) return { file, error: FILE_ERRORS.doubleSlash };
      if (file.size === 0) return { file, error: FILE_ERRORS.empty };
      if (file.size > MAX_FILE_BYTES) return { file, error: FILE_ERRORS.tooLarge(file.size) };
      let bytes: Uint8Array;
      const fetch = async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: input.S3Bucket, Key: file.key }));
        return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
      };
      try {
        bytes = await (deps.inputCache ? deps.inputCache.read(input.S3Bucket, file.key, file.etag, fetch) : fetch());
      } catch (error) {
        // Deleted or unreadable since it was listed: that file is unprocessed, the job goes on.
        if (error instanceof S3ServiceException && (error.name === 'NoSuchKey' || isAccessError(error))) {
          return { file, error: FILE_ERRORS.unreadable(error.name) };
        }
        throw error;
      }
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        return { file, error: FILE_ERRORS.encoding };
      }
      return { file, characters: [...text].length, text };
    });

    // PARTIAL_SUCCESS: a deterministic subset (every second readable file, by key) is left unprocessed.
    if (target === 'PARTIAL_SUCCESS') {
      const readable = outcomes.filter((o) => !o.error);
      readable.forEach((o, i) => {
        if (i % 2 === 1 || readable.length === 1) {
          o.error = FILE_ERRORS.injected;
          delete o.text;
        }
      });
    }

    await mapLimit(outcomes, 8, async (o) => {
      if (o.error || o.text === undefined) return;
      let response: string;
      try {
        response = await deps.engine.analyse(job.kind, o.text);
      } catch (error) {
        logger.error('engine failed on a file', { jobId: job.jobId, key: o.file.key, error: error instanceof Error ? error.name : 'unknown' });
        o.error = FILE_ERRORS.engine;
        return;
      } finally {
        delete o.text;
      }
      const outKey = `${folder}${o.file.relative}.out`;
      await put(outKey, response, 'application/json');
      o.outputKey = outKey;
    });

    const succeeded = outcomes.filter((o) => !o.error);
    const failed = outcomes.filter((o) => o.error);
    let status: TerminalStatus;
    let message: string | undefined;
    if (target === 'FAILED') {
      status = 'FAILED';
      message = INJECTED_FAILURE_MESSAGE;
    } else if (target === 'STOPPED') {
      status = 'STOPPED';
      message = stopped ? 'The job was stopped at your request.' : 'The job was stopped. (local fault injection: cm.job=STOPPED)';
    } else if (succeeded.length === 0 && target !== 'PARTIAL_SUCCESS') {
      status = 'FAILED';
      message = `None of the ${files.length} input files could be processed; see the unprocessed files manifest.`;
    } else if (failed.length > 0 || target === 'PARTIAL_SUCCESS') {
      // An injected PARTIAL_SUCCESS is honoured even when the only readable file is the one left out.
      status = 'PARTIAL_SUCCESS';
      message = `${failed.length} of ${files.length} input files could not be processed; see the unprocessed files manifest.`;
    } else {
      status = 'COMPLETED';
    }

    await put(
      successKey,
      JSON.stringify({
        Files: succeeded.map((o) => ({ Input: s3Uri(input.S3Bucket, o.file.key), Output: s3Uri(outBucket, o.outputKey ?? ''), InputSize: o.file.size })),
      }),
      'application/json',
    );
    await put(
      failedKey,
      JSON.stringify({
        Files: failed.map((o) => ({ Input: s3Uri(input.S3Bucket, o.file.key), ErrorCode: o.error?.code, ErrorMessage: o.error?.message })),
      }),
      'application/json',
    );
    const summary = {
      Summary: {
        Status: status,
        JobType: jobType,
        InputDataConfiguration: { Bucket: input.S3Bucket, Path: inputPrefix },
        OutputDataConfiguration: { Bucket: outBucket, Path: folder },
        InputFileCount: files.length,
        TotalMeteredCharacters: succeeded.reduce((n, o) => n + (o.characters ?? 0), 0),
        UnprocessedFilesCount: failed.length,
        SuccessFilesCount: succeeded.length,
        TotalDurationSeconds: Math.round((endTime - job.submitTime) / 1000),
        SuccessfulFilesListLocation: s3Uri(outBucket, successKey),
        UnprocessedFilesListLocation: s3Uri(outBucket, failedKey),
        FailedJobErrorMessage: status === 'FAILED' ? message : 'The status of the job is completed',
      },
    };
    if (status === 'STOPPED') summary.Summary.FailedJobErrorMessage = message;
    await put(manifestKey, JSON.stringify(summary), 'application/json');
    logger.info('job outputs written', { jobId: job.jobId, status, files: files.length, unprocessed: failed.length });
    return {
      status,
      endTime,
      message,
      manifestFilePath: s3Uri(outBucket, manifestKey),
      inputFileCount: files.length,
      successFileCount: succeeded.length,
      unprocessedFileCount: failed.length,
    };
  } catch (error) {
    if (!isAccessError(error)) throw error;
    logger.warn('job output location unusable', { jobId: job.jobId, bucket: outBucket, error: error.name });
    return {
      ...base,
      inputFileCount: files.length,
      unprocessedFileCount: files.length,
      status: 'FAILED',
      message: `Unable to write to the output location ${s3Uri(outBucket, folder)}: ${error.name}.`,
    };
  }
}

async function listInputs(s3: S3Client, bucket: string, prefix: string, ownFolder: string): Promise<InputFile[]> {
  const files: InputFile[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      // Folder placeholders are not documents; neither is this job's own output.
      if (!key || key.endsWith('/') || key.startsWith(ownFolder)) continue;
      files.push({ key, relative: relativeInputPath(key, prefix), size: object.Size ?? 0, etag: object.ETag });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
