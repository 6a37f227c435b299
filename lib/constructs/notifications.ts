import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../../contracts/events.js';
import { registrySchema } from '../../contracts/event-schemas.js';

/**
 * Chartflow's public interface: a custom bus (encrypted with the data key), an archive of every
 * Chartflow event for replay, and a schema registry holding the JSON Schema of each detail-type —
 * the same schemas the tests check the emitted events against.
 */
export class Notifications extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.CfnArchive;

  constructor(scope: Construct, id: string, props: { key: kms.IKey; archiveRetentionDays: number }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { kmsKey: props.key, description: 'Chartflow batch and document events' });
    // The archive holds every event for a year: it must use the data key too. Neither
    // `bus.archive()` (drops `kmsKey` in aws-cdk-lib 2.273) nor `new events.Archive({ kmsKey })`
    // (its key policy names the bus by GetAtt: key -> bus -> key, a cycle) can do it, so the
    // archive is declared here and the key policy names the bus by its synthesized name.
    const busName = (this.bus.node.defaultChild as events.CfnEventBus).name;
    const busArn = Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: busName });
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeArchivesThisBus',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn } },
    }));
    // DescribeKey carries no encryption context: checked when the archive is created.
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeDescribesTheArchiveKey',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
    this.archive = new events.CfnArchive(new Construct(this.bus, 'Archive'), 'Archive', {
      sourceArn: this.bus.eventBusArn,
      description: 'Every Chartflow event, for replay',
      eventPattern: { source: [EVENT_SOURCE] },
      retentionDays: Duration.days(props.archiveRetentionDays).toDays(),
      kmsKeyIdentifier: props.key.keyArn,
    });

    const registry = new eventschemas.CfnRegistry(this, 'Schemas', { description: 'Chartflow event details' });
    for (const detailType of Object.values(DetailType)) {
      const schema = new eventschemas.CfnSchema(this, `Schema${detailType.replace(/\s+/g, '')}`, {
        registryName: registry.attrRegistryName,
        schemaName: `${EVENT_SOURCE}@${detailType.replace(/\s+/g, '')}`,
        type: 'JSONSchemaDraft4',
        description: `Detail of "${detailType}" events`,
        content: JSON.stringify(registrySchema(detailType)),
      });
      schema.applyRemovalPolicy(RemovalPolicy.DESTROY);
    }
  }
}
