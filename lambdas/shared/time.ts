/** Step Functions passes timestamps as ISO strings or epoch seconds (or milliseconds). */
export function isoTime(value: unknown): string | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) ms = Number(value);
  else if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return new Date(ms < 1e11 ? ms * 1000 : ms).toISOString();
}
