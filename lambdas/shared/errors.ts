import { WorkflowError } from '../../contracts/workflow.js';

/**
 * Errors the cores throw by name: the state machine's Retry/Catch rules and SQS redelivery key on
 * `error.name` (see contracts/workflow.ts), so every named error is made here.
 */
export function namedError(name: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = name;
  return error;
}

/** The batch (or a document of it) is missing or in a state the caller cannot act on. */
export const batchStateError = (message: string) => namedError(WorkflowError.BatchStateError, message);

/** A Lambda was invoked with a payload that breaks the contract of contracts/workflow.ts. */
export const invalidInput = (message: string) => namedError('InvalidInput', message);

/** DynamoDB refused a conditional write (document clients and plain clients alike). */
export const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
