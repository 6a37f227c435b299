import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATUS_INDEX } from '../../contracts/table.js';

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
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: STATUS_INDEX,
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
    });
  }
}
