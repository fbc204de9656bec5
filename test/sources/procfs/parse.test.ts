import { describe, expect, it } from 'vitest';
import { bootTimeMs, effectiveGid, isPidName, parseCmdline, parseGroups, parseStat, socketInode } from '../../../src/sources/procfs/parse.js';

describe('parseStat', () => {
  const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 4242 123 456 18446744073709551615';
  it('takes comm between the first ( and the last ), and field 22', () => {
    expect(parseStat(`1234 (nginx) ${tail}`)).toEqual({ comm: 'nginx', startTime: 4242, ppid: 1 });
  });
  it('keeps spaces and parentheses inside comm', () => {
    expect(parseStat(`77 (my (weird) proc) ${tail}`)).toEqual({ comm: 'my (weird) proc', startTime: 4242, ppid: 1 });
    expect(parseStat(`77 (a) b) ${tail}`)).toEqual({ comm: 'a) b', startTime: 4242, ppid: 1 });
  });
  it('refuses text that is not a stat line', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('1234 nginx S 1')).toBeUndefined();
    expect(parseStat('1 (x) S 1 2')).toBeUndefined();
  });
});

describe('parseCmdline', () => {
  it.each([
    ['nginx\0-g\0daemon off;\0', ['nginx', '-g', 'daemon off;']],
    ['', []],
    ['\0', []],
    ['nginx: worker process', ['nginx: worker process']], // setproctitle: no NULs
    ['a\0\0b\0', ['a', '', 'b']],
  ])('%j', (text, args) => {
    expect(parseCmdline(Buffer.from(text))).toEqual(args);
  });

  it('turns invalid UTF-8 into U+FFFD instead of failing', () => {
    expect(parseCmdline(Buffer.from([0x61, 0xff, 0x62, 0]))).toEqual(['a\ufffdb']);
  });
});

describe('socketInode', () => {
  it.each([
    ['socket:[12345]', 12345],
    ['socket:[0]', 0],
    ['socket:[]', 0],
    ['socket:[12x]', 0],
    ['/dev/null', 0],
    ['pipe:[999]', 0],
    ['anon_inode:[eventpoll]', 0],
  ])('%s -> %d', (target, ino) => {
    expect(socketInode(target)).toBe(ino);
  });
});

describe('isPidName', () => {
  it('accepts only digits', () => {
    expect(['1', '4194304'].every(isPidName)).toBe(true);
    expect(['self', 'net', '1a', '', 'thread-self'].some(isPidName)).toBe(false);
  });
});

describe('the rest of a process and the host, from /proc and /etc', () => {
  it('effective gid from status, boot time from /proc/stat, group names from group(5)', () => {
    expect(effectiveGid('Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t33\t33\t33\n')).toBe(33);
    expect(effectiveGid('Name:\tx\n')).toBeUndefined();
    expect(bootTimeMs('cpu  1 2 3\nbtime 1796200000\nprocesses 9\n')).toBe(1_796_200_000_000);
    expect(parseGroups('root:x:0:\nwww-data:x:33:alice,bob\nshadow-www:x:33:\n# comment\nbad line\n')).toEqual(new Map([[0, 'root'], [33, 'www-data']]));
  });
});
