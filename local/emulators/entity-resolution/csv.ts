/**
 * CSV as RFC 4180 describes it: comma separated, fields optionally in double quotes, `""` for a
 * quote inside a quoted field, line breaks (CRLF or LF) allowed inside quoted fields. Pure.
 */

export interface CsvRow {
  /** 1-based line on which the row starts. */
  line: number;
  fields: string[];
  /** Set when the row is malformed; `fields` then holds what could be read. */
  error?: string;
}

/** Parses a whole CSV text. Empty lines are skipped; a leading UTF-8 BOM is ignored. */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let i = 0;
  let line = 1;
  while (i < s.length) {
    const startLine = line;
    const fields: string[] = [];
    let error: string | undefined;
    let field = '';
    let rowDone = false;
    // Empty line: no row at all (a trailing newline must not make an empty record).
    if (s[i] === '\n' || (s[i] === '\r' && s[i + 1] === '\n')) {
      i += s[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    while (!rowDone) {
      if (s[i] === '"') {
        // Quoted field.
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i]!;
          if (c === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) {
          error ??= 'unterminated quoted field';
        } else if (i < s.length && s[i] !== ',' && s[i] !== '\n' && !(s[i] === '\r' && s[i + 1] === '\n')) {
          error ??= 'unexpected character after a closing quote';
          // Read on to the end of the field so the next row starts in the right place.
          while (i < s.length && s[i] !== ',' && s[i] !== '\n' && !(s[i] === '\r' && s[i + 1] === '\n')) field += s[i++];
        }
      } else {
        while (i < s.length && s[i] !== ',' && s[i] !== '\n' && !(s[i] === '\r' && s[i + 1] === '\n')) {
          if (s[i] === '"') error ??= 'a quote inside an unquoted field';
          field += s[i++];
        }
      }
      fields.push(field);
      field = '';
      if (i >= s.length) {
        rowDone = true;
      } else if (s[i] === ',') {
        i++;
        // A trailing comma at the end of the text or line still ends with one empty field.
        if (i >= s.length) {
          fields.push('');
          rowDone = true;
        }
      } else {
        i += s[i] === '\r' ? 2 : 1;
        line++;
        rowDone = true;
      }
    }
    rows.push(error ? { line: startLine, fields, error } : { line: startLine, fields });
  }
  return rows;
}

function quote(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Formats rows as CSV, quoting only where needed, each line ending with `\n`. */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => `${row.map(quote).join(',')}\n`).join('');
}
