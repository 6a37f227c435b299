/**
 * The emulator over the wire: the real @aws-sdk/client-entityresolution against it, the local S3
 * (s3rver) for input and output, a virtual clock for the job lifecycle.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ConflictException,
  EntityResolutionClient,
  GetMatchingJobCommand,
  GetMatchingWorkflowCommand,
  GetSchemaMappingCommand,
  InternalServerException,
  ListMatchingJobsCommand,
  ListMatchingWorkflowsCommand,
  ResourceNotFoundException,
  StartMatchingJobCommand,
  ThrottlingException,
  ValidationException,
  paginateListMatchingJobs,
} from '@aws-sdk/client-entityresolution';
import { IDENTITY_COLUMNS } from '../../../contracts/layout.js';
import { VirtualClock } from '../../clock.js';
import { defaultFaults, type FaultSpec } from '../../faults.js';
import { startS3, type LocalS3 } from '../s3.js';
import { parseCsv } from './csv.js';
import {
  INJECTED_FAILURE_MESSAGE,
  startEntityResolutionEmulator,
  type EntityResolutionEmulatorOptions,
  type GlueTableDefinition,
  type MatchingWorkflowDefinition,
  type SchemaMappingDefinition,
} from './index.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const BUCKET = 'documents';
const TABLE_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:table/chartflow/records`;
const SCHEMA_ARN = `arn:aws:entityresolution:${REGION}:${ACCOUNT}:schemamapping/chartflow-patients`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/chartflow-matching-role`;
const KMS_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const schema: SchemaMappingDefinition = {
  arn: SCHEMA_ARN,
  SchemaName: 'chartflow-patients',
  MappedInputFields: [
    { FieldName: 'record_id', Type: 'UNIQUE_ID' },
    { FieldName: 'batch_id', Type: 'STRING' },
    { FieldName: 'full_name', Type: 'NAME', MatchKey: 'Name' },
    { FieldName: 'date_of_birth', Type: 'DATE', MatchKey: 'DOB' },
    { FieldName: 'phone', Type: 'PHONE', MatchKey: 'Phone' },
    { FieldName: 'email', Type: 'EMAIL_ADDRESS', MatchKey: 'Email' },
    { FieldName: 'address', Type: 'ADDRESS', MatchKey: 'Address' },
    { FieldName: 'mrn', Type: 'STRING', MatchKey: 'MRN' },
  ],
};

const table: GlueTableDefinition = {
  arn: TABLE_ARN,
  location: `s3://${BUCKET}/records/`,
  format: 'csv',
  columns: [...IDENTITY_COLUMNS],
  skipHeaderLines: 1,
};

function workflow(name: string, overrides: Partial<MatchingWorkflowDefinition> = {}): MatchingWorkflowDefinition {
  return {
    WorkflowName: name,
    Description: 'Links identity records of clinical notes',
    RoleArn: ROLE_ARN,
    InputSourceConfig: [{ InputSourceARN: TABLE_ARN, SchemaArn: SCHEMA_ARN, ApplyNormalization: true }],
    OutputSourceConfig: [
      {
        OutputS3Path: `s3://${BUCKET}/matches`,
        KMSArn: KMS_ARN,
        ApplyNormalization: false,
        Output: [{ Name: 'record_id' }, { Name: 'batch_id' }, { Name: 'full_name', Hashed: true }],
      },
    ],
    ResolutionTechniques: {
      ResolutionType: 'RULE_MATCHING',
      RuleBasedProperties: {
        Rules: [
          { RuleName: 'MRN', MatchingKeys: ['MRN'] },
          { RuleName: 'NameDOB', MatchingKeys: ['Name', 'DOB'] },
          { RuleName: 'NameEmail', MatchingKeys: ['Name', 'Email'] },
          { RuleName: 'NamePhone', MatchingKeys: ['Name', 'Phone'] },
        ],
        AttributeMatchingModel: 'ONE_TO_ONE',
        MatchPurpose: 'IDENTIFIER_GENERATION',
      },
    },
    ...overrides,
  };
}

const header = `${IDENTITY_COLUMNS.join(',')}\n`;
// 9 data rows: 6 good, 3 rejected (no id, r6 with too few fields, r1 again). Clusters: {r1,r2} by
// NameDOB, {r3,r4} by MRN (different DOBs), {r5,r7} by NameDOB (25/12/1990 reads day first):
// 3 MatchIDs.
const batch1 =
  header +
  'r1,b1,Ann Smith,1980-03-04,555-0100,ann.smith@example.org,"12 North Main Street, Springfield",MRN-1\n' +
  'r2,b1,ANN  SMITH,03/04/1980,,,,\n' +
  'r3,b2,Bob Jones,1975-01-01,(555) 0199,bob@example.org,,MRN-7\n' +
  'r4,b2,Robert Jones,1975-01-02,,,,MRN-7\n' +
  'r5,b2,Carol White,1990-12-25,,carol+x@example.org,,\n' +
  ',b2,No Id,1990-01-01,,,,\n' +
  'r6,b2,too,few\n';
const batch2 = header + 'r1,b3,Duplicate Id,2000-01-01,,,,\n' + 'r7,b3,Carol White,25/12/1990,,carol@example.org,,\n';

let dir: string;
let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chartflow-er-'));
  s3 = await startS3({ directory: dir });
  await s3.createBucket(BUCKET);
  client = s3.client();
  await put('records/batch-1.csv', batch1);
  await put('records/batch-2.csv', batch2);
  // Not data: Hive/Athena skip these, and so does the emulator.
  await put('records/_SUCCESS', 'garbage');
  await put('records/.staging', 'garbage');
});

afterAll(async () => {
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

async function put(key: string, body: string, bucket = BUCKET) {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function keysUnder(prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

async function read(key: string): Promise<string> {
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return object.Body!.transformToString('utf8');
}

type Started = { er: EntityResolutionClient; clock: VirtualClock; endpoint: string; logs: string[]; stop(): Promise<void> };
const running: Started[] = [];

async function start(
  options: Partial<Omit<EntityResolutionEmulatorOptions, 'faults'>> & { faults?: Partial<FaultSpec> } = {},
): Promise<Started> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  const logs: string[] = [];
  const capture = (level: string) => (message: string, extra?: Record<string, unknown>) => logs.push(JSON.stringify({ level, message, ...extra }));
  const emulator = await startEntityResolutionEmulator({
    s3: client,
    clock,
    accountId: ACCOUNT,
    region: REGION,
    workflows: [workflow('chartflow-patients'), workflow('chartflow-other')],
    schemaMappings: [schema],
    glueTables: [table],
    logger: { info: capture('INFO'), warn: capture('WARN'), error: capture('ERROR') },
    ...options,
    faults: { ...defaultFaults, crashAt: [], ...options.faults },
  });
  const er = new EntityResolutionClient({
    endpoint: emulator.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const started = {
    er,
    clock,
    endpoint: emulator.endpoint,
    logs,
    stop: async () => {
      er.destroy();
      await emulator.stop();
    },
  };
  running.push(started);
  return started;
}

afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('matching job lifecycle', () => {
  it('runs QUEUED -> RUNNING -> SUCCEEDED on the clock, one job per Region, and writes the output once', async () => {
    const { er, clock, logs } = await start({ faults: { erJobMinutes: 2 }, outputRowsPerFile: 4 });
    const t0 = clock.now();
    const { jobId } = await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-patients' }));
    expect(jobId).toMatch(/^[a-f0-9]{32}$/);

    const queued = await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }));
    expect(queued).toMatchObject({ jobId, status: 'QUEUED', startTime: new Date(t0) });
    expect(queued.endTime).toBeUndefined();
    expect(queued.outputSourceConfig).toEqual([{ roleArn: ROLE_ARN, outputS3Path: `s3://${BUCKET}/matches`, KMSArn: KMS_ARN }]);

    clock.advance(30_000);
    expect((await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }))).status).toBe('RUNNING');

    // One running job per Region, across workflows.
    for (const workflowName of ['chartflow-patients', 'chartflow-other']) {
      const conflict = await rejection(er.send(new StartMatchingJobCommand({ workflowName })));
      expect(conflict).toBeInstanceOf(ConflictException);
      expect(conflict.$metadata?.httpStatusCode).toBe(400);
      expect(conflict.message).toContain(jobId);
    }
    expect(await keysUnder(`matches/chartflow-patients/${jobId}/`)).toEqual([]);

    clock.advance(90_000);
    // Concurrent first observers share one run.
    const done = await Promise.all([1, 2, 3].map(() => er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }))));
    for (const job of done) {
      expect(job).toMatchObject({
        status: 'SUCCEEDED',
        startTime: new Date(t0),
        endTime: new Date(t0 + 120_000),
        metrics: { inputRecords: 9, totalRecordsProcessed: 6, recordsNotProcessed: 3, matchIDs: 3 },
      });
      expect(job.errorDetails).toBeUndefined();
    }
    const prefix = `matches/chartflow-patients/${jobId}/`;
    expect(await keysUnder(prefix)).toEqual([`${prefix}error/part-00000.csv`, `${prefix}success/part-00000.csv`, `${prefix}success/part-00001.csv`]);

    // Observed again after the input changed: nothing runs a second time.
    await put('records/batch-3.csv', header + 'r9,b9,Zed,2001-01-01,,,,\n');
    try {
      const again = await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }));
      expect(again.metrics?.inputRecords).toBe(9);
      expect(await keysUnder(prefix)).toHaveLength(3);
    } finally {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'records/batch-3.csv', Body: header }));
    }

    // The Region is free again.
    const next = await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-other' }));
    expect(next.jobId).not.toBe(jobId);

    // Structured logs with ids and counts, never record values.
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ level: 'INFO', message: 'matching job succeeded', jobId, workflowName: 'chartflow-patients', matchIDs: 3 }),
    );
    expect(logs.join('\n')).not.toMatch(/Ann|Smith|Carol|Jones|example\.org|MRN-|Springfield/i);
  });

  it('writes the success CSV (header, grouped by MatchID) and the error CSV', async () => {
    const { er, clock } = await start({ faults: { erJobMinutes: 1 }, outputRowsPerFile: 4 });
    const { jobId } = await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-patients' }));
    clock.advance(60_000);
    await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }));

    const prefix = `matches/chartflow-patients/${jobId}/`;
    const parts = await Promise.all([0, 1].map((n) => read(`${prefix}success/part-0000${n}.csv`).then(parseCsv)));
    const expectedHeader = ['InputSourceARN', 'record_id', 'batch_id', 'full_name', 'RecordId', 'MatchID', 'MatchRule'];
    expect(parts.map((p) => p[0]!.fields)).toEqual([expectedHeader, expectedHeader]);
    expect(parts.map((p) => p.length - 1)).toEqual([4, 2]);

    const rows = parts.flatMap((p) => p.slice(1).map((r) => Object.fromEntries(expectedHeader.map((h, i) => [h, r.fields[i]!]))));
    expect(rows.map((r) => r.RecordId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r7']);
    for (const r of rows) {
      expect(r.InputSourceARN).toBe(TABLE_ARN);
      expect(r.record_id).toBe(r.RecordId);
      expect(r.MatchID).toMatch(/^[a-f0-9]{32}$/);
    }
    const byId = Object.fromEntries(rows.map((r) => [r.RecordId!, r]));
    expect(byId.r1!.full_name).toBe(createHash('sha256').update('Ann Smith').digest('hex'));
    expect(byId.r1!.batch_id).toBe('b1');
    expect(byId.r1!.MatchID).toBe(byId.r2!.MatchID);
    expect(byId.r3!.MatchID).toBe(byId.r4!.MatchID);
    expect(byId.r5!.MatchID).toBe(byId.r7!.MatchID);
    expect(new Set(rows.map((r) => r.MatchID)).size).toBe(3);
    expect(rows.map((r) => [r.RecordId, r.MatchRule])).toEqual([
      ['r1', 'NameDOB'],
      ['r2', 'NameDOB'],
      ['r3', 'MRN'],
      ['r4', 'MRN'],
      ['r5', 'NameDOB'],
      ['r7', 'NameDOB'],
    ]);

    const errors = parseCsv(await read(`${prefix}error/part-00000.csv`)).map((r) => r.fields);
    expect(errors[0]).toEqual(['InputSourceARN', 'RecordId', 'Source', 'Line', 'ErrorMessage']);
    expect(errors.slice(1).map(([, id, source, line]) => [id, source, line])).toEqual([
      ['', `s3://${BUCKET}/records/batch-1.csv`, '7'],
      ['', `s3://${BUCKET}/records/batch-1.csv`, '8'],
      ['r1', `s3://${BUCKET}/records/batch-2.csv`, '2'],
    ]);
    expect(errors[1]![4]).toMatch(/unique id/);
    expect(errors[2]![4]).toMatch(/4 fields; the table has 8 columns/);
    expect(errors[3]![4]).toMatch(/already used/);
    // The rejected rows' values stay out of the error file.
    expect(errors.flat().join(' ')).not.toMatch(/No Id|Duplicate Id|too/);
  });

  it('reads JSON-lines tables and matches across fields with MANY_TO_MANY', async () => {
    const jsonTableArn = `arn:aws:glue:${REGION}:${ACCOUNT}:table/chartflow/contacts`;
    const contacts: SchemaMappingDefinition = {
      arn: `arn:aws:entityresolution:${REGION}:${ACCOUNT}:schemamapping/contacts`,
      SchemaName: 'contacts',
      MappedInputFields: [
        { FieldName: 'id', Type: 'UNIQUE_ID' },
        { FieldName: 'first', Type: 'NAME_FIRST', GroupName: 'name', MatchKey: 'Name' },
        { FieldName: 'last', Type: 'NAME_LAST', GroupName: 'name', MatchKey: 'Name' },
        { FieldName: 'home', Type: 'PHONE', SubType: 'HOME', MatchKey: 'Phone' },
        { FieldName: 'mobile', Type: 'PHONE', SubType: 'MOBILE', MatchKey: 'Phone' },
      ],
    };
    await put('contacts/part-0.json', [
      JSON.stringify({ id: 'c1', first: 'Ann', last: 'Smith', home: '555-0100', mobile: null }),
      JSON.stringify({ ID: 'c2', First: 'ann', Last: 'SMITH', mobile: '(555) 0100' }),
      '{not json',
      JSON.stringify({ id: 'c3', first: 'Bob', last: 'Smith', home: '555-0100' }),
    ].join('\n'));
    const wf = workflow('contacts-m2m', {
      InputSourceConfig: [{ InputSourceARN: jsonTableArn, SchemaArn: contacts.arn, ApplyNormalization: true }],
      OutputSourceConfig: [{ OutputS3Path: `s3://${BUCKET}/matches/`, Output: [{ Name: 'name' }, { Name: 'home' }] }],
      ResolutionTechniques: {
        ResolutionType: 'RULE_MATCHING',
        RuleBasedProperties: { Rules: [{ RuleName: 'NamePhone', MatchingKeys: ['Name', 'Phone'] }], AttributeMatchingModel: 'MANY_TO_MANY' },
      },
    });
    const { er, clock } = await start({
      faults: { erJobMinutes: 1 },
      workflows: [wf],
      schemaMappings: [schema, contacts],
      glueTables: [table, { arn: jsonTableArn, location: `s3://${BUCKET}/contacts`, format: 'json', columns: ['id', 'first', 'last', 'home', 'mobile'], skipHeaderLines: 0 }],
    });
    const { jobId } = await er.send(new StartMatchingJobCommand({ workflowName: 'contacts-m2m' }));
    clock.advance(60_000);
    const job = await er.send(new GetMatchingJobCommand({ workflowName: 'contacts-m2m', jobId }));
    expect(job.metrics).toEqual({ inputRecords: 4, totalRecordsProcessed: 3, recordsNotProcessed: 1, matchIDs: 2 });

    const rows = parseCsv(await read(`matches/contacts-m2m/${jobId}/success/part-00000.csv`)).map((r) => r.fields);
    expect(rows[0]).toEqual(['InputSourceARN', 'name', 'home', 'RecordId', 'MatchID', 'MatchRule']);
    expect(rows.slice(1).map(([, name, home, id, , rule]) => [name, home, id, rule])).toEqual([
      ['Ann Smith', '555-0100', 'c1', 'NamePhone'],
      ['ann SMITH', '', 'c2', 'NamePhone'],
      ['Bob Smith', '555-0100', 'c3', ''],
    ]);
  });

  it('fails jobs with er.job=FAILED, with a message and no output', async () => {
    const { er, clock } = await start({ faults: { erJobMinutes: 1, erJobOutcome: 'FAILED' } });
    const { jobId } = await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-other' }));
    clock.advance(60_000);
    const job = await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-other', jobId }));
    expect(job).toMatchObject({ status: 'FAILED', errorDetails: { errorMessage: INJECTED_FAILURE_MESSAGE }, endTime: new Date(clock.now()) });
    expect(job.metrics).toBeUndefined();
    expect(await keysUnder(`matches/chartflow-other/${jobId}/`)).toEqual([]);
  });

  it('fails a job whose input cannot be read, naming the cause', async () => {
    const missing = { ...table, location: 's3://no-such-bucket/records/' };
    const { er, clock } = await start({ faults: { erJobMinutes: 0 }, glueTables: [missing] });
    const { jobId } = await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-patients' }));
    clock.advance(1);
    const job = await er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId }));
    expect(job.status).toBe('FAILED');
    expect(job.errorDetails?.errorMessage).toMatch(/s3:\/\/no-such-bucket\/records\/.*NoSuchBucket/);
  });
});

describe('ListMatchingJobs', () => {
  it('pages newest first with maxResults and nextToken, and rejects bad tokens and sizes', async () => {
    const { er, clock } = await start({ faults: { erJobMinutes: 0 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-patients' }))).jobId!);
      clock.advance(1000);
    }
    // Another workflow's jobs are not listed.
    await er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-other' }));

    const first = await er.send(new ListMatchingJobsCommand({ workflowName: 'chartflow-patients', maxResults: 2 }));
    expect(first.jobs?.map((j) => j.jobId)).toEqual([ids[4], ids[3]]);
    expect(first.nextToken).toMatch(/^[a-zA-Z_0-9-=+/]+$/);
    expect(first.jobs?.[1]).toMatchObject({ status: 'SUCCEEDED', startTime: expect.any(Date), endTime: expect.any(Date) });

    const listed: string[] = [];
    for await (const page of paginateListMatchingJobs({ client: er, pageSize: 2 }, { workflowName: 'chartflow-patients' })) {
      expect(page.jobs!.length).toBeLessThanOrEqual(2);
      listed.push(...page.jobs!.map((j) => j.jobId!));
    }
    expect(listed).toEqual([...ids].reverse());

    for (const bad of [{ nextToken: 'bm90LWEtdG9rZW4=' }, { nextToken: first.nextToken!.replace(/^./, 'A') }]) {
      const error = await rejection(er.send(new ListMatchingJobsCommand({ workflowName: 'chartflow-patients', ...bad })));
      expect(error).toBeInstanceOf(ValidationException);
    }
    // A token of one workflow's listing is not valid for another's.
    const other = await rejection(er.send(new ListMatchingJobsCommand({ workflowName: 'chartflow-other', nextToken: first.nextToken })));
    expect(other).toBeInstanceOf(ValidationException);

    for (const maxResults of [0, 26]) {
      const error = await rejection(er.send(new ListMatchingJobsCommand({ workflowName: 'chartflow-patients', maxResults })));
      expect(error).toBeInstanceOf(ValidationException);
      expect(error.message).toContain(`Value '${maxResults}' at 'maxResults' failed to satisfy constraint`);
    }
  });
});

describe('workflows and schema mappings', () => {
  it('GetMatchingWorkflow returns the template definition in the service shape', async () => {
    const { er, clock } = await start();
    const w = await er.send(new GetMatchingWorkflowCommand({ workflowName: 'chartflow-patients' }));
    expect(w).toMatchObject({
      workflowName: 'chartflow-patients',
      workflowArn: `arn:aws:entityresolution:${REGION}:${ACCOUNT}:matchingworkflow/chartflow-patients`,
      description: 'Links identity records of clinical notes',
      inputSourceConfig: [{ inputSourceARN: TABLE_ARN, schemaName: 'chartflow-patients', applyNormalization: true }],
      outputSourceConfig: [
        {
          outputS3Path: `s3://${BUCKET}/matches`,
          KMSArn: KMS_ARN,
          applyNormalization: false,
          output: [{ name: 'record_id' }, { name: 'batch_id' }, { name: 'full_name', hashed: true }],
        },
      ],
      resolutionTechniques: {
        resolutionType: 'RULE_MATCHING',
        ruleBasedProperties: { attributeMatchingModel: 'ONE_TO_ONE', matchPurpose: 'IDENTIFIER_GENERATION' },
      },
      roleArn: ROLE_ARN,
      createdAt: new Date(clock.now()),
      updatedAt: new Date(clock.now()),
    });
    expect(w.resolutionTechniques?.ruleBasedProperties?.rules?.[1]).toEqual({ ruleName: 'NameDOB', matchingKeys: ['Name', 'DOB'] });
  });

  it('ListMatchingWorkflows pages through the workflows', async () => {
    const { er } = await start();
    const first = await er.send(new ListMatchingWorkflowsCommand({ maxResults: 1 }));
    expect(first.workflowSummaries).toEqual([
      expect.objectContaining({ workflowName: 'chartflow-patients', resolutionType: 'RULE_MATCHING', createdAt: expect.any(Date) }),
    ]);
    const second = await er.send(new ListMatchingWorkflowsCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(second.workflowSummaries?.map((s) => s.workflowName)).toEqual(['chartflow-other']);
    expect(second.nextToken).toBeUndefined();
    expect((await er.send(new ListMatchingWorkflowsCommand({}))).workflowSummaries).toHaveLength(2);
  });

  it('GetSchemaMapping returns the mapping', async () => {
    const { er } = await start();
    const m = await er.send(new GetSchemaMappingCommand({ schemaName: 'chartflow-patients' }));
    expect(m).toMatchObject({ schemaName: 'chartflow-patients', schemaArn: SCHEMA_ARN, hasWorkflows: true });
    expect(m.mappedInputFields?.[2]).toEqual({ fieldName: 'full_name', type: 'NAME', matchKey: 'Name' });
    expect(await rejection(er.send(new GetSchemaMappingCommand({ schemaName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses definitions the real service would refuse, at start', async () => {
    const bad = workflow('broken', {
      ResolutionTechniques: {
        ResolutionType: 'RULE_MATCHING',
        RuleBasedProperties: { Rules: [{ RuleName: 'Ssn', MatchingKeys: ['SSN'] }], AttributeMatchingModel: 'ONE_TO_ONE' },
      },
    });
    await expect(start({ workflows: [bad] })).rejects.toThrow(/rule Ssn uses match keys no schema defines: SSN/);
    await expect(start({ workflows: [workflow('bad name!')] })).rejects.toThrow(/workflowName.*regular expression/);
    await expect(start({ glueTables: [] })).rejects.toThrow(/no Glue table/);
    await expect(start({ glueTables: [{ ...table, columns: ['record_id', 'full_name'] }] })).rejects.toThrow(/"batch_id" is not a column/);
  });
});

describe('request validation and errors', () => {
  it('validates labels per the model and answers unknown resources with 404', async () => {
    const { er } = await start();
    const cases: Array<[Promise<unknown>, new (...args: never[]) => Error, number, RegExp]> = [
      [er.send(new StartMatchingJobCommand({ workflowName: 'bad name' })), ValidationException, 400, /at 'workflowName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [er.send(new GetMatchingWorkflowCommand({ workflowName: 'x'.repeat(256) })), ValidationException, 400, /length less than or equal to 255/],
      [er.send(new StartMatchingJobCommand({ workflowName: 'unknown-workflow' })), ResourceNotFoundException, 404, /unknown-workflow/],
      [er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId: 'NOT-A-JOB' })), ValidationException, 400, /'jobId'.*\^\[a-f0-9\]\{32\}\$/],
      [er.send(new GetMatchingJobCommand({ workflowName: 'chartflow-patients', jobId: 'a'.repeat(32) })), ResourceNotFoundException, 404, /does not exist/],
      [er.send(new ListMatchingJobsCommand({ workflowName: 'unknown-workflow' })), ResourceNotFoundException, 404, /unknown-workflow/],
    ];
    for (const [call, type, status, message] of cases) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(type);
      expect(error.$metadata?.httpStatusCode).toBe(status);
      expect(error.message).toMatch(message);
    }
  });

  it('speaks the restJson1 error shape, including for operations it does not emulate', async () => {
    const { endpoint } = await start();
    const call = async (method: string, path: string) => {
      const res = await fetch(`${endpoint}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
      return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: (await res.json()) as { message?: string } };
    };
    expect(await call('GET', '/matchingworkflows/chartflow-patients/jobs?maxResults=abc')).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await call('GET', '/matchingworkflows/chartflow-patients/jobs?nextToken=')).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await call('POST', '/matchingworkflows')).toMatchObject({ status: 400, type: 'ValidationException', body: { message: expect.stringContaining('CreateMatchingWorkflow') } });
    expect(await call('DELETE', '/matchingworkflows/chartflow-patients')).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(await call('GET', '/idnamespaces/some-namespace')).toMatchObject({ status: 404, type: 'ResourceNotFoundException' });
    expect(await call('GET', '/no/such/route')).toMatchObject({ status: 404, type: 'UnknownOperationException', body: { message: expect.any(String) } });
    expect(await call('PATCH', '/matchingworkflows/chartflow-patients')).toMatchObject({ status: 404, type: 'UnknownOperationException' });
  });
});

describe('fault injection', () => {
  it('answers ThrottlingException (429) and InternalServerException (500) at the configured rates', async () => {
    const throttled = await start({ faults: { erThrottleRate: 1 } });
    const t = await rejection(throttled.er.send(new GetMatchingWorkflowCommand({ workflowName: 'chartflow-patients' })));
    expect(t).toBeInstanceOf(ThrottlingException);
    expect(t.$metadata?.httpStatusCode).toBe(429);

    const broken = await start({ faults: { erInternalErrorRate: 1 } });
    const i = await rejection(broken.er.send(new StartMatchingJobCommand({ workflowName: 'chartflow-patients' })));
    expect(i).toBeInstanceOf(InternalServerException);
    expect(i.$metadata?.httpStatusCode).toBe(500);
  });

  it('draws faults from the seed: the same seed fails the same calls', async () => {
    const outcomes = async (seed: number) => {
      const { er } = await start({ faults: { erThrottleRate: 0.3, erInternalErrorRate: 0.2, seed } });
      const names: string[] = [];
      for (let n = 0; n < 30; n++) {
        names.push(await er.send(new ListMatchingWorkflowsCommand({})).then(() => 'ok', (e: Error) => e.name));
      }
      return names;
    };
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(a).toContain('ok');
    expect(a).toContain('ThrottlingException');
    expect(a).toContain('InternalServerException');
    expect(await outcomes(8)).not.toEqual(a);
  });
});
