import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
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
  readonly archive: events.Archive;

  constructor(scope: Construct, id: string, props: { key: kms.IKey; archiveRetentionDays: number }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { kmsKey: props.key, description: 'Chartflow batch and document events' });
    this.archive = this.bus.archive('Archive', {
      description: 'Every Chartflow event, for replay',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(props.archiveRetentionDays),
      kmsKey: props.key,
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
