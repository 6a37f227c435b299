/**
 * The parts of the Entity Resolution service model (entityresolution-2018-05-10) the emulator
 * enforces: error shapes and the member constraints of the emulated operations, with the wording
 * of AWS validation messages.
 */

/** Modeled errors and their HTTP statuses. */
export const ERROR_STATUS = {
  AccessDeniedException: 403,
  ConflictException: 400,
  ExceedsLimitException: 402,
  InternalServerException: 500,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  ValidationException: 400,
  /** Not modeled: what an AWS REST front end answers for a path/method of no operation. */
  UnknownOperationException: 404,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ServiceError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.status = ERROR_STATUS[code];
  }
}

export const ENTITY_NAME = { min: 1, max: 255, pattern: /^[a-zA-Z_0-9-]*$/, source: '^[a-zA-Z_0-9-]*$' };
export const JOB_ID = { pattern: /^[a-f0-9]{32}$/, source: '^[a-f0-9]{32}$' };
export const NEXT_TOKEN = { min: 1, max: 1024, pattern: /^[a-zA-Z_0-9-=+/]*$/, source: '^[a-zA-Z_0-9-=+/]*$' };
export const ROLE_ARN = { min: 32, max: 512, pattern: /^arn:aws:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/ };
export const S3_PATH = { min: 1, max: 1024, pattern: /^s3:\/\/[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](\/.*)?$/ };
export const KMS_ARN = { pattern: /^arn:aws:kms:.*:[0-9]+:.*$/ };
export const ATTRIBUTE_NAME = { max: 255, pattern: /^[a-zA-Z_0-9- \t]*$/ };
export const GLUE_TABLE_ARN = /^arn:(aws|aws-us-gov|aws-cn):glue:[a-z]{2}-[a-z]{1,10}-[0-9]:[0-9]{12}:(table\/[a-zA-Z_0-9-]{1,255}\/[a-zA-Z_0-9-]{1,255})$/;
export const SCHEMA_MAPPING_ARN = /^arn:(aws|aws-us-gov|aws-cn):entityresolution:[a-z]{2}-[a-z]{1,10}-[0-9]:[0-9]{12}:schemamapping\/([a-zA-Z_0-9-]{1,255})$/;
/** Column names the output uses; input fields may not take them. */
export const RESERVED_NAMES = ['EmailAddress', 'InputSourceARN', 'MatchRule', 'MatchID', 'HashingProtocol', 'ConfidenceLevel', 'Source'];

/** Collects constraint violations and throws one ValidationException, as AWS reports them. */
export class Validator {
  private readonly errors: string[] = [];

  private fail(value: unknown, member: string, constraint: string): void {
    const shown = value === undefined ? 'null' : String(value);
    this.errors.push(`Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  string(
    member: string,
    value: string | undefined,
    c: { required?: boolean; min?: number; max?: number; pattern?: RegExp; source?: string },
  ): void {
    if (value === undefined) {
      if (c.required) this.fail(value, member, 'Member must not be null');
      return;
    }
    if (c.min !== undefined && value.length < c.min) this.fail(value, member, `Member must have length greater than or equal to ${c.min}`);
    if (c.max !== undefined && value.length > c.max) this.fail(value, member, `Member must have length less than or equal to ${c.max}`);
    if (c.pattern && !c.pattern.test(value)) {
      this.fail(value, member, `Member must satisfy regular expression pattern: ${c.source ?? c.pattern.source}`);
    }
  }

  integer(member: string, value: number | undefined, c: { min?: number; max?: number }): void {
    if (value === undefined) return;
    if (c.min !== undefined && value < c.min) this.fail(value, member, `Member must have value greater than or equal to ${c.min}`);
    if (c.max !== undefined && value > c.max) this.fail(value, member, `Member must have value less than or equal to ${c.max}`);
  }

  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw new ServiceError('ValidationException', `${n} validation error${n > 1 ? 's' : ''} detected: ${this.errors.join('; ')}`);
  }
}

/** An httpQuery integer: absent, or digits only (anything else cannot be deserialized). */
export function queryInteger(member: string, raw: string | null): number | undefined {
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new ServiceError('ValidationException', `1 validation error detected: Value '${raw}' at '${member}' failed to satisfy constraint: Member must be an integer`);
  }
  return Number(raw);
}
