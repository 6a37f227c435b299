import { Env } from '../../contracts/env.js';

/**
 * Named crash points for fault injection (the local runtime's `--faults crash=<function>:<step>`).
 * A core calls `checkpoint('after-claim')` at each step where a crash matters; when the
 * environment names that point, the first call throws — as a Lambda that dies there would — and
 * later calls pass, so the retry can show that the step is safe to re-run. In production the
 * variable is unset, no injector is installed, and checkpoints do nothing.
 */
export type Checkpoint = (step: string) => void;

/** Every checkpoint of every function, in the order a run reaches them. */
export const CRASH_POINTS = {
  ingest: [
    'after-validate',
    'after-claim',
    'after-seal',
    'after-reject-copy',
    'after-reject-delete',
    'after-reject-event',
    'after-copy',
    'job-started',
    'after-start-jobs',
    'after-start-execution',
    'after-submit',
  ],
  'start-jobs': ['job-started'],
  'collect-results': ['outputs-located', 'outputs-read', 'records-written', 'documents-updated'],
  matching: ['lock-taken', 'run-created', 'run-recorded', 'batches-recorded', 'event-put', 'run-released'],
  finalize: ['batch-completed', 'batch-failed', 'event-put'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Decides, per reached point (`<function>:<step>`), whether to crash there. Installed by the local
 * runtime (which runs the handlers in its own process) so that crashes can be drawn at random
 * and counted; it takes precedence over the environment variable.
 */
export type CrashInjector = (point: string) => boolean;

let injector: CrashInjector | undefined;

export function setCrashInjector(next: CrashInjector | undefined): void {
  injector = next;
}

const fired = new Set<string>();

function crash(point: string): never {
  const error = new Error(`Injected crash at ${point}`);
  error.name = 'InjectedCrash';
  throw error;
}

export function crashPoints(functionName: string, spec: string | undefined = process.env[Env.CrashAt]): Checkpoint {
  const points = new Set((spec ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (points.size === 0 && !injector) return () => {};
  return (step) => {
    const point = `${functionName}:${step}`;
    if (injector) {
      if (injector(point)) crash(point);
      return;
    }
    if (points.has(point) && !fired.has(point)) {
      fired.add(point);
      crash(point);
    }
  };
}

export const noCheckpoint: Checkpoint = () => {};
