import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeEntitiesDetectionV2JobCommand,
  DescribeSNOMEDCTInferenceJobCommand,
  DetectEntitiesV2Command,
  InternalServerException,
  StartEntitiesDetectionV2JobCommand,
  StartSNOMEDCTInferenceJobCommand,
  StopEntitiesDetectionV2JobCommand,
  TooManyRequestsException,
  type ComprehendMedicalAsyncJobProperties,
} from '@aws-sdk/client-comprehendmedical';
import { seededRandom } from '../../faults.js';
import { MAX_FILE_BYTES } from './index.js';
import { ACCOUNT, BUCKET, failure, getText, jobRequest, listKeys, putText, rawCall, startFixture, type Fixture } from './test-support.js';

const MINUTE = 60_000;
const TARGET = 'ComprehendMedical_20181030';

const NOTES: Record<string, string> = {
  'a.txt': 'Patient is a 64 year old male with type 2 diabetes, on metformin 500 mg po bid.',
  'b.txt': 'Denies chest pain. Blood pressure 150/90. Start lisinopril 10 mg daily.',
  'sub/c.txt': 'History of asthma; albuterol inhaler as needed. Mild wheezing on exam.',
  'sub/d.txt': 'Chest x-ray shows left lower lobe pneumonia. Started on azithromycin.',
};

interface Summary {
  Summary: {
    Status: string;
    JobType: string;
    InputDataConfiguration: { Bucket: string; Path: string };
    OutputDataConfiguration: { Bucket: string; Path: string };
    InputFileCount: number;
    TotalMeteredCharacters: number;
    UnprocessedFilesCount: number;
    SuccessFilesCount: number;
    TotalDurationSeconds: number;
    SuccessfulFilesListLocation: string;
    UnprocessedFilesListLocation: string;
    FailedJobErrorMessage: string;
  };
}
interface FileList {
  Files: { Input: string; Output?: string; InputSize?: number; ErrorCode?: string; ErrorMessage?: string }[];
}

const keyOf = (uri: string) => uri.replace(`s3://${BUCKET}/`, '');

describe('Comprehend Medical emulator: job outputs in S3', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ cmJobMinutes: 5 });
    for (const [name, text] of Object.entries(NOTES)) await putText(f.s3Client, `good/input/${name}`, text);
    for (const [name, text] of Object.entries(NOTES)) await putText(f.s3Client, `mixed/input/${name}`, text);
    await putText(f.s3Client, 'mixed/input/empty.txt', '');
    await putText(f.s3Client, 'mixed/input/latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await putText(f.s3Client, 'mixed/input/big.txt', 'x'.repeat(MAX_FILE_BYTES + 1));
    await putText(f.s3Client, 'mixed/input/folder/', '');
  });
  afterAll(async () => {
    await f.close();
  });
  beforeEach(() => {
    f.faults.cmJobOutcome = 'COMPLETED';
  });

  const finishEntities = async (input: string, output: string): Promise<ComprehendMedicalAsyncJobProperties> => {
    const { JobId } = await f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest(input, output)));
    f.clock.advance(5 * MINUTE);
    const described = await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId }));
    if (!described.ComprehendMedicalAsyncJobProperties) throw new Error('no properties');
    return described.ComprehendMedicalAsyncJobProperties;
  };

  it('COMPLETED: one .out per input (the synchronous response, sub-folders kept), the Manifest and both file lists', async () => {
    const job = await finishEntities('good/input/', 'good/output');
    const folder = `good/output/${ACCOUNT}-EntitiesDetection-${job.JobId}/`;
    const manifests = `${folder}Manifest_${ACCOUNT}-EntitiesDetection-${job.JobId}/`;
    expect(job.JobStatus).toBe('COMPLETED');
    expect(job.Message).toBeUndefined();
    expect(job.ManifestFilePath).toBe(`s3://${BUCKET}/${folder}Manifest`);
    expect(await listKeys(f.s3Client, 'good/output/')).toEqual(
      [
        `${folder}Manifest`,
        `${manifests}failed/UnprocessedFiles.json`,
        `${manifests}success/SuccessfulFiles.json`,
        `${folder}a.txt.out`,
        `${folder}b.txt.out`,
        `${folder}sub/c.txt.out`,
        `${folder}sub/d.txt.out`,
      ].sort(),
    );

    for (const [name, text] of Object.entries(NOTES)) {
      const sync = await rawCall(f.emulator.endpoint, `${TARGET}.DetectEntitiesV2`, JSON.stringify({ Text: text }));
      expect(sync.status).toBe(200);
      expect(JSON.parse(await getText(f.s3Client, `${folder}${name}.out`))).toEqual(sync.json);
    }
    // The engine's entities, with offsets into the input document.
    const out = JSON.parse(await getText(f.s3Client, `${folder}a.txt.out`)) as { Entities: { Text: string; Category: string; BeginOffset: number; EndOffset: number }[]; ModelVersion: string };
    const metformin = out.Entities.find((e) => e.Text === 'metformin');
    expect(metformin).toMatchObject({ Category: 'MEDICATION' });
    expect(NOTES['a.txt']?.slice(metformin?.BeginOffset, metformin?.EndOffset)).toBe('metformin');
    expect(out.ModelVersion).toBe(job.ModelVersion);

    const summary = JSON.parse(await getText(f.s3Client, keyOf(job.ManifestFilePath ?? ''))) as Summary;
    const characters = Object.values(NOTES).reduce((n, t) => n + t.length, 0);
    expect(summary).toEqual({
      Summary: {
        Status: 'COMPLETED',
        JobType: 'EntitiesDetection',
        InputDataConfiguration: { Bucket: BUCKET, Path: 'good/input/' },
        OutputDataConfiguration: { Bucket: BUCKET, Path: folder },
        InputFileCount: 4,
        TotalMeteredCharacters: characters,
        UnprocessedFilesCount: 0,
        SuccessFilesCount: 4,
        TotalDurationSeconds: 300,
        SuccessfulFilesListLocation: `s3://${BUCKET}/${manifests}success/SuccessfulFiles.json`,
        UnprocessedFilesListLocation: `s3://${BUCKET}/${manifests}failed/UnprocessedFiles.json`,
        FailedJobErrorMessage: 'The status of the job is completed',
      },
    });
    const success = JSON.parse(await getText(f.s3Client, keyOf(summary.Summary.SuccessfulFilesListLocation))) as FileList;
    expect(success.Files).toEqual(
      Object.entries(NOTES).map(([name, text]) => ({
        Input: `s3://${BUCKET}/good/input/${name}`,
        Output: `s3://${BUCKET}/${folder}${name}.out`,
        InputSize: Buffer.byteLength(text),
      })),
    );
    expect(JSON.parse(await getText(f.s3Client, keyOf(summary.Summary.UnprocessedFilesListLocation)))).toEqual({ Files: [] });
  });

  it('writes the outputs once: later calls do not rewrite them', async () => {
    const job = await finishEntities('good/input/', 'once/');
    const out = `once/${ACCOUNT}-EntitiesDetection-${job.JobId}/a.txt.out`;
    await f.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: out }));
    f.clock.advance(MINUTE);
    expect((await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: job.JobId }))).ComprehendMedicalAsyncJobProperties?.JobStatus).toBe('COMPLETED');
    expect(await listKeys(f.s3Client, 'once/')).not.toContain(out);
  });

  it('SNOMED CT jobs write InferSNOMEDCT responses under <account>-SNOMEDCTInference-<JobId>/', async () => {
    const { JobId } = await f.cm.send(new StartSNOMEDCTInferenceJobCommand(jobRequest('good/input/sub/', 'snomed/')));
    f.clock.advance(5 * MINUTE);
    const job = (await f.cm.send(new DescribeSNOMEDCTInferenceJobCommand({ JobId }))).ComprehendMedicalAsyncJobProperties;
    const folder = `snomed/${ACCOUNT}-SNOMEDCTInference-${JobId}/`;
    expect(job?.JobStatus).toBe('COMPLETED');
    expect(job?.OutputDataConfig?.S3Key).toBe(folder);
    expect(await listKeys(f.s3Client, folder)).toEqual(
      [`${folder}Manifest`, `${folder}Manifest_${ACCOUNT}-SNOMEDCTInference-${JobId}/failed/UnprocessedFiles.json`, `${folder}Manifest_${ACCOUNT}-SNOMEDCTInference-${JobId}/success/SuccessfulFiles.json`, `${folder}c.txt.out`, `${folder}d.txt.out`].sort(),
    );
    const sync = await rawCall(f.emulator.endpoint, `${TARGET}.InferSNOMEDCT`, JSON.stringify({ Text: NOTES['sub/c.txt'] }));
    const out = JSON.parse(await getText(f.s3Client, `${folder}c.txt.out`)) as { Entities: { Text: string; SNOMEDCTConcepts: { Code: string }[] }[] };
    expect(out).toEqual(sync.json);
    expect(out.Entities.find((e) => e.Text === 'asthma')?.SNOMEDCTConcepts.length).toBeGreaterThan(0);
    const summary = JSON.parse(await getText(f.s3Client, `${folder}Manifest`)) as Summary;
    expect(summary.Summary.JobType).toBe('SNOMEDCTInference');
  });

  it('empty, non-UTF-8 and over-70-KB files are unprocessed with the service error codes: PARTIAL_SUCCESS', async () => {
    const job = await finishEntities('mixed/input/', 'mixed/output/');
    const folder = `mixed/output/${ACCOUNT}-EntitiesDetection-${job.JobId}/`;
    expect(job.JobStatus).toBe('PARTIAL_SUCCESS');
    expect(job.Message).toBe('3 of 7 input files could not be processed; see the unprocessed files manifest.');
    const summary = JSON.parse(await getText(f.s3Client, keyOf(job.ManifestFilePath ?? ''))) as Summary;
    expect(summary.Summary).toMatchObject({ Status: 'PARTIAL_SUCCESS', InputFileCount: 7, SuccessFilesCount: 4, UnprocessedFilesCount: 3 });
    const failed = JSON.parse(await getText(f.s3Client, keyOf(summary.Summary.UnprocessedFilesListLocation))) as FileList;
    expect(failed.Files).toEqual([
      { Input: `s3://${BUCKET}/mixed/input/big.txt`, ErrorCode: 'TextSizeLimitExceededException', ErrorMessage: expect.stringContaining(String(MAX_FILE_BYTES)) },
      { Input: `s3://${BUCKET}/mixed/input/empty.txt`, ErrorCode: 'InvalidRequestException', ErrorMessage: expect.any(String) },
      { Input: `s3://${BUCKET}/mixed/input/latin1.txt`, ErrorCode: 'InvalidEncodingException', ErrorMessage: expect.any(String) },
    ]);
    const keys = await listKeys(f.s3Client, folder);
    expect(keys.filter((k) => k.endsWith('.out'))).toEqual([`${folder}a.txt.out`, `${folder}b.txt.out`, `${folder}sub/c.txt.out`, `${folder}sub/d.txt.out`]);
  });

  it('cm.job=PARTIAL_SUCCESS leaves a deterministic subset unprocessed (every second file by key)', async () => {
    f.faults.cmJobOutcome = 'PARTIAL_SUCCESS';
    const job = await finishEntities('good/input/', 'partial/');
    const folder = `partial/${ACCOUNT}-EntitiesDetection-${job.JobId}/`;
    expect(job.JobStatus).toBe('PARTIAL_SUCCESS');
    const summary = JSON.parse(await getText(f.s3Client, `${folder}Manifest`)) as Summary;
    expect(summary.Summary).toMatchObject({ Status: 'PARTIAL_SUCCESS', InputFileCount: 4, SuccessFilesCount: 2, UnprocessedFilesCount: 2 });
    const failed = JSON.parse(await getText(f.s3Client, keyOf(summary.Summary.UnprocessedFilesListLocation))) as FileList;
    expect(failed.Files.map((x) => [x.Input, x.ErrorCode])).toEqual([
      [`s3://${BUCKET}/good/input/b.txt`, 'InternalServerException'],
      [`s3://${BUCKET}/good/input/sub/d.txt`, 'InternalServerException'],
    ]);
    const success = JSON.parse(await getText(f.s3Client, keyOf(summary.Summary.SuccessfulFilesListLocation))) as FileList;
    expect(success.Files.map((x) => x.Input)).toEqual([`s3://${BUCKET}/good/input/a.txt`, `s3://${BUCKET}/good/input/sub/c.txt`]);
    expect((await listKeys(f.s3Client, folder)).filter((k) => k.endsWith('.out'))).toEqual([`${folder}a.txt.out`, `${folder}sub/c.txt.out`]);

    // A one-file job (S3Key naming the file itself) still ends PARTIAL_SUCCESS, its file unprocessed.
    const single = await finishEntities('good/input/a.txt', 'partial-one/');
    expect(single.JobStatus).toBe('PARTIAL_SUCCESS');
    const one = JSON.parse(await getText(f.s3Client, keyOf(single.ManifestFilePath ?? ''))) as Summary;
    expect(one.Summary).toMatchObject({ InputFileCount: 1, SuccessFilesCount: 0, UnprocessedFilesCount: 1 });
  });

  it('an S3Key naming one file processes that file, its output named after the file', async () => {
    const job = await finishEntities('good/input/sub/c.txt', 'one/');
    expect(job.JobStatus).toBe('COMPLETED');
    expect(await listKeys(f.s3Client, `one/${ACCOUNT}-EntitiesDetection-${job.JobId}/c`)).toEqual([`one/${ACCOUNT}-EntitiesDetection-${job.JobId}/c.txt.out`]);
  });

  it('cm.job=FAILED ends FAILED with a Message and no .out files', async () => {
    f.faults.cmJobOutcome = 'FAILED';
    const job = await finishEntities('good/input/', 'failed/');
    expect(job.JobStatus).toBe('FAILED');
    expect(job.Message).toMatch(/cm\.job=FAILED/);
    const folder = `failed/${ACCOUNT}-EntitiesDetection-${job.JobId}/`;
    expect((await listKeys(f.s3Client, folder)).filter((k) => k.endsWith('.out'))).toEqual([]);
    const summary = JSON.parse(await getText(f.s3Client, `${folder}Manifest`)) as Summary;
    expect(summary.Summary).toMatchObject({ Status: 'FAILED', SuccessFilesCount: 0, UnprocessedFilesCount: 4, FailedJobErrorMessage: job.Message });
  });

  it('cm.job=STOPPED ends STOPPED; a stop request ends STOPPED with its own message', async () => {
    f.faults.cmJobOutcome = 'STOPPED';
    const injected = await finishEntities('good/input/', 'stopped/');
    expect(injected.JobStatus).toBe('STOPPED');
    f.faults.cmJobOutcome = 'COMPLETED';
    const { JobId } = await f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('good/input/', 'stopped/')));
    await f.cm.send(new StopEntitiesDetectionV2JobCommand({ JobId }));
    f.clock.advance(MINUTE);
    const requested = (await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId }))).ComprehendMedicalAsyncJobProperties;
    expect(requested).toMatchObject({ JobStatus: 'STOPPED', Message: 'The job was stopped at your request.' });
    expect((await listKeys(f.s3Client, 'stopped/')).filter((k) => k.endsWith('.out'))).toEqual([]);
  });

  it('a job whose input location is empty or missing, or whose output bucket is missing, ends FAILED with a Message', async () => {
    const empty = await finishEntities('nothing/here/', 'x/');
    expect(empty).toMatchObject({ JobStatus: 'FAILED', Message: `No input files were found at s3://${BUCKET}/nothing/here/.` });

    const start = (input: object) => f.cm.send(new StartEntitiesDetectionV2JobCommand(input as never));
    const noInputBucket = await start({ ...jobRequest('good/input/', 'x/'), InputDataConfig: { S3Bucket: 'no-such-bucket', S3Key: 'in/' } });
    const noOutputBucket = await start({ ...jobRequest('good/input/', 'x/'), OutputDataConfig: { S3Bucket: 'no-such-output' } });
    f.clock.advance(5 * MINUTE);
    const a = (await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: noInputBucket.JobId }))).ComprehendMedicalAsyncJobProperties;
    expect(a).toMatchObject({ JobStatus: 'FAILED', Message: 'Unable to read the input location s3://no-such-bucket/in/: NoSuchBucket.' });
    expect(a?.ManifestFilePath).toBeUndefined();
    const b = (await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: noOutputBucket.JobId }))).ComprehendMedicalAsyncJobProperties;
    expect(b).toMatchObject({ JobStatus: 'FAILED', Message: expect.stringMatching(/^Unable to write to the output location s3:\/\/no-such-output\/.*NoSuchBucket/) });
  });
});

describe('Comprehend Medical emulator: logs', () => {
  it('are structured and carry ids and keys, never document text', async () => {
    const lines: unknown[][] = [];
    const capture = (level: string) => (...args: unknown[]) => void lines.push([level, ...args]);
    const f = await startFixture({ cmJobMinutes: 1 }, { info: capture('info'), warn: capture('warn'), error: capture('error') });
    try {
      for (const [name, text] of Object.entries(NOTES)) await putText(f.s3Client, `logs/input/${name}`, text);
      const { JobId } = await f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('logs/input/', 'logs/output/')));
      await f.cm.send(new DetectEntitiesV2Command({ Text: NOTES['a.txt'] ?? '' }));
      f.clock.advance(MINUTE);
      await f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId }));
      const logged = JSON.stringify(lines);
      expect(logged).toContain(JobId);
      expect(lines).toContainEqual(['info', 'job outputs written', expect.objectContaining({ jobId: JobId, status: 'COMPLETED', files: 4 })]);
      for (const word of ['metformin', 'diabetes', 'asthma', 'pneumonia', 'lisinopril']) expect(logged).not.toContain(word);
    } finally {
      await f.close();
    }
  });
});

describe('Comprehend Medical emulator: injected faults', () => {
  it('throttles the seeded fraction of calls with TooManyRequestsException (429), only where the model allows it', async () => {
    const f = await startFixture({ cmThrottleRate: 0.5, seed: 42 });
    try {
      const draws = seededRandom(42);
      for (let i = 0; i < 20; i++) {
        const expectThrottle = draws() < 0.5;
        const call = f.cm.send(new DescribeEntitiesDetectionV2JobCommand({ JobId: 'f'.repeat(32) }));
        const error = await failure(call);
        if (expectThrottle) {
          expect(error).toBeInstanceOf(TooManyRequestsException);
          expect(error.$metadata?.httpStatusCode).toBe(429);
        } else {
          expect(error.name).toBe('ResourceNotFoundException');
        }
      }
      // StopEntitiesDetectionV2Job does not model TooManyRequestsException: never throttled.
      for (let i = 0; i < 10; i++) {
        const error = await failure(f.cm.send(new StopEntitiesDetectionV2JobCommand({ JobId: 'f'.repeat(32) })));
        expect(error.name).toBe('ResourceNotFoundException');
      }
    } finally {
      await f.close();
    }
  });

  it('answers InternalServerException (500) at the configured rate, and recovers when the rate is lowered', async () => {
    const f = await startFixture({ cmInternalErrorRate: 1 });
    try {
      const error = await failure(f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('in/', 'out/'))));
      expect(error).toBeInstanceOf(InternalServerException);
      expect(error.$metadata?.httpStatusCode).toBe(500);
      expect(f.emulator.jobs()).toHaveLength(0);
      f.faults.cmInternalErrorRate = 0;
      await expect(f.cm.send(new StartEntitiesDetectionV2JobCommand(jobRequest('in/', 'out/')))).resolves.toHaveProperty('JobId');
    } finally {
      await f.close();
    }
  });
});
