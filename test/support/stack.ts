import { Template } from 'aws-cdk-lib/assertions';
import type { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app.js';
import type { ChartflowConfig } from '../../lib/config.js';
import type { ChartflowStack } from '../../lib/chartflow-stack.js';

export interface SynthesizedStack {
  app: App;
  stack: ChartflowStack;
  template: Template;
}

/** The real app, without bundling (halves the time; the bundles are checked by `cdk synth` in CI). */
export function synthesize(config: Partial<ChartflowConfig> = {}, context: Record<string, unknown> = {}): SynthesizedStack {
  const { app, stack } = buildApp({ context: { 'aws:cdk:bundling-stacks': [], ...context } }, { config });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Pseudo parameters as a test deployment would see them. */
const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com' };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Turns CloudFormation intrinsics into readable strings: `{Ref: X}` -> `${X}`, `{Fn::GetAtt: [X, Arn]}` -> `${X.Arn}`, joins concatenated. */
export function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Ref' in value) return PSEUDO[String(value.Ref)] ?? `\${${String(value.Ref)}}`;
    if ('Fn::GetAtt' in value) return `\${${(value['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map(flatten).join(sep);
    }
  }
  return JSON.stringify(value);
}

/** The batch state machine's definition, parsed (DefinitionString is an Fn::Join as soon as it holds an ARN). */
export function batchDefinition(template: Template): AslDefinition {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  if (!machine) throw new Error('no state machine in the template');
  return JSON.parse(flatten(machine.Properties.DefinitionString as Json)) as AslDefinition;
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number; JitterStrategy?: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Choices?: Array<Record<string, unknown>>;
  Default?: string;
  Branches?: AslDefinition[];
  SecondsPath?: string;
  Error?: string;
  Cause?: string;
  CausePath?: string;
  [key: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

/** Every state of a definition, including those inside Parallel branches, by name. */
export function allStates(definition: AslDefinition): Record<string, AslState> {
  const states: Record<string, AslState> = {};
  const walk = (d: AslDefinition) => {
    for (const [name, state] of Object.entries(d.States)) {
      states[name] = state;
      for (const branch of state.Branches ?? []) walk(branch);
    }
  };
  walk(definition);
  return states;
}
