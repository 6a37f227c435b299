/**
 * Amazon States Language helpers shared by the local Step Functions: JSON and definition types,
 * a walker over every state (Parallel branches and Map iterators included), and Step Functions'
 * timestamp format.
 */

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One Retry rule, as ASL defines it (defaults applied by `retryDelayMs`). */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/** A state as read from a definition: the fields this runtime looks at, the rest passed through. */
export interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Retry?: Retrier[];
  Catch?: JsonObject[];
  Branches?: AslMachine[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } };
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [field: string]: unknown;
}

export interface StateVisit {
  name: string;
  state: AslState;
  /** Names of the enclosing Parallel/Map states, outermost first. */
  scopes: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The nested machines of a Parallel (its branches) or a Map (its iterator). */
export function childMachines(state: AslState): AslMachine[] {
  if (state.Type === 'Parallel') return Array.isArray(state.Branches) ? state.Branches : [];
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return isObject(processor) ? [processor] : [];
  }
  return [];
}

/** Every state of the machine, depth first, with its enclosing Parallel/Map states. */
export function walkStates(machine: AslMachine, scopes: string[] = []): StateVisit[] {
  const visits: StateVisit[] = [];
  if (!isObject(machine) || !isObject(machine.States)) return visits;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    visits.push({ name, state, scopes });
    for (const child of childMachines(state)) visits.push(...walkStates(child, [...scopes, name]));
  }
  return visits;
}

/** Parses a definition given as a JSON string or an object, with a clear error when it is neither. */
export function parseDefinition(definition: string | object): AslMachine {
  let parsed: unknown = definition;
  if (typeof definition === 'string') {
    try {
      parsed = JSON.parse(definition);
    } catch (error) {
      throw new Error(`State machine definition is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isObject(parsed) || typeof parsed.StartAt !== 'string' || !isObject(parsed.States)) {
    throw new Error('State machine definition must be an object with "StartAt" and "States"');
  }
  return parsed as AslMachine;
}

/**
 * Step Functions' timestamp format (`$$.Execution.StartTime`, `$$.State.EnteredTime`): ISO 8601 in
 * UTC, with the milliseconds left out when they are zero (`2026-01-01T00:00:00Z`).
 */
export function sfnTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 date-time, as a Wait state's Timestamp/TimestampPath requires. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A deep copy of JSON data. Not structuredClone: its objects come from the host realm, which
 * aws-local-stepfunctions' plain-object checks reject when it runs in another realm (jest's vm).
 */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
