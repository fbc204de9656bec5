import { describe, expect, it } from 'vitest';
import { requireTool, TOOLS } from './helpers/tools.js';

describe('requireTool', () => {
  it('finds what the tests need, and names the Debian package of what is missing', () => {
    expect(requireTool('ip')).toBe('/usr/sbin/ip');
    const real = TOOLS.jq.find;
    (TOOLS.jq as { find: () => string | undefined }).find = () => undefined;
    try {
      expect(() => requireTool('jq')).toThrow("jq is missing: this test needs Debian's jq package — ./scripts/test.sh installs everything the tests need");
    } finally {
      (TOOLS.jq as { find: () => string | undefined }).find = real;
    }
  });
});
