import { CRASH_POINTS } from '../lambdas/shared/crash.js';
import { defaultFaults, FAULT_NAMES, FaultCounter, parseFaults, planCmJob, seededRandom } from './faults.js';

describe('parseFaults', () => {
  test('no spec: no faults', () => {
    expect(parseFaults(undefined)).toEqual(defaultFaults);
    expect(parseFaults('')).toEqual(defaultFaults);
  });

  test('every fault by name', () => {
    const f = parseFaults(
      'cm.throttle=0.3,cm.internal=0.1,cm.activeLimit=0.5,cm.busyStarts=3,cm.job=STOPPED,cm.failed=0.1,cm.stopped=0.05,cm.partial=0.2,cm.jobMinutes=7,' +
        'cm.slow=0.1,cm.slowMinutes=90,er.throttle=0.2,er.internal=0.1,er.conflict=0.4,er.job=FAILED,er.failed=0.3,er.jobMinutes=3,' +
        's3.duplicate=1,s3.reorder=60,sqs.redeliver=0.2,crash=ingest:after-claim,crash=finalize:event-put,crash.rate=0.01,' +
        'lambda.serviceError=0.5,seed=42',
    );
    expect(f).toEqual({
      cmThrottleRate: 0.3, cmInternalErrorRate: 0.1, cmActiveLimitRate: 0.5, cmBusyStarts: 3, cmJobOutcome: 'STOPPED', cmJobFailedRate: 0.1,
      cmJobStoppedRate: 0.05, cmJobPartialRate: 0.2, cmJobMinutes: 7, cmSlowJobRate: 0.1, cmSlowJobMinutes: 90,
      erThrottleRate: 0.2, erInternalErrorRate: 0.1, erConflictRate: 0.4, erJobOutcome: 'FAILED', erJobFailedRate: 0.3, erJobMinutes: 3,
      s3DuplicateRate: 1, s3ReorderSeconds: 60, sqsRedeliverRate: 0.2, crashAt: ['ingest:after-claim', 'finalize:event-put'], crashRate: 0.01,
      lambdaServiceErrorRate: 0.5, seed: 42,
    });
  });

  test('clear errors for unknown names, bad values and unknown crash points', () => {
    expect(() => parseFaults('cm.slowness=1')).toThrow(`--faults: unknown fault "cm.slowness" (known: ${FAULT_NAMES.join(', ')})`);
    expect(() => parseFaults('cm.throttle')).toThrow('--faults: expected name=value, got "cm.throttle"');
    expect(() => parseFaults('cm.throttle=1.5')).toThrow('--faults cm.throttle: expected a rate between 0 and 1, got "1.5"');
    expect(() => parseFaults('cm.throttle=')).toThrow('expected a rate between 0 and 1, got ""');
    expect(() => parseFaults('cm.busyStarts=two')).toThrow('--faults cm.busyStarts: expected a non-negative number, got "two"');
    expect(() => parseFaults('s3.reorder=-1')).toThrow('--faults s3.reorder: expected a non-negative number, got "-1"');
    expect(() => parseFaults('cm.job=DONE')).toThrow('--faults cm.job: expected one of COMPLETED, FAILED, PARTIAL_SUCCESS, STOPPED, got "DONE"');
    expect(() => parseFaults('crash=ingest:after-lunch')).toThrow(/^--faults crash: unknown crash point "ingest:after-lunch" \(known: ingest:after-validate, /);
    expect(() => parseFaults('crash=ingest')).toThrow(/unknown crash point "ingest"/);
    expect(() => parseFaults('cm.failed=0.6,cm.stopped=0.5')).toThrow('cm.failed + cm.stopped + cm.partial must not exceed 1');
    expect(() => parseFaults('cm.throttle=0.6,cm.internal=0.5')).toThrow('cm.throttle + cm.internal must not exceed 1');
  });

  test('every crash point of every function is accepted', () => {
    for (const [fn, steps] of Object.entries(CRASH_POINTS)) for (const step of steps) expect(parseFaults(`crash=${fn}:${step}`).crashAt).toEqual([`${fn}:${step}`]);
  });
});

describe('planCmJob', () => {
  const f = parseFaults('cm.failed=0.1,cm.stopped=0.1,cm.partial=0.2,cm.slow=0.5,cm.slowMinutes=100');
  test.each([
    [0.05, 'FAILED', ['cm.failed']],
    [0.15, 'STOPPED', ['cm.stopped']],
    [0.3, 'PARTIAL_SUCCESS', ['cm.partial']],
    [0.5, 'COMPLETED', []],
  ])('draw %d: %s', (draw, outcome, injected) => {
    expect(planCmJob(f, draw, 0.9)).toEqual({ outcome, minutes: 5, injected });
  });
  test('slow jobs take cm.slowMinutes; cm.job sets the default outcome', () => {
    expect(planCmJob(f, 0.9, 0.1)).toEqual({ outcome: 'COMPLETED', minutes: 100, injected: ['cm.slow'] });
    expect(planCmJob(parseFaults('cm.job=FAILED'), 0.9, 0.9)).toEqual({ outcome: 'FAILED', minutes: 5, injected: ['cm.failed'] });
  });
});

test('FaultCounter counts by name, sorted', () => {
  const c = new FaultCounter();
  c.add('s3.duplicate', 2);
  c.add('cm.throttle');
  c.add('cm.throttle');
  expect(c.snapshot()).toEqual({ 'cm.throttle': 2, 's3.duplicate': 2 });
});

test('seededRandom repeats with the seed', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  expect([a(), a(), a()]).toEqual([b(), b(), b()]);
});
