import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FailError } from '../../contracts/workflow.js';
import type { PollSchedule } from '../config.js';

/**
 * The waits of a poll loop, precomputed: base, base×rate, base×rate², … capped at `capSeconds`,
 * as many as fit before the deadline. The last wait that crosses the deadline is included, so the
 * loop gives up only after at least `deadlineSeconds` of waiting.
 */
export function pollWaits(schedule: PollSchedule): number[] {
  const waits: number[] = [];
  let elapsed = 0;
  let next = schedule.baseSeconds;
  while (elapsed < schedule.deadlineSeconds) {
    const wait = Math.max(1, Math.round(Math.min(next, schedule.capSeconds)));
    waits.push(wait);
    elapsed += wait;
    next *= schedule.backoffRate;
  }
  return waits;
}

export interface JobPollerProps {
  /** Calls the service's Describe/Get operation; its result must land at `resultPath`. */
  readonly describe: sfn.TaskStateBase;
  /** Where `describe` puts its result, e.g. `$.job`. */
  readonly resultPath: string;
  /** JSONPath of the status string inside the state, e.g. `$.job.ComprehendMedicalAsyncJobProperties.JobStatus`. */
  readonly statusPath: string;
  /** Statuses that mean "still running": wait and ask again. */
  readonly pending: string[];
  /** Statuses that end the loop successfully. */
  readonly succeeded: string[];
  /** Statuses that fail the loop, each with its error name and the JSONPath of the service's message. */
  readonly failed: Array<{ status: string; error: string; causePath: string }>;
  readonly schedule: PollSchedule;
  /**
   * Optional: a state that records the status (e.g. in DynamoDB), run each time it changes while
   * pending and once before a failure — so a recorded job is never left looking alive.
   */
  readonly onStatusChange?: (id: string) => sfn.IChainable & sfn.INextable;
}

/**
 * The one wait/describe loop of Chartflow (Comprehend Medical jobs, Entity Resolution jobs, the
 * wait for a matching turn). Per poll it costs four state transitions — Wait, Describe, Choice and
 * an Advance Pass that picks the next wait from the precomputed schedule with intrinsics — instead
 * of the fixed-interval loops of public samples, which cost the same per poll but poll far more
 * often. It is bounded by the schedule's deadline (`DeadlineExceeded`), Choice covers every
 * status explicitly, and anything unexpected fails with `UnknownJobStatus`.
 *
 * Loop state lives at `$.poll` ({ attempt, wait, lastStatus }) so it never collides with the
 * caller's data. Chain after the fragment to continue on success.
 */
export class JobPoller extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];
  readonly waits: number[];
  private readonly succeededChoice: sfn.Choice;
  private readonly exit: sfn.Pass;

  constructor(scope: Construct, id: string, props: JobPollerProps) {
    super(scope, id);
    this.waits = pollWaits(props.schedule);
    const schedule = `States.Array(${this.waits.join(', ')})`;
    const lastIndex = this.waits.length - 1;

    const init = new sfn.Pass(this, `${id} Start`, {
      parameters: { attempt: 0, wait: this.waits[0], lastStatus: 'NONE' },
      resultPath: '$.poll',
    });
    const wait = new sfn.Wait(this, `${id} Wait`, { time: sfn.WaitTime.secondsPath('$.poll.wait') });
    const advance = new sfn.Pass(this, `${id} Advance`, {
      parameters: {
        'attempt.$': 'States.MathAdd($.poll.attempt, 1)',
        'wait.$': `States.ArrayGetItem(${schedule}, States.MathAdd($.poll.attempt, 1))`,
        'lastStatus.$': props.statusPath,
      },
      resultPath: '$.poll',
    });
    const choice = new sfn.Choice(this, `${id} Status`);
    this.succeededChoice = choice;
    this.exit = new sfn.Pass(this, `${id} Done`);

    for (const failure of props.failed) {
      const fail = new sfn.Fail(this, `${id} ${failure.status}`, { error: failure.error, causePath: failure.causePath });
      const record = props.onStatusChange?.(`${id} Record ${failure.status}`);
      record?.next(fail);
      choice.when(sfn.Condition.stringEquals(props.statusPath, failure.status), record ?? fail);
    }
    const isSucceeded = sfn.Condition.or(...props.succeeded.map((s) => sfn.Condition.stringEquals(props.statusPath, s)));
    choice.when(isSucceeded, this.exit);

    const isPending = sfn.Condition.or(...props.pending.map((s) => sfn.Condition.stringEquals(props.statusPath, s)));
    choice.when(
      sfn.Condition.and(isPending, sfn.Condition.numberGreaterThanEquals('$.poll.attempt', lastIndex)),
      new sfn.Fail(this, `${id} Deadline`, {
        error: FailError.DeadlineExceeded,
        cause: `Still running after ${this.waits.reduce((a, b) => a + b, 0)} seconds of polling`,
      }),
    );
    if (props.onStatusChange) {
      const record = props.onStatusChange(`${id} Record Status`);
      choice.when(
        sfn.Condition.and(isPending, sfn.Condition.not(sfn.Condition.stringEqualsJsonPath(props.statusPath, '$.poll.lastStatus'))),
        record,
      );
      record.next(advance);
    }
    choice.when(isPending, advance);
    choice.otherwise(new sfn.Fail(this, `${id} Unknown Status`, { error: FailError.UnknownJobStatus, causePath: props.statusPath }));

    init.next(wait);
    wait.next(props.describe);
    props.describe.next(choice);
    advance.next(wait);

    this.startState = init;
    this.endStates = [this.exit];
  }
}
