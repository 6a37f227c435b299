/**
 * RFC 4180 CSV: CRLF line ends, a field is quoted when it holds a comma, a double quote, CR or
 * LF, and quotes inside are doubled. The Glue table over `records/` must read it with
 * OpenCSVSerde (quoteChar `"`), which Entity Resolution supports.
 */
export function toCsv<C extends string>(columns: readonly C[], rows: readonly Record<C, string>[]): string {
  const line = (values: readonly string[]) => values.map(field).join(',');
  return [line(columns), ...rows.map((row) => line(columns.map((c) => row[c])))].map((l) => `${l}\r\n`).join('');
}

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
