/**
 * The local Step Functions: runs CDK-synthesized JSONPath definitions with aws-local-stepfunctions
 * on a virtual clock, with AWS's execution semantics (idempotent StartExecution, history, stop,
 * redrive) and per-execution statistics.
 *
 * aws-local-stepfunctions waits in real time (Wait states, retry intervals, execution timeout) and
 * has only static per-state overrides. So the engine runs an in-memory copy of each definition in
 * which:
 *
 * - every Wait state is a Task whose local handler computes the wait exactly as the Wait would
 *   (Seconds, SecondsPath, Timestamp, TimestampPath on the effective input after InputPath; the
 *   output is the effective input, OutputPath still applied) and sleeps on the VirtualScheduler;
 *   history, events and transition counts still report it as a Wait state (one state for one);
 * - Task states lose their Retry rules, which the task wrapper applies itself: same matching, same
 *   IntervalSeconds × BackoffRate^(n-1) capped by MaxDelaySeconds, FULL jitter from a seeded
 *   generator, the interval slept in virtual time before the retried attempt;
 * - Task timeouts become a generous real-time guard (the library would otherwise cut every task
 *   without TimeoutSeconds at 60 real seconds);
 * - the top-level TimeoutSeconds is enforced in virtual time by the engine;
 * - `$$.Execution.StartTime` reads the virtual start time (the library stamps real time), and
 *   `$$.Execution.Input` the execution's input inside Parallel/Map too (the library gives the
 *   branch input there);
 * - a Pass state's falsy Result (0, false, "", null), which the library ignores, is kept.
 *
 * Retry rules on Parallel/Map states stay with the library (interval overridden to 0); the engine
 * delays the retried branches' first tasks and waits by the prescribed interval instead.
 *
 * RedriveExecution differs from AWS: the library cannot resume mid-flow, so a redrive re-runs the
 * execution from the start with the same input (counted in redriveCount). Chartflow's workflow is
 * idempotent end to end, so the outcome is the same; the history shows the whole re-run.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type {
  DescribeExecutionOutput,
  DescribeStateMachineOutput,
  ExecutionListItem,
  ExecutionStatus,
  HistoryEvent,
  HistoryEventType,
  StateMachineListItem,
} from '@aws-sdk/client-sfn';
import { seededRandom } from '../faults.js';
import {
  cloneJson,
  parseDefinition,
  parseRfc3339,
  sfnTimestamp,
  walkStates,
  type AslMachine,
  type AslState,
  type JsonObject,
  type JsonValue,
  type Retrier,
} from './asl.js';
import { VirtualScheduler } from './scheduler.js';
import {
  describeResource,
  TaskFailure,
  TaskRouter,
  type ResourceInfo,
  type TaskHandler,
  type TaskRouterOptions,
} from './task-router.js';
import { assertSupportedDefinition } from './validate.js';

export type StepFunctionsErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'ExecutionNotRedrivable'
  | 'InvalidArn'
  | 'InvalidDefinition'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidToken'
  | 'StateMachineAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'ValidationException';

/** An API error of the local Step Functions; `name` is the AWS error code. */
export class StepFunctionsError extends Error {
  constructor(
    readonly code: StepFunctionsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export interface StepFunctionsLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface LocalStepFunctionsOptions {
  /** Virtual time; a fresh VirtualScheduler over a VirtualClock by default. */
  scheduler?: VirtualScheduler;
  /** Options of the TaskRouter the engine builds (its states:startExecution targets this engine). */
  tasks?: TaskRouterOptions;
  /** A router built elsewhere (instead of `tasks`). */
  taskRouter?: TaskRouter;
  region?: string;
  accountId?: string;
  /** Seed of the retry jitter generator (FULL jitter), for reproducible runs. */
  seed?: number;
  /** Real-time guard per task attempt sequence, in seconds (default 3600). */
  taskGuardSeconds?: number;
  /** Lifecycle logs (ids and statuses only, never data). */
  logger?: StepFunctionsLogger;
}

export interface CreateStateMachineInput {
  arn: string;
  /** Defaults to the ARN's last segment. */
  name?: string;
  definition: string | object;
  type?: 'STANDARD';
  roleArn?: string;
}

export interface StartExecutionInput {
  stateMachineArn: string;
  name?: string;
  /** JSON text (AWS API) or a JSON value. */
  input?: string | JsonValue;
}

export interface ListExecutionsInput {
  stateMachineArn: string;
  statusFilter?: ExecutionStatus;
  maxResults?: number;
  nextToken?: string;
}

export interface GetExecutionHistoryInput {
  executionArn: string;
  maxResults?: number;
  nextToken?: string;
  reverseOrder?: boolean;
  includeExecutionData?: boolean;
}

export interface ExecutionStats {
  executionArn: string;
  status: ExecutionStatus;
  /** StateEntered events (Wait states included, nested Parallel/Map states included). */
  stateTransitions: number;
  /** Retried attempts (Task retries and Parallel/Map retries). */
  retries: number;
  /** Task attempts per resource type (`lambda`, `aws-sdk:comprehendmedical`, `dynamodb`, ...). */
  taskCalls: Record<string, number>;
  /** Virtual time spent in Wait states, in ms. */
  waitedMs: number;
  startDate: Date;
  stopDate?: Date;
  /** Virtual duration (stopDate - startDate), in ms. */
  durationMs?: number;
  redriveCount: number;
  error?: string;
  cause?: string;
}

export interface ExecutionEventNotice {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  event: HistoryEvent;
}

// ---------------------------------------------------------------------------------------------

const WAIT_RESOURCE = 'arn:aws:states:::chartflow-local:wait';
const REDRIVE_WINDOW_MS = 14 * 24 * 3600 * 1000;
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

interface WaitSpec {
  seconds?: number;
  timestamp?: string;
}

interface CompiledTask {
  name: string;
  resource: string;
  info: ResourceInfo;
  retriers: Retrier[];
  timeoutSeconds?: number;
  handler: TaskHandler;
}

interface Compiled {
  machine: StateMachine;
  waits: Map<string, WaitSpec>;
  tasks: Map<string, CompiledTask>;
  /** Enclosing Parallel/Map states per state name, outermost first. */
  scopes: Map<string, string[]>;
  /** Parallel/Map states with Retry rules. */
  retryingScopes: Set<string>;
  timeoutSeconds?: number;
}

interface MachineRecord {
  arn: string;
  name: string;
  type: 'STANDARD';
  roleArn: string;
  definition: string;
  creationDate: number;
  compiled: Compiled;
}

interface Ticket {
  signal: AbortSignal;
  notBefore: number;
}

interface ScopeEntry {
  controller: AbortController;
  signal: AbortSignal;
  notBefore: number;
}

interface RunState {
  /** Aborted when the run ends: cancels its sleepers (waits, retry intervals, timeout). */
  controller: AbortController;
  stop: () => void;
  finished: boolean;
  terminal?: { status: 'ABORTED' | 'TIMED_OUT'; error?: string; cause?: string };
  waiting: Map<string, Array<(ticket: Ticket) => void>>;
  scopes: Map<string, ScopeEntry>;
}

interface ExecutionRecord {
  seq: number;
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  events: HistoryEvent[];
  stats: { stateTransitions: number; retries: number; taskCalls: Record<string, number>; waitedMs: number };
  run?: RunState;
  done: Promise<void>;
  resolveDone: () => void;
}

type LibraryEvent = {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string; type: string };
  index?: number;
  retry?: { retrier: Retrier; attempt: number };
  Error?: string;
  Cause?: unknown;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isErrorLike = (value: unknown): value is { name: string; message: string; cause?: unknown } =>
  isObject(value) && typeof value.name === 'string' && typeof value.message === 'string';

/** ASL Retry matching: the first retrier naming the error, States.ALL, or States.TaskFailed (not Timeout). */
export function matchRetrier(retriers: Retrier[], errorName: string): number {
  return retriers.findIndex((r) =>
    r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || (e === 'States.TaskFailed' && errorName !== 'States.Timeout')),
  );
}

/** The interval before retry `attempt` (1-based) of `retrier`, in ms. */
export function retryDelayMs(retrier: Retrier, attempt: number, random: () => number): number {
  let seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempt - 1);
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  let ms = seconds * 1000;
  if (retrier.JitterStrategy === 'FULL') ms = random() * ms;
  return Math.round(ms);
}

/**
 * Rewrites context paths the library gets wrong: `$$.Execution.StartTime` (real time there) to the
 * virtual start time, `$$.Execution.Input` (the branch input inside Parallel/Map there) to the
 * execution's input.
 */
function rewriteContextPaths(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(rewriteContextPaths);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Result') continue; // literal JSON
    const isPath = key.endsWith('.$') || (key.endsWith('Path') && key !== 'ResultPath') || key === 'Variable';
    if (isPath && typeof value === 'string') {
      node[key] = value.replace(/\$\$\.Execution\.(StartTime|Input)\b/g, (_, field: string) =>
        field === 'StartTime' ? '$$.Execution.VirtualStartTime' : '$$.Execution.OriginalInput',
      );
    } else {
      rewriteContextPaths(value);
    }
  }
}

function eventTypeOf(type: string): HistoryEventType {
  return type as HistoryEventType;
}

export class LocalStepFunctions {
  readonly scheduler: VirtualScheduler;
  readonly region: string;
  readonly accountId: string;
  private readonly router: TaskRouter;
  private readonly ownsRouter: boolean;
  private readonly random: () => number;
  private readonly taskGuardSeconds: number;
  private readonly logger?: StepFunctionsLogger;
  private readonly machines = new Map<string, MachineRecord>();
  private readonly compiledByDefinition = new Map<string, Compiled>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly listeners = new Set<(notice: ExecutionEventNotice) => void>();
  private executionSeq = 0;

  constructor(options: LocalStepFunctionsOptions = {}) {
    this.scheduler = options.scheduler ?? new VirtualScheduler();
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.router = options.taskRouter ?? new TaskRouter(options.tasks ?? {});
    this.ownsRouter = !options.taskRouter;
    this.router.bindEngine({
      startExecution: (request) => this.startExecution(request),
      track: (work) => this.scheduler.track(work),
    });
    this.random = seededRandom(options.seed ?? 1);
    this.taskGuardSeconds = options.taskGuardSeconds ?? 3600;
    this.logger = options.logger;
  }

  // --- state machines ----------------------------------------------------------------------

  /**
   * Registers a state machine. The definition is validated (unsupported features refused with the
   * state named, then aws-local-stepfunctions' own ASL validation) and compiled once per
   * definition. Registering the same ARN with the same definition again is a no-op.
   */
  createStateMachine(input: CreateStateMachineInput): { stateMachineArn: string; creationDate: Date } {
    const match = /^arn:aws[\w-]*:states:[^:]*:[^:]*:stateMachine:([^:]+)$/.exec(input.arn);
    if (!match) throw new StepFunctionsError('InvalidArn', `Invalid Arn: '${input.arn}'`);
    const name = input.name ?? match[1]!;
    const parsed = parseDefinition(input.definition);
    const definition = JSON.stringify(parsed);
    const existing = this.machines.get(input.arn);
    if (existing) {
      if (existing.definition === definition) return { stateMachineArn: existing.arn, creationDate: new Date(existing.creationDate) };
      throw new StepFunctionsError('StateMachineAlreadyExists', `State Machine Already Exists: '${input.arn}'`);
    }
    let compiled = this.compiledByDefinition.get(definition);
    if (!compiled) {
      compiled = this.compile(parsed);
      this.compiledByDefinition.set(definition, compiled);
    }
    const record: MachineRecord = {
      arn: input.arn,
      name,
      type: input.type ?? 'STANDARD',
      roleArn: input.roleArn ?? `arn:aws:iam::${this.accountId}:role/${name}-role`,
      definition,
      creationDate: this.scheduler.now(),
      compiled,
    };
    this.machines.set(record.arn, record);
    return { stateMachineArn: record.arn, creationDate: new Date(record.creationDate) };
  }

  describeStateMachine(stateMachineArn: string): DescribeStateMachineOutput {
    const m = this.machine(stateMachineArn);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: m.definition,
      roleArn: m.roleArn,
      type: m.type,
      creationDate: new Date(m.creationDate),
    };
  }

  listStateMachines(input: { maxResults?: number; nextToken?: string } = {}): { stateMachines: StateMachineListItem[]; nextToken?: string } {
    const all = [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, nextToken } = this.paginate(all, 'stateMachines', input.maxResults, input.nextToken);
    return {
      stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: new Date(m.creationDate) })),
      nextToken,
    };
  }

  // --- executions --------------------------------------------------------------------------

  /**
   * Starts an execution (AWS semantics): the same name with the same input while it runs returns
   * the running execution; any other reuse of a name is ExecutionAlreadyExists.
   */
  async startExecution(request: StartExecutionInput): Promise<{ executionArn: string; startDate: Date }> {
    const machine = this.machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (name.length < 1 || name.length > 80 || NAME_FORBIDDEN.test(name)) {
      throw new StepFunctionsError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = request.input === undefined ? '{}' : typeof request.input === 'string' ? request.input : JSON.stringify(request.input);
    try {
      JSON.parse(input);
    } catch {
      throw new StepFunctionsError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON');
    }
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new StepFunctionsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let resolveDone = () => undefined as void;
    const record: ExecutionRecord = {
      seq: this.executionSeq++,
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.scheduler.now(),
      redriveCount: 0,
      events: [],
      stats: { stateTransitions: 0, retries: 0, taskCalls: {}, waitedMs: 0 },
      done: new Promise<void>((resolve) => (resolveDone = resolve)),
      resolveDone: () => resolveDone(),
    };
    this.executions.set(executionArn, record);
    this.append(record, 'ExecutionStarted', {
      executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn: machine.roleArn },
    });
    this.logger?.info('execution started', { executionArn });
    this.launch(record, machine);
    return { executionArn, startDate: new Date(record.startDate) };
  }

  describeExecution(executionArn: string): DescribeExecutionOutput {
    const e = this.execution(executionArn);
    const redrivable = this.redrivable(e);
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: new Date(e.startDate),
      ...(e.stopDate !== undefined ? { stopDate: new Date(e.stopDate) } : {}),
      input: e.input,
      inputDetails: { included: true },
      ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      redriveCount: e.redriveCount,
      ...(e.redriveDate !== undefined ? { redriveDate: new Date(e.redriveDate) } : {}),
      redriveStatus: redrivable === true ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(redrivable !== true ? { redriveStatusReason: redrivable } : {}),
    };
  }

  listExecutions(input: ListExecutionsInput): { executions: ExecutionListItem[]; nextToken?: string } {
    const machine = this.machine(input.stateMachineArn);
    const all = [...this.executions.values()]
      .filter((e) => e.stateMachineArn === machine.arn && (!input.statusFilter || e.status === input.statusFilter))
      .sort((a, b) => b.startDate - a.startDate || b.seq - a.seq);
    const { page, nextToken } = this.paginate(all, `executions:${machine.arn}:${input.statusFilter ?? ''}`, input.maxResults, input.nextToken);
    return {
      executions: page.map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: new Date(e.startDate),
        ...(e.stopDate !== undefined ? { stopDate: new Date(e.stopDate) } : {}),
        redriveCount: e.redriveCount,
        ...(e.redriveDate !== undefined ? { redriveDate: new Date(e.redriveDate) } : {}),
      })),
      nextToken,
    };
  }

  getExecutionHistory(input: GetExecutionHistoryInput): { events: HistoryEvent[]; nextToken?: string } {
    const e = this.execution(input.executionArn);
    const ordered = input.reverseOrder ? [...e.events].reverse() : e.events;
    const { page, nextToken } = this.paginate(ordered, `history:${e.executionArn}:${input.reverseOrder ? 'r' : 'f'}`, input.maxResults, input.nextToken);
    const events = page.map((ev) => (input.includeExecutionData === false ? withoutData(ev) : copyEvent(ev)));
    return { events, nextToken };
  }

  /** Stops a running execution (status ABORTED); a finished one is left as it is. */
  async stopExecution(executionArn: string, options: { error?: string; cause?: string } = {}): Promise<{ stopDate: Date }> {
    const e = this.execution(executionArn);
    const run = e.run;
    if (e.status === 'RUNNING' && run && !run.finished) {
      run.terminal = { status: 'ABORTED', error: options.error, cause: options.cause };
      run.stop();
      run.controller.abort();
      await e.done;
    }
    return { stopDate: new Date(e.stopDate ?? this.scheduler.now()) };
  }

  /**
   * Redrives a FAILED, TIMED_OUT or ABORTED execution. Local difference: aws-local-stepfunctions
   * cannot resume from the failed state, so the execution runs again from the start with the same
   * input; redriveCount and the history (ExecutionRedriven, then the re-run) record it.
   */
  async redriveExecution(executionArn: string): Promise<{ redriveDate: Date }> {
    const e = this.execution(executionArn);
    const redrivable = this.redrivable(e);
    if (redrivable !== true) throw new StepFunctionsError('ExecutionNotRedrivable', `Execution is not redrivable: ${redrivable}`);
    const machine = this.machine(e.stateMachineArn);
    let resolveDone = () => undefined as void;
    e.done = new Promise<void>((resolve) => (resolveDone = resolve));
    e.resolveDone = () => resolveDone();
    e.status = 'RUNNING';
    e.redriveCount += 1;
    e.redriveDate = this.scheduler.now();
    delete e.stopDate;
    delete e.output;
    delete e.error;
    delete e.cause;
    this.append(e, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: e.redriveCount } });
    this.logger?.info('execution redriven', { executionArn, redriveCount: e.redriveCount });
    this.launch(e, machine);
    return { redriveDate: new Date(e.redriveDate) };
  }

  /** Resolves with the execution's description once it is no longer RUNNING. */
  async waitForExecution(executionArn: string): Promise<DescribeExecutionOutput> {
    const e = this.execution(executionArn);
    while (e.status === 'RUNNING') await e.done;
    return this.describeExecution(executionArn);
  }

  getExecutionStats(executionArn: string): ExecutionStats {
    const e = this.execution(executionArn);
    return {
      executionArn: e.executionArn,
      status: e.status,
      stateTransitions: e.stats.stateTransitions,
      retries: e.stats.retries,
      taskCalls: { ...e.stats.taskCalls },
      waitedMs: e.stats.waitedMs,
      startDate: new Date(e.startDate),
      ...(e.stopDate !== undefined ? { stopDate: new Date(e.stopDate), durationMs: e.stopDate - e.startDate } : {}),
      redriveCount: e.redriveCount,
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  /** Calls `listener` for every history event of every execution; returns an unsubscribe function. */
  onExecutionEvent(listener: (notice: ExecutionEventNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when no execution has work in flight or a wake-up pending. */
  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  /** Stops every running execution and releases the SDK clients. */
  async close(): Promise<void> {
    const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
    await Promise.all(running.map((e) => this.stopExecution(e.executionArn, { error: 'Shutdown', cause: 'The local runtime stopped' })));
    if (this.ownsRouter) this.router.destroy();
  }

  // --- compilation -------------------------------------------------------------------------

  private compile(original: AslMachine): Compiled {
    assertSupportedDefinition(original);
    try {
      // The library's own validation (asl-validator), on the definition as written; on a copy
      // because asl-validator writes a QueryLanguage into every state.
      new StateMachine(cloneJson(original) as unknown as StateMachineDefinition);
    } catch (error) {
      throw new StepFunctionsError('InvalidDefinition', (error as Error).message);
    }
    const copy = cloneJson(original);
    const compiled: Omit<Compiled, 'machine'> = {
      waits: new Map(),
      tasks: new Map(),
      scopes: new Map(),
      retryingScopes: new Set(),
      timeoutSeconds: typeof copy.TimeoutSeconds === 'number' ? copy.TimeoutSeconds : undefined,
    };
    delete copy.TimeoutSeconds;
    for (const { name, state, scopes } of walkStates(copy)) {
      compiled.scopes.set(name, scopes);
      if (state.Type === 'Wait') {
        this.replaceWait(copy, name, state, compiled.waits);
      } else if (state.Type === 'Task') {
        const resource = String(state.Resource);
        const info = describeResource(resource);
        const handler = this.router.handlerFor(name, resource);
        compiled.tasks.set(name, {
          name,
          resource,
          info: info!,
          retriers: Array.isArray(state.Retry) ? state.Retry : [],
          timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined,
          handler,
        });
        delete state.Retry;
        delete state.TimeoutSecondsPath;
        delete state.HeartbeatSeconds;
        delete state.HeartbeatSecondsPath;
        state.TimeoutSeconds = this.taskGuardSeconds;
      } else if ((state.Type === 'Parallel' || state.Type === 'Map') && Array.isArray(state.Retry) && state.Retry.length > 0) {
        compiled.retryingScopes.add(name);
      } else if (state.Type === 'Pass' && 'Result' in state && !state.Result) {
        // The library ignores a falsy Result (0, false, "", null) and passes the input on;
        // a Parameters template of that value yields it, as Result would.
        state.Parameters = state.Result;
        delete state.Result;
      }
    }
    rewriteContextPaths(copy);
    const machine = new StateMachine(copy as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } });
    return { ...compiled, machine };
  }

  /** Replaces a Wait state, in place in its machine, by a Task run by the wait handler. */
  private replaceWait(root: AslMachine, name: string, state: AslState, waits: Map<string, WaitSpec>): void {
    const parameters: JsonObject = { 'input.$': '$' };
    const spec: WaitSpec = {};
    if (typeof state.Seconds === 'number') spec.seconds = state.Seconds;
    else if (typeof state.Timestamp === 'string') spec.timestamp = state.Timestamp;
    else if (typeof state.SecondsPath === 'string') parameters['seconds.$'] = state.SecondsPath;
    else if (typeof state.TimestampPath === 'string') parameters['timestamp.$'] = state.TimestampPath;
    waits.set(name, spec);
    const task: AslState = { Type: 'Task', Resource: WAIT_RESOURCE, Parameters: parameters, TimeoutSeconds: this.taskGuardSeconds };
    for (const field of ['InputPath', 'OutputPath', 'Next', 'End', 'Comment'] as const) {
      if (field in state) (task as Record<string, unknown>)[field] = state[field];
    }
    // Find the machine holding the state (names are unique, validated) and swap it.
    const swap = (machine: AslMachine): boolean => {
      if (machine.States[name] === state) {
        machine.States[name] = task;
        return true;
      }
      return Object.values(machine.States).some((s) =>
        (s.Type === 'Parallel' ? (s.Branches ?? []) : s.Type === 'Map' ? [s.ItemProcessor ?? s.Iterator].filter((m): m is AslMachine => !!m) : []).some(swap),
      );
    };
    swap(root);
  }

  // --- running -----------------------------------------------------------------------------

  private launch(record: ExecutionRecord, machine: MachineRecord): void {
    const compiled = machine.compiled;
    const run: RunState = {
      controller: new AbortController(),
      stop: () => undefined,
      finished: false,
      waiting: new Map(),
      scopes: new Map(),
    };
    record.run = run;

    const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const task of compiled.tasks.values()) {
      handlers[task.name] = (input) => this.withTicket(run, task.name, (ticket) => this.runTask(record, run, task, input, ticket));
    }
    for (const [name, spec] of compiled.waits) {
      handlers[name] = (input) => this.withTicket(run, name, (ticket) => this.runWait(record, run, spec, input, ticket));
    }
    const retryIntervalOverrides: Record<string, number> = {};
    for (const name of compiled.retryingScopes) retryIntervalOverrides[name] = 0;

    const startTime = sfnTimestamp(record.startDate);
    const scheduler = this.scheduler;
    const context = {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: machine.roleArn,
        StartTime: startTime,
        VirtualStartTime: startTime,
        OriginalInput: JSON.parse(record.input) as JsonValue,
        RedriveCount: record.redriveCount,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
      // Read while the state is being entered, so "now" is its entry time.
      State: {
        get EnteredTime() {
          return sfnTimestamp(scheduler.now());
        },
      },
    };

    const execution = compiled.machine.run(JSON.parse(record.input) as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      context,
    });
    run.stop = execution.abort;
    const consumed = this.consume(record, run, compiled, execution.eventLogs as AsyncGenerator<LibraryEvent>);

    if (compiled.timeoutSeconds !== undefined) {
      this.scheduler.sleep(compiled.timeoutSeconds * 1000, run.controller.signal).then(
        () => {
          if (run.finished || run.terminal) return;
          run.terminal = { status: 'TIMED_OUT', error: 'States.Timeout', cause: `The execution timed out after ${compiled.timeoutSeconds} seconds` };
          run.stop();
        },
        () => undefined,
      );
    }

    void execution.result
      .then(
        (output) => ({ ok: true as const, output }),
        (error: unknown) => ({ ok: false as const, error }),
      )
      .then(async (outcome) => {
        await consumed;
        this.finish(record, run, outcome);
      });
  }

  /** Hands a handler invocation the ticket of its StateEntered event (ordering and cancellation). */
  private withTicket(run: RunState, name: string, body: (ticket: Ticket) => Promise<JsonValue>): Promise<JsonValue> {
    const ticket = new Promise<Ticket>((resolve) => {
      let settled = false;
      const give = (t: Ticket) => {
        if (settled) return;
        settled = true;
        resolve(t);
      };
      const queue = run.waiting.get(name) ?? [];
      queue.push(give);
      run.waiting.set(name, queue);
      // The StateEntered event is consumed within microtasks; this fallback only guards a lost one.
      setImmediate(() => {
        const i = queue.indexOf(give);
        if (i >= 0) queue.splice(i, 1);
        give({ signal: run.controller.signal, notBefore: 0 });
      });
    });
    return this.scheduler.track(ticket).then(body);
  }

  private async runTask(record: ExecutionRecord, run: RunState, task: CompiledTask, input: JsonValue, ticket: Ticket): Promise<JsonValue> {
    await this.scheduler.sleepUntil(ticket.notBefore, ticket.signal);
    const attempts = task.retriers.map(() => 0);
    const lambdaFunction = task.info.kind === 'lambda-function';
    const details = { resourceType: task.info.resourceType, resource: task.info.resource };
    for (;;) {
      ticket.signal.throwIfAborted();
      const parameters = JSON.stringify(input);
      if (lambdaFunction) {
        this.appendLive(record, run, 'LambdaFunctionScheduled', {
          lambdaFunctionScheduledEventDetails: {
            resource: task.resource,
            input: parameters,
            inputDetails: { truncated: false },
            ...(task.timeoutSeconds !== undefined ? { timeoutInSeconds: task.timeoutSeconds } : {}),
          },
        });
        this.appendLive(record, run, 'LambdaFunctionStarted', {});
      } else {
        this.appendLive(record, run, 'TaskScheduled', {
          taskScheduledEventDetails: {
            ...details,
            region: this.region,
            parameters,
            ...(task.timeoutSeconds !== undefined ? { timeoutInSeconds: task.timeoutSeconds } : {}),
          },
        });
        this.appendLive(record, run, 'TaskStarted', { taskStartedEventDetails: details });
      }
      record.stats.taskCalls[task.info.resourceType] = (record.stats.taskCalls[task.info.resourceType] ?? 0) + 1;
      try {
        const output = await this.scheduler.run(() => task.handler(input));
        const text = JSON.stringify(output);
        if (lambdaFunction) {
          this.appendLive(record, run, 'LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: text, outputDetails: { truncated: false } } });
        } else {
          this.appendLive(record, run, 'TaskSucceeded', { taskSucceededEventDetails: { ...details, output: text, outputDetails: { truncated: false } } });
        }
        return output;
      } catch (thrown) {
        const failure =
          thrown instanceof TaskFailure
            ? thrown
            : new TaskFailure('States.TaskFailed', thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown));
        if (lambdaFunction) {
          this.appendLive(record, run, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: failure.error, cause: failure.causeText } });
        } else {
          this.appendLive(record, run, 'TaskFailed', { taskFailedEventDetails: { ...details, error: failure.error, cause: failure.causeText } });
        }
        if (ticket.signal.aborted || !failure.isRetryable) throw failure;
        const i = matchRetrier(task.retriers, failure.error);
        const retrier = task.retriers[i];
        if (!retrier || attempts[i]! >= (retrier.MaxAttempts ?? 3)) throw failure;
        attempts[i]! += 1;
        record.stats.retries += 1;
        await this.scheduler.sleep(retryDelayMs(retrier, attempts[i]!, this.random), ticket.signal);
      }
    }
  }

  private async runWait(record: ExecutionRecord, run: RunState, spec: WaitSpec, input: JsonValue, ticket: Ticket): Promise<JsonValue> {
    await this.scheduler.sleepUntil(ticket.notBefore, ticket.signal);
    const args = isObject(input) ? input : {};
    let until: number;
    const seconds = spec.seconds ?? args.seconds;
    const timestamp = spec.timestamp ?? args.timestamp;
    if (seconds !== undefined) {
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TaskFailure('States.Runtime', `The SecondsPath parameter does not reference a non-negative integer: ${JSON.stringify(seconds)}`, true);
      }
      until = this.scheduler.now() + seconds * 1000;
    } else if (timestamp !== undefined) {
      const ms = parseRfc3339(timestamp);
      if (ms === undefined) {
        throw new TaskFailure('States.Runtime', `The TimestampPath parameter does not reference a valid ISO-8601 timestamp: ${JSON.stringify(timestamp)}`, true);
      }
      until = ms;
    } else {
      until = this.scheduler.now();
    }
    const from = this.scheduler.now();
    await this.scheduler.sleepUntil(until, ticket.signal);
    if (!run.finished && record.run === run) record.stats.waitedMs += this.scheduler.now() - from;
    return (args.input ?? null) as JsonValue;
  }

  /** Maps the library's event log to AWS history events, in order. */
  private async consume(record: ExecutionRecord, run: RunState, compiled: Compiled, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const ev of events) {
      if (run.finished || record.run !== run) continue;
      const state = ev.state;
      const display = state && compiled.waits.has(state.name) ? 'Wait' : state?.type;
      switch (ev.type) {
        case 'StateEntered': {
          if (!state) break;
          record.stats.stateTransitions += 1;
          this.append(record, `${display}StateEntered`, {
            stateEnteredEventDetails: { name: state.name, input: JSON.stringify(state.input ?? null), inputDetails: { truncated: false } },
          });
          if (state.type === 'Parallel' || state.type === 'Map') {
            this.openScope(run, compiled, state.name, 0);
            this.append(record, state.type === 'Parallel' ? 'ParallelStateStarted' : 'MapStateStarted', {});
          }
          const waiter = run.waiting.get(state.name)?.shift();
          if (waiter) waiter(this.innermostScope(run, compiled, state.name));
          break;
        }
        case 'StateExited': {
          if (!state) break;
          if (state.type === 'Parallel' || state.type === 'Map') {
            this.closeScope(run, state.name);
            this.append(record, state.type === 'Parallel' ? 'ParallelStateSucceeded' : 'MapStateSucceeded', {});
          }
          this.append(record, `${display}StateExited`, {
            stateExitedEventDetails: { name: state.name, output: JSON.stringify(state.output ?? null), outputDetails: { truncated: false } },
          });
          break;
        }
        case 'StateFailed':
          if (state && (state.type === 'Parallel' || state.type === 'Map')) {
            // The library abandons the branches/iterations: cancel their pending waits and retries.
            this.closeScope(run, state.name);
            this.append(record, state.type === 'Parallel' ? 'ParallelStateFailed' : 'MapStateFailed', {});
          }
          break;
        case 'StateRetried':
          if (state && ev.retry && (state.type === 'Parallel' || state.type === 'Map')) {
            record.stats.retries += 1;
            this.openScope(run, compiled, state.name, this.scheduler.now() + retryDelayMs(ev.retry.retrier, ev.retry.attempt, this.random));
          }
          break;
        case 'MapIterationStarted':
        case 'MapIterationSucceeded':
        case 'MapIterationFailed': {
          const detailsKey = `mapIteration${ev.type.slice('MapIteration'.length)}EventDetails`;
          this.append(record, ev.type, { [detailsKey]: { name: ev.parentState?.name, index: ev.index } });
          break;
        }
        default:
          break; // Execution*, ParallelBranch*, StateCaught: the engine writes its own terminal events.
      }
    }
  }

  private openScope(run: RunState, compiled: Compiled, name: string, notBefore: number): void {
    run.scopes.get(name)?.controller.abort();
    const parent = this.innermostScope(run, compiled, name);
    const controller = new AbortController();
    run.scopes.set(name, {
      controller,
      signal: AbortSignal.any([parent.signal, controller.signal]),
      notBefore: Math.max(parent.notBefore, notBefore),
    });
  }

  private closeScope(run: RunState, name: string): void {
    run.scopes.get(name)?.controller.abort();
    run.scopes.delete(name);
  }

  private innermostScope(run: RunState, compiled: Compiled, name: string): Ticket {
    const scopes = compiled.scopes.get(name) ?? [];
    for (let i = scopes.length - 1; i >= 0; i--) {
      const entry = run.scopes.get(scopes[i]!);
      if (entry) return { signal: entry.signal, notBefore: entry.notBefore };
    }
    return { signal: run.controller.signal, notBefore: 0 };
  }

  private finish(record: ExecutionRecord, run: RunState, outcome: { ok: true; output: unknown } | { ok: false; error: unknown }): void {
    if (run.finished) return;
    run.finished = true;
    run.controller.abort();
    for (const queue of run.waiting.values()) for (const give of queue.splice(0)) give({ signal: run.controller.signal, notBefore: 0 });
    for (const scope of run.scopes.values()) scope.controller.abort();
    run.scopes.clear();
    if (record.run !== run) return;

    record.stopDate = this.scheduler.now();
    if (run.terminal?.status === 'ABORTED') {
      record.status = 'ABORTED';
      this.setFailure(record, run.terminal.error, run.terminal.cause);
      this.append(record, 'ExecutionAborted', { executionAbortedEventDetails: compact({ error: record.error, cause: record.cause }) });
    } else if (run.terminal?.status === 'TIMED_OUT') {
      record.status = 'TIMED_OUT';
      this.setFailure(record, run.terminal.error, run.terminal.cause);
      this.append(record, 'ExecutionTimedOut', { executionTimedOutEventDetails: compact({ error: record.error, cause: record.cause }) });
    } else if (outcome.ok) {
      record.status = 'SUCCEEDED';
      record.output = JSON.stringify(outcome.output ?? null);
      this.append(record, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: record.output, outputDetails: { truncated: false } } });
    } else {
      record.status = 'FAILED';
      // The library rejects with ExecutionError whose cause is the state's error.
      const thrown = outcome.error;
      const failure = isErrorLike(thrown) && isErrorLike(thrown.cause) ? thrown.cause : thrown;
      let error = isErrorLike(failure) ? failure.name : 'States.Runtime';
      let cause = isErrorLike(failure) ? failure.message : String(failure);
      // A Fail state without Error/Cause: the library fills in its own placeholders.
      if (error === 'FailStateError') error = '';
      if (cause === 'Execution failed because of a Fail state') cause = '';
      this.setFailure(record, error || undefined, cause || undefined);
      this.append(record, 'ExecutionFailed', { executionFailedEventDetails: compact({ error: record.error, cause: record.cause }) });
    }
    this.logger?.info('execution finished', { executionArn: record.executionArn, status: record.status });
    record.resolveDone();
  }

  private setFailure(record: ExecutionRecord, error: string | undefined, cause: string | undefined): void {
    if (error !== undefined) record.error = error;
    if (cause !== undefined) record.cause = cause;
  }

  /** Appends an event written by a task or wait handler, unless its run is over or superseded. */
  private appendLive(record: ExecutionRecord, run: RunState, type: string, details: Record<string, unknown>): void {
    if (run.finished || record.run !== run) return;
    this.append(record, type, details);
  }

  private append(record: ExecutionRecord, type: string, details: Record<string, unknown>): void {
    const id = record.events.length + 1;
    const event = { timestamp: new Date(this.scheduler.now()), type: eventTypeOf(type), id, previousEventId: id - 1, ...details } as HistoryEvent;
    record.events.push(event);
    if (this.listeners.size === 0) return;
    const notice: ExecutionEventNotice = {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      event,
    };
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (error) {
        this.logger?.error('execution event listener failed', { executionArn: record.executionArn, error: (error as Error).message });
      }
    }
  }

  // --- lookups -----------------------------------------------------------------------------

  private machine(stateMachineArn: string): MachineRecord {
    if (typeof stateMachineArn !== 'string' || !/^arn:aws[\w-]*:states:[^:]*:[^:]*:stateMachine:[^:]+$/.test(stateMachineArn)) {
      throw new StepFunctionsError('InvalidArn', `Invalid Arn: '${String(stateMachineArn)}'`);
    }
    const m = this.machines.get(stateMachineArn);
    if (!m) throw new StepFunctionsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return m;
  }

  private execution(executionArn: string): ExecutionRecord {
    if (typeof executionArn !== 'string' || !/^arn:aws[\w-]*:states:[^:]*:[^:]*:execution:[^:]+:[^:]+$/.test(executionArn)) {
      throw new StepFunctionsError('InvalidArn', `Invalid Arn: '${String(executionArn)}'`);
    }
    const e = this.executions.get(executionArn);
    if (!e) throw new StepFunctionsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  /** true, or why not. */
  private redrivable(e: ExecutionRecord): true | string {
    if (e.status === 'RUNNING') return 'Execution is RUNNING and cannot be redriven';
    if (e.status === 'SUCCEEDED') return 'Execution is SUCCEEDED and cannot be redriven';
    if (e.stopDate !== undefined && this.scheduler.now() - e.stopDate > REDRIVE_WINDOW_MS) return 'Execution stopped more than 14 days ago';
    return true;
  }

  private paginate<T>(items: T[], scope: string, maxResults: number | undefined, nextToken: string | undefined): { page: T[]; nextToken?: string } {
    if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)) {
      throw new StepFunctionsError('ValidationException', 'maxResults must be an integer between 0 and 1000');
    }
    const size = maxResults || 100;
    let offset = 0;
    if (nextToken !== undefined) {
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8'));
      } catch {
        decoded = undefined;
      }
      if (!isObject(decoded) || decoded.scope !== scope || typeof decoded.offset !== 'number') {
        throw new StepFunctionsError('InvalidToken', 'Invalid Token: the pagination token is not valid for this request');
      }
      offset = decoded.offset;
    }
    const page = items.slice(offset, offset + size);
    const next = offset + size < items.length ? Buffer.from(JSON.stringify({ scope, offset: offset + size })).toString('base64url') : undefined;
    return next ? { page, nextToken: next } : { page };
  }
}

function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A copy of a history event (its details are one level of plain objects). */
function copyEvent(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    copy[key] = value instanceof Date ? new Date(value.getTime()) : isObject(value) ? JSON.parse(JSON.stringify(value)) : value;
  }
  return copy as unknown as HistoryEvent;
}

/** A history event without its input/output data (GetExecutionHistory includeExecutionData=false). */
function withoutData(event: HistoryEvent): HistoryEvent {
  const copy = copyEvent(event) as unknown as Record<string, unknown>;
  for (const value of Object.values(copy)) {
    if (!isObject(value)) continue;
    for (const key of ['input', 'output', 'parameters', 'inputDetails', 'outputDetails']) delete value[key];
  }
  return copy as unknown as HistoryEvent;
}
