/**
 * Environment variables the stack sets on the Lambdas. Handlers read them (through
 * lambdas/shared/env.ts) and pass plain values to the cores; cores never read process.env.
 */
export const Env = {
  TableName: 'TABLE_NAME',
  DocumentsBucket: 'DOCUMENTS_BUCKET',
  EventBusName: 'EVENT_BUS_NAME',
  BatchStateMachineArn: 'BATCH_STATE_MACHINE_ARN',
  /** The role Comprehend Medical assumes to read inputs and write outputs. */
  DataAccessRoleArn: 'COMPREHEND_DATA_ACCESS_ROLE_ARN',
  /** The KMS key Comprehend Medical encrypts its outputs with. */
  KmsKeyArn: 'KMS_KEY_ARN',
  /** Per-file limit of Comprehend Medical in bytes (70 KB). */
  MaxDocumentBytes: 'MAX_DOCUMENT_BYTES',
  /** The largest number of documents in one batch (the SQS batch size). */
  MaxBatchDocuments: 'MAX_BATCH_DOCUMENTS',
  MatchingWorkflowName: 'MATCHING_WORKFLOW_NAME',
  /** How long a matching lock lives without its owner (seconds); beyond, another batch may take it. */
  MatchingLockSeconds: 'MATCHING_LOCK_SECONDS',
  /** Local runtime only: `<function>:<step>` crash points for fault injection (see local/faults.ts). */
  CrashAt: 'CHARTFLOW_CRASH_AT',
} as const;
