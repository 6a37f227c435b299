import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type DetailByType, type DetailTypeName } from '../../contracts/events.js';

/**
 * Puts Chartflow events on the bus. Typed by detail-type so that a publisher cannot send a detail
 * of the wrong shape. PutEvents reports per-entry failures in a 200 response: they are thrown, so
 * the caller's retry (SQS, Step Functions) puts the event again — delivery is at least once.
 */
export async function publish<T extends DetailTypeName>(
  client: EventBridgeClient,
  busName: string,
  detailType: T,
  detail: DetailByType[T],
): Promise<void> {
  const response = await client.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: busName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
    }),
  );
  if ((response.FailedEntryCount ?? 0) > 0) {
    const entry = response.Entries?.find((e) => e.ErrorCode);
    const error = new Error(`PutEvents failed: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    error.name = 'PutEventsFailed';
    throw error;
  }
}
