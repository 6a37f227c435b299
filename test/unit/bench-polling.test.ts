import { defaultConfig } from '../../lib/config.js';
import { pollTimes, pollWaits } from '../../lib/constructs/job-poller.js';
import { deadlineEstimate, fitEvents, FIXED_30S, pollsFor, type PollingRow } from '../../bench/polling.js';

const row = (poller: PollingRow['poller'], detectionPolls: number, historyEvents: number): PollingRow => ({
  poller, jobMinutes: 0, transitions: 0, historyEvents, detectionPolls, lagSeconds: 0, lagPercent: 0,
});

describe('polling schedules', () => {
  test('a fixed 30 s schedule polls every 30 s up to its deadline', () => {
    const waits = pollWaits({ ...FIXED_30S, deadlineSeconds: 3600 });
    expect(waits).toHaveLength(120);
    expect(new Set(waits)).toEqual(new Set([30]));
  });

  test('Chartflow reaches 30 minutes in 7 polls, a fixed 30 s poll in 60', () => {
    expect(pollsFor(defaultConfig.detectionPoll, 1800)).toBe(7);
    expect(pollsFor(FIXED_30S, 1800)).toBe(60);
    expect(pollTimes(defaultConfig.detectionPoll)[6]).toBeLessThanOrEqual(1.1 * 1800);
  });

  test('without a lag bound the schedule is plain capped backoff', () => {
    const plain = { ...defaultConfig.detectionPoll };
    delete plain.maxLagRatio;
    delete plain.lagBoundFromSeconds;
    expect(pollWaits(plain).slice(0, 8)).toEqual([60, 90, 135, 202, 303, 455, 683, 900]);
  });
});

describe('history events at the deadline', () => {
  test('a least-squares line through runs gives events per poll and the rest', () => {
    expect(fitEvents([{ polls: 2, events: 123 }, { polls: 7, events: 203 }, { polls: 60, events: 1051 }])).toEqual({ perPoll: expect.closeTo(16, 5), other: expect.closeTo(91, 3) });
    expect(() => fitEvents([{ polls: 2, events: 1 }])).toThrow(/two runs/);
    expect(() => fitEvents([{ polls: 2, events: 1 }, { polls: 2, events: 3 }])).toThrow(/differ/);
  });

  test('a fixed 30 s poll passes 25,000 events in about 13 hours; Chartflow never does', () => {
    const fixed = deadlineEstimate('fixed-30s', FIXED_30S, [row('fixed-30s', 4, 155), row('fixed-30s', 60, 1051)]);
    expect(fixed.eventsAt24h).toBe(91 + 16 * 2880);
    expect(fixed.hoursToEventLimit).toBeGreaterThan(12.5);
    expect(fixed.hoursToEventLimit).toBeLessThan(13.5);
    const ours = deadlineEstimate('chartflow', defaultConfig.detectionPoll, [row('chartflow', 2, 123), row('chartflow', 7, 203)]);
    expect(ours.pollsAtDeadline).toBe(pollWaits(defaultConfig.detectionPoll).length);
    expect(ours.eventsAtDeadline).toBeLessThan(2500);
    expect(ours.hoursToEventLimit).toBe(Infinity);
  });
});
