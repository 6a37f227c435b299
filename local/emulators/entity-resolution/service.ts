/**
 * The emulated service, independent of HTTP: workflows and schema mappings from the synthesized
 * template, matching jobs and their clock-driven lifecycle.
 *
 * Lifecycle (no timers; state is computed when a job is looked at):
 *   QUEUED   from StartMatchingJob for QUEUED_MS (or the whole run when it is shorter),
 *   RUNNING  until startTime + erJobMinutes,
 *   then SUCCEEDED or FAILED: the first call that sees a job past its end runs the matching once
 *   (reads the input, writes the output) and every caller waits for that one run.
 * One job per Region runs at a time, across all workflows (the real, non-adjustable quota), so
 * StartMatchingJob answers ConflictException while any job is QUEUED or RUNNING.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../../clock.js';
import { FaultCounter, seededRandom, type FaultSpec } from '../../faults.js';
import {
  JobFailure,
  buildErrorTable,
  buildOutputTable,
  jobOutputLocation,
  planInputSource,
  readInputSource,
  writeCsvParts,
  type InputSourcePlan,
  type OutputColumn,
  type RejectedRow,
} from './io.js';
import { matchRecords, type MatchField, type MatchRecord } from './match.js';
import {
  ATTRIBUTE_NAME,
  ENTITY_NAME,
  GLUE_TABLE_ARN,
  JOB_ID,
  KMS_ARN,
  NEXT_TOKEN,
  RESERVED_NAMES,
  ROLE_ARN,
  S3_PATH,
  SCHEMA_MAPPING_ARN,
  ServiceError,
  Validator,
} from './model.js';
import { isSchemaAttributeType } from './normalize.js';
import type {
  EmulatorLogger,
  GlueTableDefinition,
  MatchingWorkflowDefinition,
  SchemaMappingDefinition,
} from './types.js';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** How long a job stays QUEUED before it runs. */
export const QUEUED_MS = 10_000;
const DEFAULT_PAGE_SIZE = 25;
/** The message of jobs failed by the `er.job=FAILED` fault. */
export const INJECTED_FAILURE_MESSAGE =
  'An internal error occurred while processing the matching job. Retry the job. If the problem persists, contact AWS Support.';

export interface JobMetrics {
  inputRecords: number;
  totalRecordsProcessed: number;
  recordsNotProcessed: number;
  matchIDs: number;
}

interface Workflow {
  definition: MatchingWorkflowDefinition;
  arn: string;
  sources: Array<{ plan: InputSourcePlan; schema: SchemaMappingDefinition; applyNormalization: boolean }>;
}

interface Job {
  jobId: string;
  seq: number;
  workflow: Workflow;
  startTime: number;
  runningAt: number;
  endTime: number;
  /** Drawn at start from `er.job` / `er.failed`. */
  injectedFailure: boolean;
  outcome?: { status: 'SUCCEEDED' | 'FAILED'; metrics?: JobMetrics; errorMessage?: string };
  completion?: Promise<void>;
}

export interface ServiceOptions {
  s3: S3Client;
  clock: Clock;
  faults: FaultSpec;
  accountId: string;
  region: string;
  workflows: MatchingWorkflowDefinition[];
  schemaMappings: SchemaMappingDefinition[];
  glueTables: GlueTableDefinition[];
  outputRowsPerFile: number;
  logger: EmulatorLogger;
}

const seconds = (ms: number) => ms / 1000;

function toFields(schema: SchemaMappingDefinition): MatchField[] {
  return schema.MappedInputFields.map((f) => {
    if (!isSchemaAttributeType(f.Type)) throw new Error(`schema mapping ${schema.SchemaName}: field ${f.FieldName} has an unknown type ${f.Type}`);
    return {
      fieldName: f.FieldName,
      type: f.Type,
      ...(f.MatchKey ? { matchKey: f.MatchKey } : {}),
      ...(f.GroupName ? { groupName: f.GroupName } : {}),
      ...(f.SubType ? { subType: f.SubType } : {}),
    };
  });
}

/** Checks a definition as CreateMatchingWorkflow/CreateSchemaMapping would; throws a clear Error. */
function checked(what: string, validate: (v: Validator) => void): void {
  try {
    const v = new Validator();
    validate(v);
    v.throwIfAny();
  } catch (error) {
    throw new Error(`Entity Resolution emulator: invalid ${what}: ${(error as Error).message}`);
  }
}

function validateSchemaMapping(schema: SchemaMappingDefinition): void {
  checked(`schema mapping ${schema.SchemaName}`, (v) => {
    v.string('schemaName', schema.SchemaName, { required: true, ...ENTITY_NAME });
    v.string('schemaArn', schema.arn, { required: true, pattern: SCHEMA_MAPPING_ARN });
    v.integer('mappedInputFields.length', schema.MappedInputFields.length, { min: 2, max: 35 });
    schema.MappedInputFields.forEach((f, i) => {
      const m = `mappedInputFields.${i + 1}`;
      v.string(`${m}.fieldName`, f.FieldName, { required: true, ...ATTRIBUTE_NAME });
      v.string(`${m}.matchKey`, f.MatchKey, ATTRIBUTE_NAME);
      v.string(`${m}.groupName`, f.GroupName, ATTRIBUTE_NAME);
      v.string(`${m}.subType`, f.SubType, ATTRIBUTE_NAME);
      if (!isSchemaAttributeType(f.Type)) v.string(`${m}.type`, f.Type, { pattern: /^$/, source: 'Member must be a SchemaAttributeType' });
    });
  });
  const reserved = schema.MappedInputFields.find((f) => RESERVED_NAMES.some((r) => r.toLowerCase() === f.FieldName.toLowerCase()));
  if (reserved) throw new Error(`Entity Resolution emulator: schema mapping ${schema.SchemaName}: ${reserved.FieldName} is a reserved name (${RESERVED_NAMES.join(', ')})`);
  const ids = schema.MappedInputFields.filter((f) => f.Type === 'UNIQUE_ID').length;
  if (ids !== 1) throw new Error(`Entity Resolution emulator: schema mapping ${schema.SchemaName} must have exactly one UNIQUE_ID field (has ${ids})`);
}

export class EntityResolutionService {
  private readonly workflows = new Map<string, Workflow>();
  private readonly schemas = new Map<string, SchemaMappingDefinition>();
  private readonly jobs: Job[] = [];
  private readonly createdAt: number;
  private seq = 0;
  /** Serializes StartMatchingJob so two concurrent calls cannot both start a job. */
  private startLock: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();
  /** Faults injected so far (`er.conflict`, `er.failed`; the server adds throttling and internal errors). */
  readonly faults = new FaultCounter();
  private readonly conflictRandom: () => number;
  private readonly outcomeRandom: () => number;

  constructor(private readonly o: ServiceOptions) {
    this.conflictRandom = seededRandom(o.faults.seed + 201);
    this.outcomeRandom = seededRandom(o.faults.seed + 202);
    this.createdAt = o.clock.now();
    for (const schema of o.schemaMappings) {
      validateSchemaMapping(schema);
      if (this.schemas.has(schema.SchemaName)) throw new Error(`Entity Resolution emulator: duplicate schema mapping ${schema.SchemaName}`);
      this.schemas.set(schema.SchemaName, schema);
    }
    for (const definition of o.workflows) {
      if (this.workflows.has(definition.WorkflowName)) throw new Error(`Entity Resolution emulator: duplicate workflow ${definition.WorkflowName}`);
      this.workflows.set(definition.WorkflowName, this.resolveWorkflow(definition));
    }
  }

  private resolveWorkflow(d: MatchingWorkflowDefinition): Workflow {
    const what = `matching workflow ${d.WorkflowName}`;
    checked(what, (v) => {
      v.string('workflowName', d.WorkflowName, { required: true, ...ENTITY_NAME });
      v.string('description', d.Description, { max: 255 });
      v.string('roleArn', d.RoleArn, { required: true, ...ROLE_ARN });
      v.integer('inputSourceConfig.length', d.InputSourceConfig.length, { min: 1, max: 20 });
      d.InputSourceConfig.forEach((s, i) => {
        v.string(`inputSourceConfig.${i + 1}.inputSourceARN`, s.InputSourceARN, { required: true, pattern: GLUE_TABLE_ARN });
        v.string(`inputSourceConfig.${i + 1}.schemaArn`, s.SchemaArn, { required: true, pattern: SCHEMA_MAPPING_ARN });
      });
      v.integer('outputSourceConfig.length', d.OutputSourceConfig.length, { min: 1, max: 1 });
      d.OutputSourceConfig.forEach((out, i) => {
        v.string(`outputSourceConfig.${i + 1}.outputS3Path`, out.OutputS3Path, { required: true, ...S3_PATH });
        v.string(`outputSourceConfig.${i + 1}.KMSArn`, out.KMSArn, KMS_ARN);
        v.integer(`outputSourceConfig.${i + 1}.output.length`, out.Output.length, { max: 750 });
        out.Output.forEach((a, j) => v.string(`outputSourceConfig.${i + 1}.output.${j + 1}.name`, a.Name, { required: true, ...ATTRIBUTE_NAME }));
      });
      const rb = d.ResolutionTechniques.RuleBasedProperties;
      v.string('resolutionTechniques.resolutionType', d.ResolutionTechniques.ResolutionType, { pattern: /^RULE_MATCHING$/, source: 'the emulator supports RULE_MATCHING only' });
      v.string('resolutionTechniques.ruleBasedProperties.attributeMatchingModel', rb.AttributeMatchingModel, { required: true, pattern: /^(ONE_TO_ONE|MANY_TO_MANY)$/ });
      v.string('resolutionTechniques.ruleBasedProperties.matchPurpose', rb.MatchPurpose, { pattern: /^(IDENTIFIER_GENERATION|INDEXING)$/ });
      v.integer('resolutionTechniques.ruleBasedProperties.rules.length', rb.Rules.length, { min: 1, max: 25 });
      rb.Rules.forEach((r, i) => {
        v.string(`resolutionTechniques.ruleBasedProperties.rules.${i + 1}.ruleName`, r.RuleName, { required: true, ...ATTRIBUTE_NAME });
        v.integer(`resolutionTechniques.ruleBasedProperties.rules.${i + 1}.matchingKeys.length`, r.MatchingKeys.length, { min: 1, max: 15 });
      });
    });

    const sources = d.InputSourceConfig.map((s) => {
      const schema = this.o.schemaMappings.find((m) => m.arn === s.SchemaArn);
      if (!schema) throw new Error(`Entity Resolution emulator: ${what}: no schema mapping ${s.SchemaArn}`);
      const table = this.o.glueTables.find((t) => t.arn === s.InputSourceARN);
      if (!table) throw new Error(`Entity Resolution emulator: ${what}: no Glue table ${s.InputSourceARN}`);
      try {
        return { plan: planInputSource(s.InputSourceARN, table, toFields(schema)), schema, applyNormalization: s.ApplyNormalization ?? false };
      } catch (error) {
        throw new Error(`Entity Resolution emulator: ${what}: ${(error as Error).message}`);
      }
    });
    const matchKeys = new Set(sources.flatMap((s) => s.plan.fields.map((f) => f.matchKey).filter((k): k is string => !!k)));
    for (const rule of d.ResolutionTechniques.RuleBasedProperties.Rules) {
      const unknown = rule.MatchingKeys.filter((k) => !matchKeys.has(k));
      if (unknown.length) throw new Error(`Entity Resolution emulator: ${what}: rule ${rule.RuleName} uses match keys no schema defines: ${unknown.join(', ')}`);
    }
    const outputNames = new Set(sources.flatMap((s) => s.plan.fields.flatMap((f) => [f.fieldName.toLowerCase(), ...(f.groupName ? [f.groupName.toLowerCase()] : [])])));
    for (const out of d.OutputSourceConfig[0]!.Output) {
      if (!outputNames.has(out.Name.toLowerCase())) throw new Error(`Entity Resolution emulator: ${what}: output ${out.Name} is neither a field nor a group of its schemas`);
    }
    return { definition: d, arn: this.arn('matchingworkflow', d.WorkflowName), sources };
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:entityresolution:${this.o.region}:${this.o.accountId}:${kind}/${name}`;
  }

  private workflow(name: string | undefined): Workflow {
    const v = new Validator();
    v.string('workflowName', name, { required: true, ...ENTITY_NAME });
    v.throwIfAny();
    const workflow = this.workflows.get(name!);
    if (!workflow) throw new ServiceError('ResourceNotFoundException', `The workflow with name ${name} does not exist.`);
    return workflow;
  }

  // --- job lifecycle ---

  private status(job: Job, now: number): JobStatus {
    if (job.outcome) return job.outcome.status;
    return now < job.runningAt ? 'QUEUED' : 'RUNNING';
  }

  /** Brings a job up to the clock: a job past its end is completed (once) before anyone sees it. */
  private async observe(job: Job): Promise<void> {
    if (job.outcome || this.o.clock.now() < job.endTime) return;
    if (!job.completion) {
      job.completion = this.complete(job);
      this.pending.add(job.completion);
      void job.completion.finally(() => this.pending.delete(job.completion!));
    }
    await job.completion;
  }

  private async complete(job: Job): Promise<void> {
    const { workflow } = job;
    const log = { workflowName: workflow.definition.WorkflowName, jobId: job.jobId };
    if (job.injectedFailure) {
      job.outcome = { status: 'FAILED', errorMessage: INJECTED_FAILURE_MESSAGE };
      this.o.logger.info('matching job failed (injected)', log);
      return;
    }
    try {
      const metrics = await this.runMatching(job);
      job.outcome = { status: 'SUCCEEDED', metrics };
      this.o.logger.info('matching job succeeded', { ...log, ...metrics });
    } catch (error) {
      if (!(error instanceof JobFailure)) this.o.logger.error('matching job failed unexpectedly', { ...log, error: (error as Error).name, reason: (error as Error).message });
      const message = error instanceof JobFailure ? error.message : `Internal error while running the matching job: ${(error as Error).message}`;
      job.outcome = { status: 'FAILED', errorMessage: message.slice(0, 2048) };
      this.o.logger.warn('matching job failed', log);
    }
  }

  private async runMatching(job: Job): Promise<JobMetrics> {
    const { workflow } = job;
    const d = workflow.definition;
    const records: MatchRecord[] = [];
    const rejected: RejectedRow[] = [];
    let inputRecords = 0;
    for (const source of workflow.sources) {
      const data = await readInputSource(this.o.s3, source.plan);
      records.push(...data.records);
      rejected.push(...data.rejected);
      inputRecords += data.inputRecords;
    }
    const rb = d.ResolutionTechniques.RuleBasedProperties;
    const { results, matchIdCount } = matchRecords({
      sources: workflow.sources.map((s) => ({ sourceArn: s.plan.sourceArn, fields: s.plan.fields, applyNormalization: s.applyNormalization })),
      records,
      rules: rb.Rules.map((r) => ({ ruleName: r.RuleName, matchingKeys: r.MatchingKeys })),
      attributeMatchingModel: rb.AttributeMatchingModel,
      seed: job.jobId,
    });

    const output = d.OutputSourceConfig[0]!;
    const location = jobOutputLocation(output.OutputS3Path, d.WorkflowName, job.jobId);
    const kms = output.KMSArn ? { kmsArn: output.KMSArn } : {};
    try {
      // INDEXING groups records without generating MatchIDs for output: nothing to write.
      if (rb.MatchPurpose !== 'INDEXING') {
        const columns: OutputColumn[] = output.Output.map((a) => ({ name: a.Name, hashed: a.Hashed ?? false }));
        const fieldsBySource = new Map(workflow.sources.map((s) => [s.plan.sourceArn, s.plan.fields]));
        const table = buildOutputTable(columns, fieldsBySource, records, results, output.ApplyNormalization ?? false);
        await writeCsvParts(this.o.s3, { bucket: location.bucket, prefix: `${location.prefix}success/`, ...kms }, table, this.o.outputRowsPerFile);
      }
      if (rejected.length > 0) {
        await writeCsvParts(this.o.s3, { bucket: location.bucket, prefix: `${location.prefix}error/`, ...kms }, buildErrorTable(rejected), this.o.outputRowsPerFile);
      }
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new JobFailure(`Failed to write the output to s3://${location.bucket}/${location.prefix}: ${reason}`);
    }
    return {
      inputRecords,
      totalRecordsProcessed: records.length,
      recordsNotProcessed: rejected.length,
      matchIDs: matchIdCount,
    };
  }

  /** Waits for every job completion in progress (used on stop). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // --- operations ---

  async startMatchingJob(workflowName: string | undefined): Promise<{ jobId: string }> {
    const workflow = this.workflow(workflowName);
    const run = this.startLock.then(async () => {
      for (const job of this.jobs) await this.observe(job);
      const running = this.jobs.find((j) => !j.outcome);
      if (running) {
        throw new ServiceError(
          'ConflictException',
          `The workflow ${running.workflow.definition.WorkflowName} is currently running job ${running.jobId}. Only one matching job can run at a time in a Region; retry after it ends.`,
        );
      }
      // A job started elsewhere (another application of the account) holds the Region's one slot.
      if (this.o.faults.erConflictRate > 0 && this.conflictRandom() < this.o.faults.erConflictRate) {
        this.faults.add('er.conflict');
        throw new ServiceError(
          'ConflictException',
          'A matching job is currently running in this Region. Only one matching job can run at a time; retry after it ends. (local fault injection: er.conflict)',
        );
      }
      const now = this.o.clock.now();
      const duration = Math.max(0, this.o.faults.erJobMinutes) * 60_000;
      const injectedFailure = this.o.faults.erJobOutcome === 'FAILED' || this.outcomeRandom() < this.o.faults.erJobFailedRate;
      if (injectedFailure) this.faults.add('er.failed');
      const job: Job = {
        jobId: randomBytes(16).toString('hex'),
        seq: this.seq++,
        workflow,
        startTime: now,
        runningAt: now + Math.min(QUEUED_MS, duration),
        endTime: now + duration,
        injectedFailure,
      };
      this.jobs.push(job);
      this.o.logger.info('matching job started', { workflowName: workflow.definition.WorkflowName, jobId: job.jobId });
      return { jobId: job.jobId };
    });
    this.startLock = run.catch(() => undefined);
    return run;
  }

  async getMatchingJob(workflowName: string | undefined, jobId: string | undefined) {
    const v = new Validator();
    v.string('workflowName', workflowName, { required: true, ...ENTITY_NAME });
    v.string('jobId', jobId, { required: true, ...JOB_ID });
    v.throwIfAny();
    const workflow = this.workflow(workflowName);
    const job = this.jobs.find((j) => j.jobId === jobId && j.workflow === workflow);
    if (!job) throw new ServiceError('ResourceNotFoundException', `The job with id ${jobId} does not exist for workflow ${workflowName}.`);
    await this.observe(job);
    const output = workflow.definition.OutputSourceConfig[0]!;
    return {
      jobId: job.jobId,
      status: this.status(job, this.o.clock.now()),
      startTime: seconds(job.startTime),
      ...(job.outcome ? { endTime: seconds(job.endTime) } : {}),
      ...(job.outcome?.metrics ? { metrics: job.outcome.metrics } : {}),
      ...(job.outcome?.errorMessage ? { errorDetails: { errorMessage: job.outcome.errorMessage } } : {}),
      outputSourceConfig: [
        { roleArn: workflow.definition.RoleArn, outputS3Path: output.OutputS3Path, ...(output.KMSArn ? { KMSArn: output.KMSArn } : {}) },
      ],
    };
  }

  async listMatchingJobs(workflowName: string | undefined, maxResults: number | undefined, nextToken: string | undefined) {
    const v = new Validator();
    v.string('workflowName', workflowName, { required: true, ...ENTITY_NAME });
    v.string('nextToken', nextToken, NEXT_TOKEN);
    v.integer('maxResults', maxResults, { min: 1, max: 25 });
    v.throwIfAny();
    const workflow = this.workflow(workflowName);
    // Newest first.
    const jobs = this.jobs.filter((j) => j.workflow === workflow).sort((a, b) => b.startTime - a.startTime || b.seq - a.seq);
    for (const job of jobs) await this.observe(job);
    const now = this.o.clock.now();
    const page = paginate(jobs, (j) => j.jobId, `jobs/${workflow.definition.WorkflowName}`, maxResults, nextToken);
    return {
      jobs: page.items.map((j) => ({
        jobId: j.jobId,
        status: this.status(j, now),
        startTime: seconds(j.startTime),
        ...(j.outcome ? { endTime: seconds(j.endTime) } : {}),
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  getMatchingWorkflow(workflowName: string | undefined) {
    const w = this.workflow(workflowName);
    const d = w.definition;
    const rb = d.ResolutionTechniques.RuleBasedProperties;
    const out = d.OutputSourceConfig[0]!;
    return {
      workflowName: d.WorkflowName,
      workflowArn: w.arn,
      ...(d.Description !== undefined ? { description: d.Description } : {}),
      inputSourceConfig: w.sources.map((s) => ({
        inputSourceARN: s.plan.sourceArn,
        schemaName: s.schema.SchemaName,
        applyNormalization: s.applyNormalization,
      })),
      outputSourceConfig: [
        {
          outputS3Path: out.OutputS3Path,
          ...(out.KMSArn ? { KMSArn: out.KMSArn } : {}),
          output: out.Output.map((a) => ({ name: a.Name, ...(a.Hashed !== undefined ? { hashed: a.Hashed } : {}) })),
          ...(out.ApplyNormalization !== undefined ? { applyNormalization: out.ApplyNormalization } : {}),
        },
      ],
      resolutionTechniques: {
        resolutionType: d.ResolutionTechniques.ResolutionType,
        ruleBasedProperties: {
          rules: rb.Rules.map((r) => ({ ruleName: r.RuleName, matchingKeys: r.MatchingKeys })),
          attributeMatchingModel: rb.AttributeMatchingModel,
          ...(rb.MatchPurpose ? { matchPurpose: rb.MatchPurpose } : {}),
        },
      },
      createdAt: seconds(this.createdAt),
      updatedAt: seconds(this.createdAt),
      roleArn: d.RoleArn,
      tags: {},
    };
  }

  listMatchingWorkflows(maxResults: number | undefined, nextToken: string | undefined) {
    const v = new Validator();
    v.string('nextToken', nextToken, NEXT_TOKEN);
    // The model sets only a maximum here; 0 asks for the default page size.
    v.integer('maxResults', maxResults, { min: 0, max: 25 });
    v.throwIfAny();
    const page = paginate([...this.workflows.values()], (w) => w.definition.WorkflowName, 'workflows', maxResults || undefined, nextToken);
    return {
      workflowSummaries: page.items.map((w) => ({
        workflowName: w.definition.WorkflowName,
        workflowArn: w.arn,
        createdAt: seconds(this.createdAt),
        updatedAt: seconds(this.createdAt),
        resolutionType: w.definition.ResolutionTechniques.ResolutionType,
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  getSchemaMapping(schemaName: string | undefined) {
    const v = new Validator();
    v.string('schemaName', schemaName, { required: true, ...ENTITY_NAME });
    v.throwIfAny();
    const schema = this.schemas.get(schemaName!);
    if (!schema) throw new ServiceError('ResourceNotFoundException', `The schema mapping with name ${schemaName} does not exist.`);
    return {
      schemaName: schema.SchemaName,
      schemaArn: schema.arn,
      mappedInputFields: schema.MappedInputFields.map((f) => ({
        fieldName: f.FieldName,
        type: f.Type,
        ...(f.GroupName ? { groupName: f.GroupName } : {}),
        ...(f.MatchKey ? { matchKey: f.MatchKey } : {}),
        ...(f.SubType ? { subType: f.SubType } : {}),
        ...(f.Hashed !== undefined ? { hashed: f.Hashed } : {}),
      })),
      createdAt: seconds(this.createdAt),
      updatedAt: seconds(this.createdAt),
      hasWorkflows: [...this.workflows.values()].some((w) => w.sources.some((s) => s.schema === schema)),
      tags: {},
    };
  }
}

/**
 * Cursor pagination: the token names the last item returned (and what is being listed), so
 * items added meanwhile neither repeat nor vanish. A token that does not decode to a known cursor
 * of the same listing is a ValidationException.
 */
function paginate<T>(
  items: T[],
  idOf: (item: T) => string,
  scope: string,
  maxResults: number | undefined,
  nextToken: string | undefined,
): { items: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken !== undefined) {
    const after = decodeToken(nextToken, scope);
    const index = after === undefined ? -1 : items.findIndex((i) => idOf(i) === after);
    if (index < 0) throw new ServiceError('ValidationException', 'The provided nextToken is not valid.');
    start = index + 1;
  }
  const size = maxResults ?? DEFAULT_PAGE_SIZE;
  const page = items.slice(start, start + size);
  const last = page[page.length - 1];
  return start + size < items.length && last !== undefined ? { items: page, nextToken: encodeToken(scope, idOf(last)) } : { items: page };
}

function encodeToken(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, scope, after })).toString('base64');
}

function decodeToken(token: string, scope: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const t = parsed as { v?: unknown; scope?: unknown; after?: unknown };
    return t.v === 1 && t.scope === scope && typeof t.after === 'string' ? t.after : undefined;
  } catch {
    return undefined;
  }
}
