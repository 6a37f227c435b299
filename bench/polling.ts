/**
 * Polling cost and detection lag: the same definitions run with Chartflow's detection schedule
 * and with a fixed 30 s schedule without a practical deadline (30 days, the configuration's
 * maximum), for Comprehend Medical jobs of given virtual durations.
 */
import { defaultConfig, type PollSchedule } from '../lib/config.js';
import { pollWaits } from '../lib/constructs/job-poller.js';
import { generateNotes } from './corpus.js';
import { BenchRuntime, type ExecutionMeasure } from './pipeline.js';

export const HISTORY_EVENT_LIMIT = 25_000;

export const FIXED_30S: PollSchedule = { baseSeconds: 30, capSeconds: 30, backoffRate: 1, deadlineSeconds: 30 * 86400 };
/** null switches the default lag bound off (configFromContext drops null members). */
export const FIXED_30S_CONTEXT = { 'chartflow:detectionPoll': { ...FIXED_30S, maxLagRatio: null, lagBoundFromSeconds: null } };

export type PollerName = 'chartflow' | 'fixed-30s';

export interface PollingRow {
  poller: PollerName;
  jobMinutes: number;
  /** Whole execution (start jobs to Batch Completed), the batch's only execution. */
  transitions: number;
  historyEvents: number;
  detectionPolls: number;
  /** From the later job's EndTime to the loop seeing both jobs done. */
  lagSeconds: number;
  lagPercent: number;
}

export interface DeadlineEstimate {
  poller: PollerName;
  /** History events per detection poll and of everything else, fitted on the measured runs. */
  eventsPerPoll: number;
  otherEvents: number;
  pollsAtDeadline: number;
  deadlineHours: number;
  eventsAtDeadline: number;
  /** Events if the job ran for Chartflow's 24 h deadline. */
  eventsAt24h: number;
  /** Hours of polling after which the history would pass 25,000 events (Infinity: never before the deadline). */
  hoursToEventLimit: number;
  /** Measured: an execution run until DeadlineExceeded (Chartflow only; fixed 30 s has no practical deadline). */
  measuredAtDeadline?: { historyEvents: number; transitions: number; status: string; error?: string };
}

const DONE_STATE = 'Detection Jobs Done';
const WAIT_STATE = 'Detection Jobs Wait';
const entered = (e: ExecutionMeasure, name: string) => e.history.filter((h) => h.stateEnteredEventDetails?.name === name);

/** Measures one job duration on a runtime: drops two small notes (one batch) and reads its execution. */
async function measureDuration(bench: BenchRuntime, poller: PollerName, minutes: number, seen: Set<string>): Promise<{ row: PollingRow; execution: ExecutionMeasure }> {
  // The emulator reads the fault spec at each StartJob: one runtime serves every duration.
  bench.faults.cmJobMinutes = minutes;
  await bench.drop(generateNotes({ count: 2, small: true, seed: minutes }), { prefix: `${poller}-${minutes}/` });
  const fresh = bench.executions().filter((e) => !seen.has(e.name));
  if (fresh.length !== 1) throw new Error(`expected one new execution for ${minutes} min, found ${fresh.length}`);
  const execution = fresh[0]!;
  seen.add(execution.name);
  const jobs = bench.runtime.comprehendJobs().filter((j) => j.jobName?.includes(execution.name));
  if (jobs.length !== 2 || jobs.some((j) => j.endTime === undefined)) throw new Error(`expected two ended jobs for batch ${execution.name}`);
  for (const j of jobs) {
    if (j.endTime! - j.submitTime !== minutes * 60_000) throw new Error(`job ${j.jobId} ran ${(j.endTime! - j.submitTime) / 60_000} min, not ${minutes}`);
  }
  const jobsEnd = Math.max(...jobs.map((j) => j.endTime!));
  const done = entered(execution, DONE_STATE)[0];
  if (!done?.timestamp) throw new Error(`batch ${execution.name} never left the detection loop (${execution.status})`);
  const lagSeconds = (done.timestamp.getTime() - jobsEnd) / 1000;
  return {
    execution,
    row: {
      poller,
      jobMinutes: minutes,
      transitions: execution.transitions,
      historyEvents: execution.historyEvents,
      detectionPolls: entered(execution, WAIT_STATE).length,
      lagSeconds,
      lagPercent: (100 * lagSeconds) / (minutes * 60),
    },
  };
}

/** Least squares of events on polls: per-poll events and everything else. */
export function fitEvents(points: Array<{ polls: number; events: number }>): { perPoll: number; other: number } {
  if (points.length < 2) throw new Error('fitEvents: need at least two runs');
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.polls, 0) / n;
  const my = points.reduce((s, p) => s + p.events, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.polls - mx) ** 2, 0);
  if (sxx === 0) throw new Error('fitEvents: the runs must differ in their number of polls');
  const perPoll = points.reduce((s, p) => s + (p.polls - mx) * (p.events - my), 0) / sxx;
  return { perPoll, other: my - perPoll * mx };
}

/** Polls needed to follow a job for `seconds` with a schedule (the poll that sees it included). */
export function pollsFor(schedule: PollSchedule, seconds: number): number {
  let t = 0;
  let polls = 0;
  for (const w of pollWaits({ ...schedule, deadlineSeconds: Math.max(schedule.deadlineSeconds, seconds) })) {
    t += w;
    polls += 1;
    if (t >= seconds) break;
  }
  return polls;
}

export function deadlineEstimate(poller: PollerName, schedule: PollSchedule, rows: PollingRow[]): DeadlineEstimate {
  const { perPoll, other } = fitEvents(rows.map((r) => ({ polls: r.detectionPolls, events: r.historyEvents })));
  const pollsAtDeadline = pollWaits(schedule).length;
  const eventsAt = (polls: number) => Math.round(other + perPoll * polls);
  // Polls until the limit, turned back into time with the schedule.
  const pollsToLimit = Math.floor((HISTORY_EVENT_LIMIT - other) / perPoll);
  const times = pollWaits({ ...schedule, deadlineSeconds: Math.max(schedule.deadlineSeconds, 400 * 86400) });
  const secondsToLimit = pollsToLimit < pollsAtDeadline ? times.slice(0, pollsToLimit).reduce((a, b) => a + b, 0) : Infinity;
  return {
    poller,
    eventsPerPoll: Math.round(perPoll * 100) / 100,
    otherEvents: Math.round(other),
    pollsAtDeadline,
    deadlineHours: schedule.deadlineSeconds / 3600,
    eventsAtDeadline: eventsAt(pollsAtDeadline),
    eventsAt24h: eventsAt(pollsFor(schedule, 24 * 3600)),
    hoursToEventLimit: secondsToLimit / 3600,
  };
}

export interface PollingResult {
  rows: PollingRow[];
  deadlines: DeadlineEstimate[];
  schedules: Record<PollerName, PollSchedule>;
}

export async function benchPolling(durations: number[], options: { measureDeadline: boolean }): Promise<PollingResult> {
  const rows: PollingRow[] = [];
  const deadlines: DeadlineEstimate[] = [];
  const schedules: Record<PollerName, PollSchedule> = { chartflow: defaultConfig.detectionPoll, 'fixed-30s': FIXED_30S };
  for (const poller of ['chartflow', 'fixed-30s'] as const) {
    const bench = await BenchRuntime.start({ context: poller === 'fixed-30s' ? FIXED_30S_CONTEXT : {} });
    try {
      const seen = new Set<string>();
      const mine: PollingRow[] = [];
      for (const minutes of durations) mine.push((await measureDuration(bench, poller, minutes, seen)).row);
      rows.push(...mine);
      const estimate = deadlineEstimate(poller, schedules[poller], mine);
      if (poller === 'chartflow' && options.measureDeadline) {
        // A job that outlives the deadline: the loop must give up, and its history stay small.
        bench.faults.cmJobMinutes = schedules.chartflow.deadlineSeconds / 60 + 60;
        await bench.drop(generateNotes({ count: 2, small: true, seed: 99 }), { prefix: 'deadline/' });
        const execution = bench.executions().find((e) => !seen.has(e.name));
        if (!execution) throw new Error('the deadline run started no execution');
        const failed = execution.history.find((h) => h.executionFailedEventDetails)?.executionFailedEventDetails;
        const recorded = (await bench.measure(0)).summary.batches.find((b) => b.batchId === execution.name);
        estimate.measuredAtDeadline = { historyEvents: execution.historyEvents, transitions: execution.transitions, status: execution.status, error: recorded?.error ?? failed?.error };
      }
      deadlines.push(estimate);
    } finally {
      await bench.close();
    }
  }
  return { rows, deadlines, schedules };
}
