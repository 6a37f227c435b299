/**
 * Virtual time for the local runtime. Work that takes real time (a Lambda handler, an HTTP call to
 * an emulator) is `track`ed; waiting (Wait states, retry intervals, execution timeouts) is a
 * `sleep` on the virtual clock. The clock moves only when the system is quiescent — nothing tracked
 * in flight for a few macrotask turns — and then straight to the earliest wake-up, which it
 * resolves alone: concurrent executions interleave in the right virtual order, one segment of real
 * work at a time, and a 30-minute wait costs no real time at all.
 */
import { VirtualClock } from '../clock.js';

export interface VirtualSchedulerOptions {
  /**
   * Consecutive macrotask turns with nothing in flight and no new activity before the clock may
   * move. Continuations of settled work run as microtasks, so one turn suffices in principle; a
   * few guard against work that hops through timers or I/O callbacks.
   */
  quiescentTurns?: number;
}

interface Sleeper {
  wakeAt: number;
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

export class SleepCancelledError extends Error {
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'Sleep cancelled');
    this.name = 'SleepCancelledError';
  }
}

export class VirtualScheduler {
  readonly clock: VirtualClock;
  private readonly quiescentTurns: number;
  /** Sorted by (wakeAt, seq): equal wake times wake in the order they were asked for. */
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private inFlight = 0;
  /** Bumped by every sleep, track start/settle and cancellation; a moving value means "not quiescent". */
  private activity = 0;
  private checkScheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(clock: VirtualClock = new VirtualClock(), options: VirtualSchedulerOptions = {}) {
    this.clock = clock;
    this.quiescentTurns = Math.max(1, options.quiescentTurns ?? 3);
  }

  now(): number {
    return this.clock.now();
  }

  /** What is pending: real work in flight and virtual sleepers. */
  get pending(): { inFlight: number; sleeping: number } {
    return { inFlight: this.inFlight, sleeping: this.sleepers.length };
  }

  /** Resolves when virtual time reaches now + ms; rejects with SleepCancelledError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepUntil(this.clock.now() + Math.max(0, ms), signal);
  }

  /** Resolves when virtual time reaches `epochMs` (at once if it has). */
  sleepUntil(epochMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new SleepCancelledError(signal.reason));
    if (epochMs <= this.clock.now()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: epochMs,
        seq: this.seq++,
        resolve,
        reject,
        detach: () => undefined,
      };
      if (signal) {
        const onAbort = () => {
          const index = this.sleepers.indexOf(sleeper);
          if (index >= 0) this.sleepers.splice(index, 1);
          this.touch();
          reject(new SleepCancelledError(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        sleeper.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.insert(sleeper);
      this.touch();
    });
  }

  /** Marks `work` as real work in flight: the clock stays put until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight++;
    this.touch();
    return work.finally(() => {
      this.inFlight--;
      this.touch();
    });
  }

  /** Runs `fn` as tracked work (a synchronous throw becomes a rejection). */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    let work: Promise<T>;
    try {
      work = Promise.resolve(fn());
    } catch (error) {
      work = Promise.reject(error);
    }
    return this.track(work);
  }

  /** Resolves once nothing is in flight and nothing is sleeping (after the same quiescence check). */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.touch();
    });
  }

  private insert(sleeper: Sleeper): void {
    let i = this.sleepers.length;
    while (i > 0) {
      const before = this.sleepers[i - 1]!;
      if (before.wakeAt < sleeper.wakeAt || (before.wakeAt === sleeper.wakeAt && before.seq < sleeper.seq)) break;
      i--;
    }
    this.sleepers.splice(i, 0, sleeper);
  }

  private touch(): void {
    this.activity++;
    if (this.checkScheduled || this.inFlight > 0) return;
    if (this.sleepers.length === 0 && this.idleWaiters.length === 0) return;
    this.checkScheduled = true;
    setImmediate(() => this.check(this.activity, 1));
  }

  private check(activityBefore: number, turns: number): void {
    if (this.inFlight > 0) {
      // Settling work calls touch() again, which restarts the check.
      this.checkScheduled = false;
      return;
    }
    const stableTurns = this.activity === activityBefore ? turns : 0;
    if (stableTurns < this.quiescentTurns) {
      setImmediate(() => this.check(this.activity, stableTurns + 1));
      return;
    }
    this.checkScheduled = false;
    const next = this.sleepers.shift();
    if (!next) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.clock.advanceTo(next.wakeAt);
    next.detach();
    next.resolve();
    this.touch();
  }
}
