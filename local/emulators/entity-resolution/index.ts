export { startEntityResolutionEmulator } from './server.js';
export type {
  EmulatorLogger,
  EntityResolutionEmulator,
  EntityResolutionEmulatorOptions,
  GlueTableDefinition,
  MatchingWorkflowDefinition,
  SchemaMappingDefinition,
} from './types.js';
export { INJECTED_FAILURE_MESSAGE, QUEUED_MS } from './service.js';
