/**
 * JSON Schema (draft-04, the dialect the EventBridge schema registry accepts) of each event detail. Registered in the stack's EventBridge schema
 * registry and checked in tests against what the pipeline really emits. `additionalProperties:
 * false` everywhere: a new field is a deliberate, versioned change — and no text can slip in.
 */
import { DetailType, RejectReason, type DetailTypeName } from './events.js';

const isoTime = { type: 'string', format: 'date-time' } as const;
const id = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,80}$' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const s3Uri = { type: 'string', pattern: '^s3://[a-z0-9.-]{3,63}/.*$' } as const;
const version = { type: 'string', enum: ['1'] } as const;

function object(properties: Record<string, unknown>, optional: string[] = []) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  };
}

export const detailSchemas: Record<DetailTypeName, Record<string, unknown>> = {
  [DetailType.BatchSubmitted]: object(
    {
      version,
      batchId: id,
      documentCount: count,
      inputS3Uri: s3Uri,
      entitiesJobId: id,
      snomedJobId: id,
      submittedAt: isoTime,
    },
    ['entitiesJobId', 'snomedJobId'],
  ),
  [DetailType.BatchCompleted]: object({
    version,
    batchId: id,
    status: { type: 'string', enum: ['COMPLETED', 'PARTIAL_SUCCESS'] },
    documentCount: count,
    processedCount: count,
    unprocessedCount: count,
    entityCount: count,
    snomedConceptCount: count,
    identityRecordCount: count,
    matchingRunId: id,
    matchingJobId: id,
    outputs: {
      type: 'object',
      additionalProperties: false,
      required: ['entitiesS3Uri', 'snomedS3Uri', 'recordsS3Uri', 'matchesS3Uri'],
      properties: { entitiesS3Uri: s3Uri, snomedS3Uri: s3Uri, recordsS3Uri: s3Uri, matchesS3Uri: s3Uri },
    },
    completedAt: isoTime,
  }),
  [DetailType.BatchFailed]: object({
    version,
    batchId: id,
    error: { type: 'string', maxLength: 256 },
    cause: { type: 'string', maxLength: 2048 },
    inputS3Uri: s3Uri,
    failedAt: isoTime,
  }),
  [DetailType.DocumentRejected]: object({
    version,
    documentId: id,
    bucket: { type: 'string' },
    key: { type: 'string', maxLength: 1024 },
    versionId: { type: 'string' },
    reason: { type: 'string', enum: Object.values(RejectReason) },
    rejectedS3Uri: s3Uri,
    rejectedAt: isoTime,
  }),
  [DetailType.MatchingCompleted]: object(
    {
      version,
      runId: id,
      jobId: id,
      status: { type: 'string', enum: ['SUCCEEDED', 'FAILED'] },
      batchIds: { type: 'array', items: id },
      inputRecords: count,
      totalRecordsProcessed: count,
      recordsNotProcessed: count,
      matchIDs: count,
      errorMessage: { type: 'string', maxLength: 2048 },
      outputS3Uri: s3Uri,
      completedAt: isoTime,
    },
    ['errorMessage'],
  ),
};

/** The schema as the EventBridge schema registry wants it: draft-04, with its `$schema` marker. */
export const registrySchema = (detailType: DetailTypeName) => ({
  $schema: 'http://json-schema.org/draft-04/schema#',
  ...detailSchemas[detailType],
});
