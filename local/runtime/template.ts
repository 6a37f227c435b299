/**
 * The synthesized stack as the local runtime sees it: the CDK app built in-process (the very app
 * `cdk deploy` ships), its CloudFormation template, and a resolver that turns the template's
 * intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, pseudo parameters) into local names and ARNs.
 */
import { buildApp } from '../../lib/app.js';
import type { ChartflowConfig } from '../../lib/config.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

export interface LocalEnvironment {
  accountId: string;
  region: string;
}

/**
 * Synthesizes the app in-process, without bundling (the local runtime runs the handler sources). `context` overrides cdk.json's values, as
 * `cdk deploy -c chartflow:<name>=<value>` would (benchmarks and tests use it to vary the config).
 */
export function synthesizeStack(context: Record<string, unknown> = {}): { template: CfnTemplate; config: ChartflowConfig; stackName: string } {
  const { app, stack } = buildApp({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  return { template: artifact.template as CfnTemplate, config: stack.config, stackName: stack.stackName };
}

const localName = (logicalId: string, max = 63) => `chartflow-${logicalId.toLowerCase()}`.slice(0, max).replace(/[^a-z0-9-]/g, '-');

export class TemplateResolver {
  constructor(readonly template: CfnTemplate, readonly env: LocalEnvironment) {}

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`The template has no resource ${logicalId}`);
    return resource;
  }

  /** Logical ids of the resources of a type, in template order. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type).map(([id]) => id);
  }

  /** What `Ref` returns for a resource, locally. */
  ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': this.env.accountId,
      'AWS::Region': this.env.region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'Chartflow',
      'AWS::NoValue': '',
    };
    if (logicalId in pseudo) return pseudo[logicalId]!;
    const resource = this.resource(logicalId);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::S3::Bucket': return localName(logicalId);
      case 'AWS::SQS::Queue': return `http://sqs.local/${this.env.accountId}/${logicalId}`;
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return this.arn(logicalId);
      case 'AWS::Events::EventBus': return typeof props.Name === 'string' ? props.Name : logicalId;
      case 'AWS::Glue::Database': return String((props.DatabaseInput as Record<string, Json> | undefined)?.Name ?? logicalId);
      case 'AWS::KMS::Key': return `${logicalId.toLowerCase()}-0000-0000-0000-000000000000`.slice(0, 36);
      default: return logicalId;
    }
  }

  arn(logicalId: string): string {
    const { accountId: a, region: r } = this.env;
    const resource = this.resource(logicalId);
    const props = resource.Properties ?? {};
    const refIsArn = resource.Type === 'AWS::StepFunctions::StateMachine' || resource.Type === 'AWS::SNS::Topic';
    const name = refIsArn ? logicalId : this.ref(logicalId);
    switch (resource.Type) {
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${name}`;
      case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${r}:${a}:table/${name}`;
      case 'AWS::SQS::Queue': return `arn:aws:sqs:${r}:${a}:${logicalId}`;
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${r}:${a}:function:${name}`;
      case 'AWS::IAM::Role': return `arn:aws:iam::${a}:role/${name}`;
      case 'AWS::KMS::Key': return `arn:aws:kms:${r}:${a}:key/${name}`;
      case 'AWS::Events::EventBus': return `arn:aws:events:${r}:${a}:event-bus/${name}`;
      case 'AWS::Events::Archive': return `arn:aws:events:${r}:${a}:archive/${logicalId}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${r}:${a}:stateMachine:${logicalId}`;
      case 'AWS::SNS::Topic': return `arn:aws:sns:${r}:${a}:${logicalId}`;
      case 'AWS::Logs::LogGroup': return `arn:aws:logs:${r}:${a}:log-group:${logicalId}:*`;
      case 'AWS::EntityResolution::SchemaMapping': return `arn:aws:entityresolution:${r}:${a}:schemamapping/${String(props.SchemaName)}`;
      case 'AWS::EntityResolution::MatchingWorkflow': return `arn:aws:entityresolution:${r}:${a}:matchingworkflow/${String(props.WorkflowName)}`;
      default: return `arn:aws:local:${r}:${a}:${logicalId}`;
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    if (attribute === 'Arn' || attribute.endsWith('Arn')) {
      if (resource.Type === 'AWS::KMS::Key' || attribute === 'Arn' || attribute === 'SchemaArn' || attribute === 'WorkflowArn') return this.arn(logicalId);
    }
    if (attribute === 'Name' || attribute === 'RegistryName') return this.ref(logicalId);
    if (attribute === 'QueueUrl') return this.ref(logicalId);
    if (attribute === 'QueueName') return logicalId;
    if (attribute === 'KeyId') return this.ref(logicalId);
    return `${logicalId}.${attribute}`;
  }

  /** Resolves every intrinsic inside a value. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = value[key]!;
      switch (key) {
        case 'Ref': return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.getAtt(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (vars && name in vars) return String(this.resolve(vars[name]!));
            return name.includes('.') ? this.getAtt(name.split('.')[0]!, name.split('.').slice(1).join('.')) : this.ref(name);
          });
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, Json];
          return (this.resolve(list) as Json[])[Number(index)] ?? null;
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, Json];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::GetAZs': return [`${this.env.region}a`];
        default: break;
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  /** A resource's properties with every intrinsic resolved. */
  properties(logicalId: string): Record<string, Json> {
    return this.resolve(this.resource(logicalId).Properties ?? {}) as Record<string, Json>;
  }
}
