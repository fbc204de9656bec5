import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500], ['1s', 1000], ['10s', 10_000], ['2m', 120_000], ['1h', 3_600_000], ['1.5s', 1500], ['1h30m', 5_400_000], [' 5s ', 5000], ['0s', 0],
  ])('%j = %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ms });
  });

  it.each([
    ['', 'is empty'], ['10', 'has no unit'], ['0', 'has no unit'], ['-1s', 'is negative'], ['abc', 'is not a number'], ['10x', 'is not a number'],
    ['1e999s', 'is not a number'], ['s', 'is not a number'], ['1s 2s', 'is not a number'], ['5 s', 'is not a number'],
  ])('%j is refused (%s)', (text, reason) => {
    const r = parseDuration(text);
    expect('error' in r && r.error).toContain(reason);
  });

  it('refuses values too large to be finite', () => {
    expect(parseDuration(`${'9'.repeat(400)}h`)).toEqual({ error: 'is too large' });
  });

  it('formats back', () => {
    expect([500, 1000, 120_000, 3_600_000, 1500].map(formatDuration)).toEqual(['500ms', '1s', '2m', '1h', '1500ms']);
  });
});
