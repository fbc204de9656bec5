// Plain text columns: pad, cut or wrap cells to display widths. About 1 us per
// row, where cli-table3 measured ~200 us per row even in small tables and grew
// faster than linearly beyond that (4,000 rows: 2.9 s) — a 100k-socket
// snapshot would have taken minutes.
import stringWidth from 'string-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns the text takes (CJK counts 2, combining marks 0). */
export function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

/** Splits text into pieces of at most `width` columns. */
function pieces(text: string, width: number): string[] {
  if (displayWidth(text) <= width) return [text];
  const out: string[] = [];
  let line = '';
  let used = 0;
  for (const ch of text) {
    const w = displayWidth(ch);
    if (used + w > width && line !== '') {
      out.push(line);
      line = '';
      used = 0;
    }
    line += ch;
    used += w;
  }
  if (line !== '') out.push(line);
  return out;
}

/** At most `width` columns, ending in "…" when cut. */
export function cut(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return pieces(text, width)[0] ?? '';
  return `${pieces(text, width - 1)[0] ?? ''}…`;
}

export interface ColumnSpec {
  /** 0: the column is not shown. */
  readonly width: number;
  /** Wrap onto more lines (true) or cut with "…" (false). */
  readonly wraps: boolean;
}

/** Renders rows as lines of columns separated by one space; trailing blanks trimmed. */
export function renderRows(rows: readonly (readonly string[])[], columns: readonly ColumnSpec[]): string {
  let out = '';
  for (const row of rows) {
    const shown = columns.map((c, i) => ({ c, text: row[i] ?? '' })).filter(({ c }) => c.width > 0);
    const cells = shown.map(({ c, text }) => (c.wraps ? pieces(text, c.width) : [cut(text, c.width)]));
    const height = Math.max(...cells.map((c) => c.length));
    for (let line = 0; line < height; line++) {
      let text = '';
      cells.forEach((c, i) => {
        const piece = c[line] ?? '';
        const pad = shown[i]!.c.width - displayWidth(piece);
        text += (i === 0 ? '' : ' ') + piece + (pad > 0 ? ' '.repeat(pad) : '');
      });
      out += `${text.trimEnd()}\n`;
    }
  }
  return out;
}
