import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../../clock.js';
import type { FaultSpec } from '../../faults.js';

/** CloudFormation `AWS::EntityResolution::MatchingWorkflow` properties, tokens already resolved. */
export interface MatchingWorkflowDefinition {
  WorkflowName: string;
  Description?: string;
  RoleArn: string;
  InputSourceConfig: Array<{ InputSourceARN: string; SchemaArn: string; ApplyNormalization?: boolean }>;
  OutputSourceConfig: Array<{
    OutputS3Path: string;
    KMSArn?: string;
    ApplyNormalization?: boolean;
    Output: Array<{ Name: string; Hashed?: boolean }>;
  }>;
  ResolutionTechniques: {
    ResolutionType: 'RULE_MATCHING';
    RuleBasedProperties: {
      Rules: Array<{ RuleName: string; MatchingKeys: string[] }>;
      AttributeMatchingModel: 'ONE_TO_ONE' | 'MANY_TO_MANY';
      MatchPurpose?: 'IDENTIFIER_GENERATION' | 'INDEXING';
    };
  };
}

/** `AWS::EntityResolution::SchemaMapping` properties plus the mapping's ARN. */
export interface SchemaMappingDefinition {
  arn: string;
  SchemaName: string;
  MappedInputFields: Array<{
    FieldName: string;
    Type: string;
    MatchKey?: string;
    GroupName?: string;
    SubType?: string;
    Hashed?: boolean;
  }>;
}

/** An `AWS::Glue::Table` over S3, resolved. */
export interface GlueTableDefinition {
  /** `arn:aws:glue:<region>:<account>:table/<database>/<table>` */
  arn: string;
  /** `s3://bucket/prefix/` */
  location: string;
  /** From the table's SerDe: OpenCSVSerde / LazySimpleSerDe with ',' -> csv; JsonSerDe -> json. */
  format: 'csv' | 'json';
  /** In file order. */
  columns: string[];
  /** The table parameter `skip.header.line.count` (per file). */
  skipHeaderLines: number;
}

/** Structured logging only: ids and counts, never record values. */
export interface EmulatorLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface EntityResolutionEmulatorOptions {
  s3: S3Client;
  clock: Clock;
  faults: FaultSpec;
  accountId: string;
  region: string;
  /** 0 or absent: any free port on 127.0.0.1. */
  port?: number;
  workflows: MatchingWorkflowDefinition[];
  schemaMappings: SchemaMappingDefinition[];
  glueTables: GlueTableDefinition[];
  /** Rows per output part file (default 10,000). */
  outputRowsPerFile?: number;
  /** Default: a Powertools logger at POWERTOOLS_LOG_LEVEL, else WARN. */
  logger?: EmulatorLogger;
}

export interface EntityResolutionEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Faults injected so far, by `--faults` name (`er.throttle`, `er.conflict`, ...). */
  faultCounts(): Record<string, number>;
  stop(): Promise<void>;
}
