import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FailError } from '../../contracts/workflow.js';
import type { PollSchedule } from '../config.js';

/**
 * The waits of a poll loop, precomputed: base, base×rate, base×rate², … capped at `capSeconds`,
 * as many as fit before the deadline. The last wait that crosses the deadline is included, so the
 * loop gives up only after at least `deadlineSeconds` of waiting.
 *
 * With `maxLagRatio` (ρ) a wait starting at `elapsed` also ends no later than
 * `(1 + ρ) × max(elapsed, lagBoundFromSeconds)`. So for a job ending at D ≥ lagBoundFromSeconds,
 * between polls t_k < D ≤ t_k+1: t_k+1 ≤ (1 + ρ) × max(t_k, lagBoundFrom) ≤ (1 + ρ) × D — it is
 * seen at most ρ × D late, while shorter jobs keep the cheaper backoff.
 */
export function pollWaits(schedule: PollSchedule): number[] {
  const waits: number[] = [];
  const ratio = schedule.maxLagRatio;
  const from = schedule.lagBoundFromSeconds ?? schedule.baseSeconds;
  let elapsed = 0;
  let next = schedule.baseSeconds;
  while (elapsed < schedule.deadlineSeconds) {
    let wait = Math.min(next, schedule.capSeconds);
    if (ratio !== undefined) wait = Math.min(wait, (1 + ratio) * Math.max(elapsed, from) - elapsed);
    // Floor, not round: rounding up could break the lag bound by a second.
    wait = Math.max(1, Math.floor(wait));
    waits.push(wait);
    elapsed += wait;
    next *= schedule.backoffRate;
  }
  return waits;
}

/** When each poll happens (seconds after the loop starts): the running sums of `pollWaits`. */
export function pollTimes(schedule: PollSchedule): number[] {
  let t = 0;
  return pollWaits(schedule).map((w) => (t += w));
}

export interface PolledJob {
  /** Names the job in state names when a loop follows several, e.g. `Entities`. */
  readonly label?: string;
  /** Calls the service's Describe/Get operation; puts its result where `statusPath` reads it. */
  readonly describe: sfn.TaskStateBase;
  /** JSONPath of the status string inside the state, e.g. `$.entitiesJob.ComprehendMedicalAsyncJobProperties.JobStatus`. */
  readonly statusPath: string;
  /** Statuses that fail the loop, each with its error name and the JSONPath of the service's message. */
  readonly failed: Array<{ status: string; error: string; causePath: string }>;
}

export interface JobPollerProps {
  /** The jobs followed by this loop: each poll describes all of them, one after the other. */
  readonly jobs: PolledJob[];
  /** Statuses that mean "still running": wait and ask again. */
  readonly pending: string[];
  /** Statuses that end the loop successfully (once every job has one). */
  readonly succeeded: string[];
  readonly schedule: PollSchedule;
  /**
   * Optional: a state that records the statuses (e.g. in DynamoDB), run each time one changes
   * while pending and once before a failure — so a recorded job is never left looking alive.
   */
  readonly onStatusChange?: (id: string) => sfn.IChainable & sfn.INextable;
  /** Optional: what the final Pass state keeps of the loop's results (parameters, at resultPath). */
  readonly output?: { parameters: Record<string, unknown>; resultPath: string };
}

/**
 * The one wait/describe loop of Chartflow (both Comprehend Medical jobs of a batch in one loop,
 * the Entity Resolution job, the wait for a matching turn). A poll costs 3 + n state transitions
 * for n jobs — Wait, one Describe per job, Choice and an Advance Pass that picks the next wait from
 * the precomputed schedule with intrinsics — and the schedule makes few polls (see `pollWaits`),
 * instead of the fixed-interval loops of public samples. It is bounded by the schedule's deadline
 * (`DeadlineExceeded`), Choice covers every status explicitly, and anything unexpected fails with
 * `UnknownJobStatus`.
 *
 * Loop state lives at `$.poll` ({ attempt, wait, last0, last1, … }) so it never collides with the
 * caller's data. Chain after the fragment to continue on success.
 */
export class JobPoller extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];
  readonly waits: number[];

  constructor(scope: Construct, id: string, props: JobPollerProps) {
    super(scope, id);
    const { jobs } = props;
    if (jobs.length === 0) throw new Error(`${id}: a poller needs at least one job`);
    if (jobs.length > 1 && jobs.some((j) => !j.label)) throw new Error(`${id}: jobs of a multi-job poller need labels`);
    this.waits = pollWaits(props.schedule);
    const lastIndex = this.waits.length - 1;
    const constant = this.waits.every((w) => w === this.waits[0]);
    // A constant schedule needs no array (a fixed 30 s poll for 30 days would be 86,400 items).
    const nextWait = constant
      ? { wait: this.waits[0] }
      : { 'wait.$': `States.ArrayGetItem(States.Array(${this.waits.join(', ')}), States.MathAdd($.poll.attempt, 1))` };
    const last = (i: number) => `$.poll.last${i}`;
    const name = (job: PolledJob, what: string) => (job.label ? `${id} ${job.label} ${what}` : `${id} ${what}`);

    const init = new sfn.Pass(this, `${id} Start`, {
      parameters: { attempt: 0, wait: this.waits[0], ...Object.fromEntries(jobs.map((_, i) => [`last${i}`, 'NONE'])) },
      resultPath: '$.poll',
    });
    const wait = new sfn.Wait(this, `${id} Wait`, { time: sfn.WaitTime.secondsPath('$.poll.wait') });
    const advance = new sfn.Pass(this, `${id} Advance`, {
      parameters: {
        'attempt.$': 'States.MathAdd($.poll.attempt, 1)',
        ...nextWait,
        ...Object.fromEntries(jobs.map((job, i) => [`last${i}.$`, job.statusPath])),
      },
      resultPath: '$.poll',
    });
    const choice = new sfn.Choice(this, `${id} Status`);
    const exit = new sfn.Pass(this, `${id} Done`, props.output ? { parameters: props.output.parameters, resultPath: props.output.resultPath } : {});

    const anyOf = (path: string, statuses: string[]) => sfn.Condition.or(...statuses.map((s) => sfn.Condition.stringEquals(path, s)));
    // 1. A failed job fails the loop at once (recorded first), whatever its siblings do.
    for (const job of jobs) {
      for (const failure of job.failed) {
        const fail = new sfn.Fail(this, name(job, failure.status), { error: failure.error, causePath: failure.causePath });
        const record = props.onStatusChange?.(`${id} Record ${job.label ? `${job.label} ` : ''}${failure.status}`);
        record?.next(fail);
        choice.when(sfn.Condition.stringEquals(job.statusPath, failure.status), record ?? fail);
      }
    }
    // 2. A status this loop does not know.
    const known = [...props.pending, ...props.succeeded];
    for (const job of jobs) {
      choice.when(
        sfn.Condition.not(anyOf(job.statusPath, known)),
        new sfn.Fail(this, name(job, 'Unknown Status'), { error: FailError.UnknownJobStatus, causePath: job.statusPath }),
      );
    }
    // 3. Every job done; else something is pending: 4. the deadline, 5. a change to record, 6. poll again.
    choice.when(sfn.Condition.and(...jobs.map((job) => anyOf(job.statusPath, props.succeeded))), exit);
    choice.when(
      sfn.Condition.numberGreaterThanEquals('$.poll.attempt', lastIndex),
      new sfn.Fail(this, `${id} Deadline`, {
        error: FailError.DeadlineExceeded,
        cause: `Still running after ${this.waits.reduce((a, b) => a + b, 0)} seconds of polling`,
      }),
    );
    if (props.onStatusChange) {
      const record = props.onStatusChange(`${id} Record Status`);
      choice.when(sfn.Condition.or(...jobs.map((job, i) => sfn.Condition.not(sfn.Condition.stringEqualsJsonPath(job.statusPath, last(i))))), record);
      record.next(advance);
    }
    choice.otherwise(advance);

    init.next(wait);
    wait.next(jobs[0]!.describe);
    jobs.forEach((job, i) => job.describe.next(jobs[i + 1]?.describe ?? choice));
    advance.next(wait);

    this.startState = init;
    this.endStates = [exit];
  }
}
