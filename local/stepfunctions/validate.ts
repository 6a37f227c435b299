/**
 * Refuses state machine definitions that aws-local-stepfunctions 3.0.0 would run wrongly without a
 * word: it ignores JSONata, variables (`Assign`), the JSONata-only fields, Distributed Map and the
 * `.sync` / `.waitForTaskToken` integration patterns, so a definition using them "succeeds" with a
 * different meaning. Chartflow's workflows are JSONPath only; anything else stops here with the
 * state named.
 */
import { walkStates, type AslMachine, type AslState } from './asl.js';

export interface DefinitionProblem {
  /** The state concerned, or null for a top-level field. */
  state: string | null;
  reason: string;
}

export class UnsupportedDefinitionError extends Error {
  constructor(readonly problems: DefinitionProblem[]) {
    super(
      'The local Step Functions cannot run this definition faithfully (JSONPath only, inline Map, ' +
        'request-response and Lambda integrations):\n' +
        problems.map((p) => ` - ${p.state === null ? 'definition' : `state "${p.state}"`}: ${p.reason}`).join('\n'),
    );
    this.name = 'UnsupportedDefinitionError';
  }
}

const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Items'] as const;
const DISTRIBUTED_MAP_FIELDS = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `$name` (a variable) rather than `$`, `$.x`, `$[0]` or `$$.x`. */
const isVariableReference = (path: string): boolean => /^\$[A-Za-z_]/.test(path);

/** Walks a payload template (Parameters, ResultSelector, ItemSelector) for variable references. */
function templateVariables(template: unknown, found: string[]): void {
  if (Array.isArray(template)) {
    for (const item of template) templateVariables(item, found);
    return;
  }
  if (!isObject(template)) return;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      // A path, or an intrinsic function whose arguments may be paths (quoted literals skipped).
      const unquoted = value.replace(/'(?:[^'\\]|\\.)*'/g, "''");
      for (const match of unquoted.matchAll(/(?:^|[\s(,])(\$[A-Za-z_][\w]*)/g)) if (match[1]) found.push(match[1]);
    } else {
      templateVariables(value, found);
    }
  }
}

function stateProblems(name: string, state: AslState): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const add = (reason: string) => problems.push({ state: name, reason });

  if (state.QueryLanguage === 'JSONata') add('JSONata (QueryLanguage: "JSONata") is not supported');
  if ('Assign' in state) add('variables ("Assign") are not supported');
  for (const field of JSONATA_ONLY_FIELDS) {
    if (field in state) add(`"${field}" is a JSONata field and is not supported`);
  }
  for (const field of ['Choices', 'Catch'] as const) {
    const rules = state[field];
    if (!Array.isArray(rules)) continue;
    for (const rule of rules) {
      if (isObject(rule) && 'Assign' in rule) add(`variables ("Assign" in ${field}) are not supported`);
      if (isObject(rule) && 'Condition' in rule) add('JSONata choice rules ("Condition") are not supported');
      if (isObject(rule) && 'Output' in rule) add(`"Output" in ${field} is a JSONata field and is not supported`);
    }
  }

  if (state.Type === 'Map') {
    for (const field of DISTRIBUTED_MAP_FIELDS) {
      if (field in state) add(`Distributed Map ("${field}") is not supported`);
    }
    const mode = state.ItemProcessor?.ProcessorConfig?.Mode;
    if (mode === 'DISTRIBUTED') add('Distributed Map (ProcessorConfig.Mode: DISTRIBUTED) is not supported');
  }

  if (state.Type === 'Task' && typeof state.Resource === 'string') {
    const resource = state.Resource;
    if (/\.sync(:\d+)?$/.test(resource)) add(`the ".sync" integration pattern is not supported (${resource})`);
    if (resource.endsWith('.waitForTaskToken')) add(`the ".waitForTaskToken" integration pattern is not supported (${resource})`);
  }

  const variables: string[] = [];
  for (const field of ['Parameters', 'ResultSelector', 'ItemSelector'] as const) templateVariables(state[field], variables);
  for (const [field, value] of Object.entries(state)) {
    if (field.endsWith('Path') && typeof value === 'string' && isVariableReference(value)) variables.push(value);
  }
  if (Array.isArray(state.Choices)) {
    const visitRule = (rule: unknown): void => {
      if (!isObject(rule)) return;
      for (const [field, value] of Object.entries(rule)) {
        if ((field === 'Variable' || field.endsWith('Path')) && typeof value === 'string' && isVariableReference(value)) variables.push(value);
        if (field === 'And' || field === 'Or') (Array.isArray(value) ? value : []).forEach(visitRule);
        if (field === 'Not') visitRule(value);
      }
    };
    state.Choices.forEach(visitRule);
  }
  if (variables.length > 0) add(`variable references (${[...new Set(variables)].join(', ')}) are not supported`);
  return problems;
}

/** Everything in the definition the local engine would silently mis-run; empty when it is fine. */
export function findUnsupportedFeatures(definition: AslMachine): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  if (definition.QueryLanguage === 'JSONata') {
    problems.push({ state: null, reason: 'JSONata (QueryLanguage: "JSONata") is not supported' });
  }
  const seen = new Map<string, number>();
  for (const { name, state } of walkStates(definition)) {
    problems.push(...stateProblems(name, state));
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  // Local overrides are keyed by state name, so a name must mean one state (as AWS requires).
  for (const [name, count] of seen) {
    if (count > 1) problems.push({ state: name, reason: `the state name is used ${count} times; state names must be unique` });
  }
  return problems;
}

/** Throws an `UnsupportedDefinitionError` naming every offending state. */
export function assertSupportedDefinition(definition: AslMachine): void {
  const problems = findUnsupportedFeatures(definition);
  if (problems.length > 0) throw new UnsupportedDefinitionError(problems);
}
