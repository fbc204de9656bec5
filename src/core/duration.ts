// "500ms", "1s", "2m", "1h30m" -> milliseconds. Pure.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds, or a reason the text is not a duration. */
export function parseDuration(text: string): { ms: number } | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'is empty' };
  if (/^-/.test(t)) return { error: 'is negative' };
  if (/^\d+(\.\d+)?$/.test(t)) return { error: 'has no unit (use ms, s, m or h)' };
  let ms = 0;
  let consumed = 0;
  for (const m of t.matchAll(PART)) {
    if (m.index !== consumed) break;
    ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    consumed += m[0].length;
  }
  if (consumed !== t.length) return { error: 'is not a number followed by ms, s, m or h' };
  if (!Number.isFinite(ms)) return { error: 'is too large' };
  return { ms };
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
