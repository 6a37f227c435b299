import { randomBytes } from 'node:crypto';

/**
 * A time-sortable, PHI-free id: `20260101T000000123Z-<hex>`. Valid as a Step Functions execution
 * name, a Comprehend Medical job name part and a client request token ([A-Za-z0-9-]).
 */
export function timeSortableId(now: Date, randomByteCount: number): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(randomByteCount).toString('hex')}`;
}
