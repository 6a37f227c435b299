import { Env } from '../../contracts/env.js';

/**
 * Named crash points for fault injection (the local runtime's `--faults crash=<function>:<step>`).
 * A core calls `checkpoint('after-claim')` at each step where a crash matters; when the
 * environment names that point, the first call throws — as a Lambda that dies there would — and
 * later calls pass, so the retry can show that the step is safe to re-run. In production the
 * variable is unset and checkpoints do nothing.
 */
export type Checkpoint = (step: string) => void;

const fired = new Set<string>();

export function crashPoints(functionName: string, spec: string | undefined = process.env[Env.CrashAt]): Checkpoint {
  const points = new Set((spec ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (points.size === 0) return () => {};
  return (step) => {
    const point = `${functionName}:${step}`;
    if (points.has(point) && !fired.has(point)) {
      fired.add(point);
      const error = new Error(`Injected crash at ${point}`);
      error.name = 'InjectedCrash';
      throw error;
    }
  };
}

export const noCheckpoint: Checkpoint = () => {};
