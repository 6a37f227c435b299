import { VirtualClock } from '../clock.js';
import { SleepCancelledError, VirtualScheduler } from './scheduler.js';

const START = Date.UTC(2026, 0, 1);
const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('VirtualScheduler', () => {
  it('wakes sleepers in virtual-time order, at their wake time, without real waiting', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    const woke: Array<[string, number]> = [];
    const started = Date.now();
    await Promise.all(
      [
        ['hour', 3_600_000],
        ['minute', 60_000],
        ['day', 86_400_000],
      ].map(async ([label, ms]) => {
        await scheduler.sleep(ms as number);
        woke.push([label as string, scheduler.now() - START]);
      }),
    );
    expect(woke).toEqual([
      ['minute', 60_000],
      ['hour', 3_600_000],
      ['day', 86_400_000],
    ]);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('wakes equal wake times one at a time, in the order they were asked for', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    const order: string[] = [];
    const sleeper = async (label: string) => {
      await scheduler.sleep(1000);
      order.push(`${label}:woke`);
      // Real work after waking: the next equal-time sleeper must not wake before it is done.
      await scheduler.track(realDelay(5));
      order.push(`${label}:done`);
    };
    await Promise.all(['a', 'b', 'c'].map(sleeper));
    expect(order).toEqual(['a:woke', 'a:done', 'b:woke', 'b:done', 'c:woke', 'c:done']);
    expect(scheduler.now()).toBe(START + 1000);
  });

  it('does not move the clock while tracked work is in flight', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    let sleptAt: number | undefined;
    const sleeping = scheduler.sleep(60_000).then(() => (sleptAt = scheduler.now()));
    let clockDuringWork: number | undefined;
    await scheduler.track(
      (async () => {
        await realDelay(30);
        clockDuringWork = scheduler.now();
      })(),
    );
    expect(clockDuringWork).toBe(START);
    await sleeping;
    expect(sleptAt).toBe(START + 60_000);
  });

  it('interleaves two loops by virtual time', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    const log: string[] = [];
    const loop = async (label: string, everyMs: number, times: number) => {
      for (let i = 0; i < times; i++) {
        await scheduler.sleep(everyMs);
        log.push(`${label}@${(scheduler.now() - START) / 1000}`);
        await scheduler.track(realDelay(1));
      }
    };
    await Promise.all([loop('a', 2000, 4), loop('b', 3000, 3)]);
    // At 6 s both are due: b asked first (at 3 s, a at 4 s), so b wakes first.
    expect(log).toEqual(['a@2', 'b@3', 'a@4', 'b@6', 'a@6', 'a@8', 'b@9']);
  });

  it('cancels a sleep through its signal, and idle() then resolves without moving the clock', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    const controller = new AbortController();
    const sleeping = scheduler.sleep(3_600_000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toBeInstanceOf(SleepCancelledError);
    await scheduler.idle();
    expect(scheduler.now()).toBe(START);
    expect(scheduler.pending).toEqual({ inFlight: 0, sleeping: 0 });
  });

  it('idle() waits for in-flight work and every sleeper', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    let done = 0;
    void scheduler.run(async () => {
      await realDelay(10);
      done++;
    });
    void scheduler.sleep(5000).then(() => done++);
    await scheduler.idle();
    expect(done).toBe(2);
    expect(scheduler.now()).toBe(START + 5000);
  });

  it('resolves a sleep for a past instant at once', async () => {
    const scheduler = new VirtualScheduler(new VirtualClock(START));
    await scheduler.sleepUntil(START - 1000);
    await scheduler.sleep(0);
    expect(scheduler.now()).toBe(START);
  });
});
