import { Aws, Names, Stack } from 'aws-cdk-lib';
import * as entityresolution from 'aws-cdk-lib/aws-entityresolution';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IDENTITY_COLUMNS, Prefix } from '../../contracts/layout.js';

/**
 * Patient linking: a Glue table over the identity records under `records/` (one CSV per batch,
 * written by collect-results), an Entity Resolution schema mapping, and a rule-based matching
 * workflow writing to `matches/` with the data key. Rules run from most to least precise; a
 * record's MatchRule says which one linked it.
 */
export const MATCHING_RULES = [
  { ruleName: 'MedicalRecordNumber', matchingKeys: ['mrn'] },
  { ruleName: 'NameAndDateOfBirth', matchingKeys: ['name', 'dob'] },
  { ruleName: 'NameAndPhone', matchingKeys: ['name', 'phone'] },
  { ruleName: 'Email', matchingKeys: ['email'] },
] as const;

/** How each identity column is understood by Entity Resolution. */
const FIELDS: Record<(typeof IDENTITY_COLUMNS)[number], { type: string; matchKey?: string }> = {
  record_id: { type: 'UNIQUE_ID' },
  batch_id: { type: 'STRING' },
  full_name: { type: 'NAME', matchKey: 'name' },
  date_of_birth: { type: 'DATE', matchKey: 'dob' },
  phone: { type: 'PHONE', matchKey: 'phone' },
  email: { type: 'EMAIL_ADDRESS', matchKey: 'email' },
  address: { type: 'ADDRESS', matchKey: 'address' },
  mrn: { type: 'STRING', matchKey: 'mrn' },
};

export class Matching extends Construct {
  readonly workflowName: string;
  readonly workflowArn: string;
  readonly role: iam.Role;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly workflow: entityresolution.CfnMatchingWorkflow;

  constructor(scope: Construct, id: string, props: { bucket: s3.IBucket; key: kms.IKey }) {
    super(scope, id);
    const glueName = (suffix: string) => Names.uniqueResourceName(this, { maxLength: 60 }).toLowerCase().replace(/[^a-z0-9]/g, '_') + suffix;
    const databaseName = glueName('_db');
    const tableName = 'identity_records';
    this.workflowName = Names.uniqueResourceName(this, { maxLength: 200, allowedSpecialCharacters: '-_' }) + '-patients';
    this.workflowArn = Stack.of(this).formatArn({ service: 'entityresolution', resource: 'matchingworkflow', resourceName: this.workflowName });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: databaseName, description: 'Chartflow patient identity records' },
    });
    this.table = new glue.CfnTable(this, 'IdentityRecords', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName,
      tableInput: {
        name: tableName,
        description: 'One row per processed document: the PHI that identifies its patient',
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'csv', 'skip.header.line.count': '1', has_encrypted_data: 'true' },
        storageDescriptor: {
          location: `s3://${props.bucket.bucketName}/${Prefix.records}`,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
            parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '\\' },
          },
          columns: IDENTITY_COLUMNS.map((name) => ({ name, type: 'string' })),
        },
      },
    });
    this.table.addResourceDependency(this.database);
    const tableArn = Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${tableName}` });

    this.role = new iam.Role(this, 'WorkflowRole', {
      assumedBy: new iam.ServicePrincipal('entityresolution.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Entity Resolution reads identity records and writes matches',
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:GetSchema', 'glue:GetSchemaVersion', 'glue:BatchGetPartition'],
      resources: [
        Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' }),
        Stack.of(this).formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
        tableArn,
      ],
    }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(`${Prefix.records}*`)] }));
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resources: [props.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${Prefix.records}*`, `${Prefix.matches}*`] } },
    }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [props.bucket.arnForObjects(`${Prefix.matches}*`)] }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.key.keyArn] }));

    const schema = new entityresolution.CfnSchemaMapping(this, 'SchemaMapping', {
      schemaName: Names.uniqueResourceName(this, { maxLength: 200, allowedSpecialCharacters: '-_' }) + '-identity',
      description: 'Patient identity fields found by Comprehend Medical',
      mappedInputFields: IDENTITY_COLUMNS.map((name) => ({ fieldName: name, type: FIELDS[name].type, matchKey: FIELDS[name].matchKey })),
    });

    this.workflow = new entityresolution.CfnMatchingWorkflow(this, 'Workflow', {
      workflowName: this.workflowName,
      description: 'Links documents of the same patient (rule-based)',
      roleArn: this.role.roleArn,
      inputSourceConfig: [{ inputSourceArn: tableArn, schemaArn: schema.attrSchemaArn, applyNormalization: true }],
      outputSourceConfig: [{
        outputS3Path: `s3://${props.bucket.bucketName}/${Prefix.matches}`,
        kmsArn: props.key.keyArn,
        applyNormalization: true,
        output: [{ name: 'record_id' }, { name: 'batch_id' }],
      }],
      resolutionTechniques: {
        resolutionType: 'RULE_MATCHING',
        ruleBasedProperties: {
          attributeMatchingModel: 'ONE_TO_ONE',
          matchPurpose: 'IDENTIFIER_GENERATION',
          rules: MATCHING_RULES.map((r) => ({ ruleName: r.ruleName, matchingKeys: [...r.matchingKeys] })),
        },
      },
    });
    this.workflow.addResourceDependency(this.table);
    this.workflow.node.addDependency(this.role);
  }
}
