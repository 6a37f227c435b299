import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { ChartflowStack, type ChartflowStackProps } from './chartflow-stack.js';

export const STACK_ID = 'Chartflow';

/**
 * Builds the Chartflow app exactly as `cdk synth` does — used by bin/chartflow.ts, the tests and
 * the local runtime, so all three see the same stack. cdk-nag's AwsSolutions and HIPAA Security
 * packs validate it; any unacknowledged finding fails synthesis.
 */
export function buildApp(appProps: AppProps = {}, stackProps: ChartflowStackProps = {}): { app: App; stack: ChartflowStack } {
  const app = new App(appProps);
  const stack = new ChartflowStack(app, STACK_ID, {
    description: 'Chartflow: clinical notes -> Comprehend Medical -> patient linking -> events',
    ...stackProps,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return { app, stack };
}
