/**
 * An error answered on the wire as awsJson1_1 does: HTTP status and
 * `{"__type": "<Code>", "Message": "..."}`. Modeled errors take their status from the model;
 * the protocol-level ones (unknown operation, unreadable JSON) are listed here.
 */
import type { Model } from './model.js';

const PROTOCOL_ERROR_STATUS: Record<string, number> = {
  UnknownOperationException: 400,
  SerializationException: 400,
};

export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }

  status(model: Model): number {
    return model.errorStatus(this.code) ?? PROTOCOL_ERROR_STATUS[this.code] ?? 500;
  }

  body(): { __type: string; Message: string } {
    return { __type: this.code, Message: this.message };
  }
}

export const invalidRequest = (message: string) => new ServiceError('InvalidRequestException', message);
export const notFound = (message: string) => new ServiceError('ResourceNotFoundException', message);
export const tooManyRequests = (message: string) => new ServiceError('TooManyRequestsException', message);
export const internalError = (message: string) => new ServiceError('InternalServerException', message);
