/**
 * start-jobs core: the state machine's first step when the ingest could not start the detection
 * jobs (throttled, or another caller held the lease). Errors keep their names
 * (DetectionJobsThrottled, DetectionJobsUnavailable, JobStartInProgress, BatchStateError) for the definition's Retry/Catch.
 */
import { WorkflowError, type StartJobsInput, type StartJobsOutput } from '../../contracts/workflow.js';
import { BATCH_ID_PATTERN, ensureDetectionJobs, type DetectionJobsDeps } from '../shared/detection-jobs.js';
import { namedError } from '../shared/errors.js';

export async function startJobs(input: StartJobsInput, deps: DetectionJobsDeps): Promise<StartJobsOutput> {
  const batchId: unknown = (input as Partial<StartJobsInput> | null | undefined)?.batchId;
  if (typeof batchId !== 'string' || !BATCH_ID_PATTERN.test(batchId)) {
    throw namedError(WorkflowError.BatchStateError, 'start-jobs expects { batchId } with a valid batch id');
  }
  deps.logger.appendKeys({ batchId });
  const jobs = await ensureDetectionJobs(batchId, deps);
  deps.logger.info('detection jobs ready', { ...jobs });
  return jobs;
}
