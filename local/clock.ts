/**
 * Time as the local runtime sees it. The emulators and the state machine runner read the same
 * clock, so a job that "takes 30 minutes" completes after 30 virtual minutes of Wait states —
 * which run in no real time at all.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; starts at a fixed instant unless given one. */
export class VirtualClock implements Clock {
  private current: number;
  constructor(start: number = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  /** Moves forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (ms > 0) this.current += ms;
  }
  /** Moves forward to `epochMs` if that is later than now. */
  advanceTo(epochMs: number): void {
    if (epochMs > this.current) this.current = epochMs;
  }
}
