import { Logger } from '@aws-lambda-powertools/logger';
import { IDENTITY_COLUMNS } from '../../contracts/layout.js';

/**
 * Keys under which document text or identity values travel: S3 bodies, Comprehend Medical entity
 * `Text`, the identity-record columns. Their values never reach a log line, whatever object a
 * caller passes (a safety net: callers log ids and counts only).
 */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'Body', 'body', 'Text', 'text', 'Content', 'content',
  ...IDENTITY_COLUMNS.filter((c) => c !== 'record_id' && c !== 'batch_id'),
]);
export const REDACTED = '[redacted]';

/** The JSON replacer of every log line: see REDACTED_KEYS. */
export function redactPhi(key: string, value: unknown): unknown {
  return REDACTED_KEYS.has(key) && value !== undefined && value !== null ? REDACTED : value;
}

/**
 * The one logger of every function. Structured JSON; callers append ids with
 * `logger.appendKeys({ batchId })` and never log document text, tokens or identity values.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'chartflow', jsonReplacerFn: redactPhi });
export type AppLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug' | 'appendKeys'>;
