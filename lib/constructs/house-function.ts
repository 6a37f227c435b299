import * as path from 'node:path';
import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The project root (where package.json lives): the CDK app and the tests both run from it. */
export const PROJECT_ROOT = process.cwd();

/** Template metadata key naming a function's handler source (read by local/runtime). */
export const ENTRY_METADATA_KEY = 'chartflow:entry';

export interface HouseFunctionProps {
  /** Folder under lambdas/ holding `handler.ts`. */
  readonly lambdaName: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly key: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** How every Lambda is bundled (also what `npm run bench` bundles and measures). */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  // Maps without the sources: stack traces still point at file:line, the map is ~60 % smaller.
  sourcesContent: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  // ESM bundles still meet CommonJS dependencies that call require().
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  externalModules: [] as string[],
} satisfies BundlingOptions;

/**
 * The one way Chartflow builds a Lambda function: Node.js 22 on arm64, an ESM bundle (minified,
 * source maps) built by the project's esbuild, an explicit KMS-encrypted log group with retention,
 * X-Ray tracing, and the Powertools environment. The handler is `lambdas/<name>/handler.ts`.
 */
export class HouseFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, allowed to write to its own log group only (instead of the managed
    // AWSLambdaBasicExecutionRole, which allows every log group of the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Chartflow ${props.lambdaName} function`,
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.function = new NodejsFunction(this, 'Function', {
      role: this.role,
      entry: path.join(PROJECT_ROOT, 'lambdas', props.lambdaName, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environmentEncryption: props.key,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
      environment: {
        POWERTOOLS_SERVICE_NAME: `chartflow-${props.lambdaName}`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: LAMBDA_BUNDLING,
    });
    // Tells the local runtime which source module this function runs (it runs sources, not bundles).
    (this.function.node.defaultChild as CfnResource).addMetadata(ENTRY_METADATA_KEY, `lambdas/${props.lambdaName}/handler.ts`);
  }
}
