/**
 * Local handlers for Task states, dispatched on the state's `Resource` the way Step Functions'
 * integrations behave:
 *
 * - `arn:aws:states:::lambda:invoke` and Lambda function ARNs call an injected `invokeLambda`;
 * - `arn:aws:states:::aws-sdk:<service>:<action>` calls the real AWS SDK v3 client of the service
 *   against a local endpoint, converting Step Functions' PascalCase to the API's member names and
 *   back (from the SDK's own schemas), timestamps as ISO 8601 strings, errors named
 *   `<Service>.<Error>`;
 * - the optimized `dynamodb:*`, `events:putEvents` and `states:startExecution` integrations;
 * - anything else is refused with the state and resource named.
 *
 * Handlers receive the state's effective input (after InputPath and Parameters) and return the
 * task result (before ResultSelector/ResultPath/OutputPath), exactly where Step Functions calls the
 * service.
 */
import { randomUUID } from 'node:crypto';
import { NormalizedSchema } from '@smithy/core/schema';
import { sfnTimestamp, type JsonObject, type JsonValue } from './asl.js';

/** A task's result or failure as Step Functions sees it. */
export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/**
 * A failed task: `name` is the Step Functions error (what Retry/Catch match), `message` its cause.
 * `terminal` failures (States.Runtime) can be neither retried nor caught, as on AWS.
 */
export class TaskFailure extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
    private readonly terminal = false,
  ) {
    super(causeText);
    this.name = error;
  }
  /** Read by aws-local-stepfunctions' Retry matching. */
  get isRetryable(): boolean {
    return !this.terminal;
  }
  /** Read by aws-local-stepfunctions' Catch matching. */
  get isCatchable(): boolean {
    return !this.terminal;
  }
}

export class UnsupportedResourceError extends Error {
  constructor(stateName: string, resource: string, why: string) {
    super(`Task state "${stateName}": resource "${resource}" ${why}`);
    this.name = 'UnsupportedResourceError';
  }
}

/** How a resource appears in the execution history. */
export interface ResourceInfo {
  /** `lambda-function` resources are reported with LambdaFunction* events, others with Task* events. */
  kind: 'lambda-function' | 'lambda-invoke' | 'aws-sdk' | 'dynamodb' | 'events' | 'states';
  /** e.g. `aws-sdk:comprehendmedical`, `lambda`, `dynamodb` (the function ARN for lambda-function). */
  resourceType: string;
  /** e.g. `describeEntitiesDetectionV2Job`, `invoke`, `getItem`. */
  resource: string;
}

export interface StartExecutionRequest {
  stateMachineArn: string;
  name?: string;
  input?: string;
}

export interface TaskRouterOptions {
  /** Calls the Lambda handler of `functionName` (a name or ARN, as the definition gives it). */
  invokeLambda?: (functionName: string, payload: unknown) => Promise<unknown>;
  /** Target of `arn:aws:states:::states:startExecution` (the engine wires itself in). */
  startExecution?: (request: StartExecutionRequest) => Promise<{ executionArn: string; startDate: Date }>;
  /**
   * Local endpoint per SDK package suffix (`comprehendmedical`, `entityresolution`, `dynamodb`,
   * `eventbridge`, `s3`, `sfn`, ...). A service without an endpoint is refused: the local runtime
   * never calls AWS.
   */
  endpoints?: Partial<Record<string, string>>;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Extra client settings per service (e.g. S3 credentials); endpoint and maxAttempts always win. */
  clientConfig?: Partial<Record<string, Record<string, unknown>>>;
}

interface SdkClient {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
  config: { serviceId?: string };
}
type SdkClientClass = new (config: Record<string, unknown>) => SdkClient;
type SdkCommandClass = new (input: Record<string, unknown>) => { schema?: unknown };
interface SdkModule {
  Client: SdkClientClass;
  exports: Record<string, unknown>;
}
interface SdkServiceError {
  name: string;
  message: string;
  $fault: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

const DYNAMODB_ACTIONS = new Set(['getItem', 'putItem', 'updateItem', 'deleteItem', 'query']);
/** Resource service names that are not the SDK package name. */
const SDK_PACKAGE_ALIASES: Record<string, string> = { states: 'sfn', stepfunctions: 'sfn', events: 'eventbridge' };
/** Step Functions' spelling of a service in aws-sdk error names where it differs from the serviceId. */
const SDK_ERROR_PREFIX: Record<string, string> = { DynamoDB: 'DynamoDb', SFN: 'Sfn' };
/** The optimized integrations' error prefixes. */
const OPTIMIZED_ERROR_PREFIX: Record<string, string> = { dynamodb: 'DynamoDB', eventbridge: 'EventBridge' };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const looseKey = (s: string): string => s.replace(/_/g, '').toLowerCase();

/** Classifies a Task resource ARN, or undefined when this runtime has no integration for it. */
export function describeResource(resource: string): ResourceInfo | undefined {
  if (/^arn:aws[\w-]*:lambda:[^:]*:\d*:function:[^:]+(:[^:]+)?$/.test(resource)) {
    return { kind: 'lambda-function', resourceType: 'lambda', resource };
  }
  const m = /^arn:aws[\w-]*:states:::([^:]+):([^:.]+)(?::([^:.]+))?$/.exec(resource);
  if (!m) return undefined;
  const [, service, first, second] = m as unknown as [string, string, string, string | undefined];
  if (service === 'lambda' && first === 'invoke' && second === undefined) return { kind: 'lambda-invoke', resourceType: 'lambda', resource: 'invoke' };
  if (service === 'aws-sdk' && second !== undefined) return { kind: 'aws-sdk', resourceType: `aws-sdk:${first}`, resource: second };
  if (service === 'dynamodb' && second === undefined && DYNAMODB_ACTIONS.has(first)) return { kind: 'dynamodb', resourceType: 'dynamodb', resource: first };
  if (service === 'events' && first === 'putEvents' && second === undefined) return { kind: 'events', resourceType: 'events', resource: first };
  if (service === 'states' && first === 'startExecution' && second === undefined) return { kind: 'states', resourceType: 'states', resource: first };
  return undefined;
}

/** `SdkHttpMetadata`/`SdkResponseMetadata`, which the optimized integrations add to their results. */
function sdkMetadata(requestId: string): JsonObject {
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: { 'Content-Type': ['application/x-amz-json-1.1'], 'x-amzn-RequestId': [requestId] },
      HttpHeaders: { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/** A thrown value as Lambda reports it: errorType, errorMessage, trace. */
export function lambdaFailure(error: unknown): TaskFailure {
  const e =
    typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error) : new Error(String(error));
  const errorType = typeof e.name === 'string' && e.name ? e.name : 'Error';
  const cause = JSON.stringify({ errorType, errorMessage: e.message, trace: typeof e.stack === 'string' ? e.stack.split('\n') : [] });
  return new TaskFailure(errorType, cause);
}

/**
 * A failed invocation as the task reports it: an error thrown by the function becomes its
 * errorType; a TaskFailure thrown by `invokeLambda` is a failure of the Lambda service itself
 * (e.g. `Lambda.ServiceException`) and is reported as is.
 */
function asLambdaTaskFailure(error: unknown): TaskFailure {
  return error instanceof TaskFailure ? error : lambdaFailure(error);
}

/** JSON data as a Lambda payload travels: serialized and parsed (Dates become strings, undefined null). */
function asJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

const runtimeError = (cause: string) => new TaskFailure('States.Runtime', cause, true);

function isServiceError(error: unknown): error is SdkServiceError {
  return typeof error === 'object' && error !== null && '$metadata' in error && '$fault' in error && 'name' in error;
}

/** From the SDK's result (API member names, Dates, bytes) to what Step Functions returns. */
function fromApiShape(value: unknown, schema: NormalizedSchema | undefined): JsonValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return sfnTimestamp(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) {
    const item = schema?.isListSchema() ? schema.getValueSchema() : undefined;
    return value.map((v) => fromApiShape(v, item));
  }
  if (typeof value === 'bigint') return Number(value);
  if (!isObject(value)) return value as JsonValue;
  const out: JsonObject = {};
  if (schema?.isStructSchema()) {
    const members = new Map<string, NormalizedSchema>(schema.structIterator());
    for (const [key, v] of Object.entries(value)) {
      if (key === '$metadata' || key === '$unknown' || v === undefined) continue;
      out[upperFirst(key)] = fromApiShape(v, members.get(key));
    }
    return out;
  }
  const valueSchema = schema?.isMapSchema() ? schema.getValueSchema() : undefined;
  for (const [key, v] of Object.entries(value)) {
    if (key === '$metadata' || v === undefined) continue;
    out[key] = fromApiShape(v, valueSchema);
  }
  return out;
}

/** From Step Functions' PascalCase parameters to the API's member names and types. */
function toApiShape(value: JsonValue, schema: NormalizedSchema, path: string): unknown {
  if (value === null) return undefined;
  if (schema.isStructSchema()) {
    if (!isObject(value)) throw runtimeError(`The field ${path || 'Parameters'} must be an object`);
    const members = [...schema.structIterator()];
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const member = members.find(([name]) => name === key) ?? members.find(([name]) => looseKey(name) === looseKey(key));
      if (!member) {
        throw runtimeError(`The field "${path ? `${path}.` : ''}${key}" is not supported by ${schema.getName() ?? 'this action'}`);
      }
      out[member[0]] = toApiShape(v, member[1], path ? `${path}.${key}` : key);
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) throw runtimeError(`The field ${path} must be an array`);
    return value.map((v, i) => toApiShape(v, schema.getValueSchema(), `${path}[${i}]`));
  }
  if (schema.isMapSchema()) {
    if (!isObject(value)) throw runtimeError(`The field ${path} must be an object`);
    return Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, toApiShape(v, schema.getValueSchema(), `${path}.${k}`)]));
  }
  if (schema.isTimestampSchema()) {
    const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw runtimeError(`The field ${path} must be a timestamp`);
    return new Date(ms);
  }
  // Step Functions passes JSON objects given for string members as JSON text.
  if (schema.isStringSchema() && typeof value !== 'string') return JSON.stringify(value);
  return value;
}

export class TaskRouter {
  private readonly modules = new Map<string, Promise<SdkModule>>();
  private readonly clients = new Map<string, SdkClient>();
  /** Marks work that outlives its task as in flight (the engine's scheduler once bound). */
  private track: <T>(work: Promise<T>) => Promise<T> = (work) => work;

  constructor(private readonly options: TaskRouterOptions = {}) {}

  /**
   * Called by the engine: the target of `states:startExecution` (unless the options gave one) and
   * how to mark work that outlives its task (asynchronous Lambda invocations) as in flight.
   */
  bindEngine(hooks: { startExecution: NonNullable<TaskRouterOptions['startExecution']>; track: <T>(work: Promise<T>) => Promise<T> }): void {
    this.options.startExecution ??= hooks.startExecution;
    this.track = hooks.track;
  }

  /** The handler of one Task state; throws UnsupportedResourceError naming the state otherwise. */
  handlerFor(stateName: string, resource: string): TaskHandler {
    const info = describeResource(resource);
    if (!info) {
      throw new UnsupportedResourceError(
        stateName,
        resource,
        'has no local integration (supported: lambda:invoke, Lambda function ARNs, aws-sdk:*, ' +
          'dynamodb:getItem|putItem|updateItem|deleteItem|query, events:putEvents, states:startExecution)',
      );
    }
    const needEndpoint = (service: string) => {
      if (!this.options.endpoints?.[service]) {
        throw new UnsupportedResourceError(stateName, resource, `needs a local endpoint for "${service}" (router option endpoints.${service})`);
      }
    };
    switch (info.kind) {
      case 'lambda-function':
      case 'lambda-invoke': {
        const invoke = this.options.invokeLambda;
        if (!invoke) throw new UnsupportedResourceError(stateName, resource, 'needs an invokeLambda function (router option invokeLambda)');
        return info.kind === 'lambda-function' ? (input) => this.invokeFunction(invoke, resource, input) : (input) => this.lambdaInvoke(invoke, input);
      }
      case 'aws-sdk': {
        const service = info.resourceType.slice('aws-sdk:'.length);
        const pkg = SDK_PACKAGE_ALIASES[service] ?? service;
        needEndpoint(pkg);
        return (input) => this.awsSdk(pkg, info.resource, input);
      }
      case 'dynamodb':
        needEndpoint('dynamodb');
        return (input) => this.optimized('dynamodb', info.resource, input, (params) => params);
      case 'events':
        needEndpoint('eventbridge');
        return (input) => this.putEvents(input);
      case 'states':
        return (input) => this.startExecution(input);
    }
  }

  /** Destroys the SDK clients the router created. */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private async invokeFunction(invoke: NonNullable<TaskRouterOptions['invokeLambda']>, functionArn: string, input: JsonValue): Promise<JsonValue> {
    try {
      return asJson(await invoke(functionArn, input));
    } catch (error) {
      throw asLambdaTaskFailure(error);
    }
  }

  private async lambdaInvoke(invoke: NonNullable<TaskRouterOptions['invokeLambda']>, input: JsonValue): Promise<JsonValue> {
    if (!isObject(input) || typeof input.FunctionName !== 'string') {
      throw runtimeError('lambda:invoke needs Parameters with a FunctionName string');
    }
    const functionName = input.FunctionName;
    const payload = input.Payload === undefined ? {} : input.Payload;
    const requestId = randomUUID();
    if (input.InvocationType === 'Event') {
      // Asynchronous invocation: Lambda queues the event and answers 202 at once.
      this.track(invoke(functionName, payload)).catch(() => undefined);
      return { Payload: '', StatusCode: 202, ...sdkMetadata(requestId) };
    }
    let result: unknown;
    try {
      result = await invoke(functionName, payload);
    } catch (error) {
      throw asLambdaTaskFailure(error);
    }
    return { ExecutedVersion: '$LATEST', Payload: asJson(result), ...sdkMetadata(requestId), StatusCode: 200 };
  }

  private async awsSdk(pkg: string, action: string, input: JsonValue): Promise<JsonValue> {
    const { Command, client, serviceId } = await this.command(pkg, action);
    const probe = new Command({});
    const op = Array.isArray(probe.schema) && probe.schema[0] === 9 ? (probe.schema as unknown[]) : undefined;
    const inputSchema = op ? NormalizedSchema.of(op[4] as Parameters<typeof NormalizedSchema.of>[0]) : undefined;
    const outputSchema = op ? NormalizedSchema.of(op[5] as Parameters<typeof NormalizedSchema.of>[0]) : undefined;
    const params = input ?? {};
    const apiInput = inputSchema ? toApiShape(params, inputSchema, '') : params;
    const prefix = SDK_ERROR_PREFIX[serviceId] ?? serviceId.replace(/\s+/g, '');
    try {
      const result = await client.send(new Command((apiInput ?? {}) as Record<string, unknown>));
      return fromApiShape(result, outputSchema);
    } catch (error) {
      if (!isServiceError(error)) throw this.transportFailure(pkg, error);
      const name = error.name.endsWith('Exception') ? error.name : `${error.name}Exception`;
      throw new TaskFailure(
        `${prefix}.${name}`,
        `${error.message} (Service: ${prefix}, Status Code: ${error.$metadata.httpStatusCode ?? 400}, Request ID: ${error.$metadata.requestId ?? randomUUID()})`,
      );
    }
  }

  /** The optimized integrations take and return the API's own shapes. */
  private async optimized(pkg: string, action: string, input: JsonValue, prepare: (params: Record<string, unknown>) => Record<string, unknown>): Promise<JsonValue> {
    if (!isObject(input)) throw runtimeError(`${pkg}:${action} needs Parameters`);
    const { Command, client } = await this.command(pkg, action);
    const prefix = OPTIMIZED_ERROR_PREFIX[pkg] ?? upperFirst(pkg);
    let result: unknown;
    try {
      result = await client.send(new Command(prepare(input)));
    } catch (error) {
      if (!isServiceError(error)) throw this.transportFailure(pkg, error);
      const requestId = error.$metadata.requestId ?? randomUUID();
      throw new TaskFailure(
        `${prefix}.${error.name}`,
        `${error.message} (Service: ${prefix}; Status Code: ${error.$metadata.httpStatusCode ?? 400}; Error Code: ${error.name}; Request ID: ${requestId}; Proxy: null)`,
      );
    }
    const output = fromApiShape(result, undefined) as JsonObject;
    const requestId = isObject(result) && isObject(result.$metadata) && typeof result.$metadata.requestId === 'string' ? result.$metadata.requestId : randomUUID();
    return { ...output, ...sdkMetadata(requestId) };
  }

  private async putEvents(input: JsonValue): Promise<JsonValue> {
    const output = await this.optimized('eventbridge', 'putEvents', input, (params) => ({
      ...params,
      Entries: (Array.isArray(params.Entries) ? params.Entries : []).map((entry) =>
        isObject(entry) && entry.Detail !== undefined && typeof entry.Detail !== 'string' ? { ...entry, Detail: JSON.stringify(entry.Detail) } : entry,
      ),
    }));
    const failed = isObject(output) && typeof output.FailedEntryCount === 'number' ? output.FailedEntryCount : 0;
    if (failed > 0) {
      const entries = isObject(output) ? output.Entries : [];
      throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify({ FailedEntryCount: failed, Entries: entries }));
    }
    return output;
  }

  private async startExecution(input: JsonValue): Promise<JsonValue> {
    const start = this.options.startExecution;
    if (!start) throw runtimeError('states:startExecution has no local Step Functions to start executions on');
    if (!isObject(input) || typeof input.StateMachineArn !== 'string') {
      throw runtimeError('states:startExecution needs Parameters with a StateMachineArn string');
    }
    const raw = input.Input;
    const executionInput = raw === undefined || raw === null ? '{}' : typeof raw === 'string' ? raw : JSON.stringify(raw);
    try {
      const started = await start({
        stateMachineArn: input.StateMachineArn,
        name: typeof input.Name === 'string' ? input.Name : undefined,
        input: executionInput,
      });
      // The optimized integration serializes the date as epoch milliseconds.
      return { ExecutionArn: started.executionArn, StartDate: started.startDate.getTime(), ...sdkMetadata(randomUUID()) };
    } catch (error) {
      if (!(error instanceof Error) || error instanceof TaskFailure) throw error;
      const code = error.name.endsWith('Exception') ? error.name : `${error.name}Exception`;
      throw new TaskFailure(`StepFunctions.${code}`, `${error.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: ${error.name}; Proxy: null)`);
    }
  }

  private transportFailure(pkg: string, error: unknown): TaskFailure {
    const message = error instanceof Error ? error.message : String(error);
    return new TaskFailure('States.TaskFailed', `Calling the local ${pkg} endpoint ${this.options.endpoints?.[pkg] ?? ''} failed: ${message}`);
  }

  private async command(pkg: string, action: string): Promise<{ Command: SdkCommandClass; client: SdkClient; serviceId: string }> {
    const mod = await this.load(pkg);
    const Command = mod.exports[`${upperFirst(action)}Command`];
    if (typeof Command !== 'function') throw runtimeError(`@aws-sdk/client-${pkg} has no action "${action}"`);
    let client = this.clients.get(pkg);
    if (!client) {
      client = new mod.Client({
        region: this.options.region ?? 'us-east-1',
        credentials: this.options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
        ...(pkg === 's3' ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
        ...this.options.clientConfig?.[pkg],
        endpoint: this.options.endpoints?.[pkg],
        // Retries belong to the state's Retry rules, not to the SDK.
        maxAttempts: 1,
      });
      this.clients.set(pkg, client);
    }
    return { Command: Command as SdkCommandClass, client, serviceId: client.config.serviceId ?? upperFirst(pkg) };
  }

  private load(pkg: string): Promise<SdkModule> {
    let loading = this.modules.get(pkg);
    if (!loading) {
      loading = (async () => {
        let ns: Record<string, unknown>;
        try {
          ns = (await import(`@aws-sdk/client-${pkg}`)) as Record<string, unknown>;
        } catch (error) {
          throw runtimeError(`The SDK client package @aws-sdk/client-${pkg} is not installed: ${(error as Error).message}`);
        }
        const exports = { ...(isObject(ns.default) ? ns.default : {}), ...ns };
        const clientName = Object.keys(exports).find((k) => k.endsWith('Client') && k !== '__Client' && typeof exports[k] === 'function');
        if (!clientName) throw runtimeError(`@aws-sdk/client-${pkg} exports no client class`);
        return { Client: exports[clientName] as SdkClientClass, exports };
      })();
      loading.catch(() => this.modules.delete(pkg));
      this.modules.set(pkg, loading);
    }
    return loading;
  }
}
