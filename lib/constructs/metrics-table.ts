import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../contracts/table.js';

/**
 * The one table of batches, per-document outcomes, matching runs and the matching lock (item
 * shapes in contracts/table.ts). On demand, point-in-time recovery, the data key, and a GSI to
 * ask "which batches are FAILED since Monday". (`Table`, not `TableV2`: V2 cannot render a
 * customer-managed key in a Region-agnostic stack, and cdk-nag checks PITR on `Table`.)
 */
export class MetricsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: { key: kms.IKey }) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.statusIndex.name,
      partitionKey: { name: TABLE_KEYS.statusIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.statusIndex.sortKey, type: dynamodb.AttributeType.STRING },
    });
  }
}
