import { describe, expect, it } from 'vitest';
import { isLocalAddress } from '../../src/core/address-class.js';

describe('isLocalAddress (skipped by --skip-local-lookups)', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.10.10', '100.64.0.1', '100.127.255.255', '0.0.0.0', '::1', '::', 'fe80::1', 'febf::1', 'fc00::1', 'fd12:3456::1', 'garbage',
  ])('%s is local or not routable', (ip) => {
    expect(isLocalAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '172.15.255.255', '172.32.0.1', '192.169.0.1', '100.63.255.255', '100.128.0.1', '11.0.0.1', '192.0.2.1', '2001:db8::1', 'fec0::1', 'fe00::1', '2606:4700::1111'])(
    '%s is looked up',
    (ip) => {
      expect(isLocalAddress(ip)).toBe(false);
    },
  );
});
