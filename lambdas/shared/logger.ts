import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger of every function. Structured JSON; callers append ids with
 * `logger.appendKeys({ batchId })` and never log document text, tokens or identity values.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'chartflow' });
export type AppLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug' | 'appendKeys'>;
