// Process names, arguments, user names and DNS names are written by whoever
// runs a process or owns a name server. Before any of it reaches a terminal,
// control characters (C0, DEL, C1 — ESC among them) and Unicode bidi controls
// that reorder what is shown become visible escapes. JSON needs none of this:
// JSON.stringify escapes C0 itself, and a terminal does not interpret \u001b.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** At most `max` characters, the last one an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`;
}
