import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { ChartflowStack, type ChartflowStackProps } from './chartflow-stack.js';
import { PROJECT_ROOT } from './constructs/house-function.js';

export const STACK_ID = 'Chartflow';

/**
 * Builds the Chartflow app exactly as `cdk synth` does — used by bin/chartflow.ts, the tests and
 * the local runtime, so all three see the same stack. cdk-nag's AwsSolutions and HIPAA Security
 * packs validate it; any unacknowledged finding fails synthesis.
 */
export function buildApp(appProps: AppProps = {}, stackProps: ChartflowStackProps = {}): { app: App; stack: ChartflowStack } {
  // Under the CDK CLI, cdk.json's context arrives through the environment; in-process (tests, the
  // local runtime) it is read here, so that every caller builds the very same stack.
  const fromCli = process.env.CDK_CONTEXT_JSON !== undefined;
  const context = fromCli ? appProps.context : { ...cdkJsonContext(), ...appProps.context };
  const app = new App({ ...appProps, context });
  const stack = new ChartflowStack(app, STACK_ID, {
    description: 'Chartflow: clinical notes -> Comprehend Medical -> patient linking -> events',
    ...stackProps,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return { app, stack };
}

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}
