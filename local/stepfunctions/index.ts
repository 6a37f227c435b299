/** The local Step Functions of Chartflow's offline runtime (see engine.ts for the design). */
export { LocalStepFunctions, StepFunctionsError, matchRetrier, retryDelayMs } from './engine.js';
export type {
  CreateStateMachineInput,
  ExecutionEventNotice,
  ExecutionStats,
  GetExecutionHistoryInput,
  ListExecutionsInput,
  LocalStepFunctionsOptions,
  StartExecutionInput,
  StepFunctionsErrorCode,
  StepFunctionsLogger,
} from './engine.js';
export { VirtualScheduler, SleepCancelledError } from './scheduler.js';
export type { VirtualSchedulerOptions } from './scheduler.js';
export { TaskRouter, TaskFailure, UnsupportedResourceError, describeResource, lambdaFailure } from './task-router.js';
export type { ResourceInfo, StartExecutionRequest, TaskHandler, TaskRouterOptions } from './task-router.js';
export { assertSupportedDefinition, findUnsupportedFeatures, UnsupportedDefinitionError } from './validate.js';
export type { DefinitionProblem } from './validate.js';
export { startStepFunctionsEndpoint } from './endpoint.js';
export type { StartEndpointOptions, StepFunctionsEndpoint } from './endpoint.js';
export { parseDefinition, sfnTimestamp, walkStates } from './asl.js';
export type { AslMachine, AslState, JsonObject, JsonValue, Retrier } from './asl.js';
