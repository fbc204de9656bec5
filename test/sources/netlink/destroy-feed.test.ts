// The feed's supervision, with stand-in child processes that speak the frame
// protocol (the real child, against the real kernel, is in test/e2e/flows).
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DestroyFeed } from '../../../src/sources/netlink/destroy-feed.js';
import { FrameKind, FrameReader, frame, noteFrame, numberFrame } from '../../../src/sources/netlink/destroy-protocol.js';
import { inetDiagMsg } from '../../helpers/inet-diag-builder.js';

/** The listener's own namespace in these tests. */
const OWN = 4026531833;
const OTHER = 4026532000;

/**
 * A child that writes these frames (hex) on stdout, then waits or exits.
 * `onAdd`: frames it writes for each `add <inode> <path>` line it is sent, by inode.
 */
function stub(frames: Buffer[], then: 'wait' | 'exit' | 'abort', onAdd: Record<number, Buffer[]> = {}) {
  const hex = Buffer.concat(frames).toString('hex');
  const replies = JSON.stringify(Object.fromEntries(Object.entries(onAdd).map(([k, v]) => [k, Buffer.concat(v).toString('hex')])));
  const listen = `const r = ${replies}; require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => { const [v, n] = l.split(' '); if (v === 'add' && r[n]) process.stdout.write(Buffer.from(r[n], 'hex')); }).on('close', () => process.exit(0));`;
  const end = then === 'wait' ? `setInterval(() => {}, 1000); ${listen}` : then === 'exit' ? 'process.exit(0);' : 'process.abort();';
  return () => spawn(process.execPath, ['-e', `process.stdout.write(Buffer.from('${hex}', 'hex'), () => { ${end} });`], { stdio: ['pipe', 'pipe', 'ignore'] });
}
const stamped = (buf: Buffer, at = 1234.5, netns = OWN): Buffer => {
  const b = Buffer.alloc(16 + buf.length);
  b.writeDoubleLE(at, 0);
  b.writeDoubleLE(netns, 8);
  buf.copy(b, 16);
  return b;
};
const notification = (cookie: number) => inetDiagMsg({ seq: 0, state: 7, sport: 1000, dport: 2000, cookie, attrs: [[10, Buffer.from([6])]] });

const feeds: DestroyFeed[] = [];
afterEach(() => feeds.splice(0).forEach((f) => f.close()));
function feed(spawnChild: ReturnType<typeof stub> | (() => ReturnType<ReturnType<typeof stub>>), warnings: string[] = [], startTimeoutMs?: number, stallTimeoutMs?: number): DestroyFeed {
  const f = new DestroyFeed({ families: ['ipv4'], transports: ['tcp'], recvBufferSize: 0, netns: OWN, spawnChild, warn: (m) => warnings.push(m), startTimeoutMs, stallTimeoutMs });
  feeds.push(f);
  return f;
}
const until = async (pred: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('FrameReader', () => {
  it('reassembles frames split anywhere', () => {
    const bytes = Buffer.concat([frame(FrameKind.READY, Buffer.from('42')), frame(FrameKind.ERROR, Buffer.from('ENOBUFS'))]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = new FrameReader();
      const out = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
      expect(out.map((f) => [f.kind, f.body.toString()])).toEqual([[FrameKind.READY, '42'], [FrameKind.ERROR, 'ENOBUFS']]);
    }
  });
});

describe('DestroyFeed', () => {
  it('starts, hands over decoded notifications with when they were read, and the watermark; counts what the kernel dropped', async () => {
    const warnings: string[] = [];
    const f = feed(
      stub(
        [
          frame(FrameKind.READY, Buffer.from('8388608')),
          frame(FrameKind.DATAGRAM, stamped(Buffer.concat([notification(1), notification(2)]))),
          numberFrame(FrameKind.WATERMARK, 1300),
          noteFrame(FrameKind.ERROR, OWN, 'ENOBUFS'),
          numberFrame(FrameKind.LOST, OWN, 17),
          numberFrame(FrameKind.WATERMARK, 1200), // never backwards
        ],
        'wait',
      ),
      warnings,
    );
    expect(f.drain().watermark).toBe(-Infinity); // nothing read yet: nothing can be given up on
    expect(await f.start()).toEqual({ ok: true, recvBufferSize: 8_388_608 });
    await until(() => f.stats.lost === 17);
    const d = f.drain();
    expect(d.destroyed.map((x) => [x.record.key, x.atMs])).toEqual([[1, 1234.5], [2, 1234.5]]);
    expect(d.watermark).toBe(1300);
    expect(d.destroyed.every((x) => x.record.netns === OWN)).toBe(true);
    const again = f.drain();
    expect(again).toMatchObject({ destroyed: [], watermark: 1300 });
    expect(again.losses(OWN)).toBe(18); // 17 dropped, 1 overflow
    expect(again.losses(OTHER)).toBe(Infinity); // not watched: nothing to wait for
    expect(f.stats).toMatchObject({ received: 2, overflows: 1, lost: 17, restarts: 0 });
    expect(f.healthy).toBe(true);
    expect(warnings.join()).toMatch(/the kernel dropped 17 destroy notifications/);
  });

  it('restarts a listener that goes silent (hung), and counts it', async () => {
    const warnings: string[] = [];
    let spawned = 0;
    const f = feed(() => {
      spawned++;
      return stub([frame(FrameKind.READY, Buffer.from('1'))], 'wait')();
    }, warnings, undefined, 300);
    expect((await f.start()).ok).toBe(true);
    await until(() => f.stats.restarts >= 1 && f.healthy);
    expect(warnings.join()).toMatch(/sent nothing for 0\.3 s \(hung\); restarting it/);
  });

  it('after giving up on the listener, waits for no notification (the watermark is +Infinity)', async () => {
    let spawned = 0;
    const f = feed(() => stub(spawned++ === 0 ? [frame(FrameKind.READY, Buffer.from('1'))] : [frame(FrameKind.FAILED, Buffer.from('bind: EPERM'))], 'exit')());
    expect((await f.start()).ok).toBe(true);
    await until(() => f.drain().watermark === Infinity);
  });

  it('says why when the kernel refuses the subscription', async () => {
    const f = feed(stub([frame(FrameKind.FAILED, Buffer.from('bind: EPERM'))], 'exit'));
    expect(await f.start()).toEqual({ ok: false, reason: 'bind: EPERM' });
  });

  it('gives up on a listener that never subscribes, and kills it', async () => {
    let child: ReturnType<ReturnType<typeof stub>> | undefined;
    const f = feed(() => (child = stub([], 'wait')()), [], 300);
    const t = Date.now();
    expect(await f.start()).toEqual({ ok: false, reason: 'the notification listener did not subscribe within 0.3 s' });
    expect(Date.now() - t).toBeLessThan(3000);
    expect(child!.signalCode).toBe('SIGKILL');
  });

  it('restarts a listener that dies (the netlink package aborts on some overflows) and counts it', async () => {
    const warnings: string[] = [];
    let spawned = 0;
    const abortThenWait = () => {
      spawned++;
      return stub([frame(FrameKind.READY, Buffer.from('1'))], spawned === 1 ? 'abort' : 'wait')();
    };
    const f = feed(abortThenWait, warnings);
    expect((await f.start()).ok).toBe(true);
    await until(() => f.stats.restarts === 1 && f.healthy);
    expect(spawned).toBe(2);
    expect(warnings.join()).toMatch(/listener died \(SIGABRT\); restarting it/);
    // Twice: when it died, and when its successor subscribed (what closed in between is not notified).
    const d = f.drain();
    expect(d.watermark).toBe(-Infinity); // no listener has said it caught up yet
    expect(d.losses(OWN)).toBe(2);
  });

  it('listens in another namespace when asked: its notifications carry it; until subscribed there, and for its own drops, it alone counts a loss', async () => {
    const warnings: string[] = [];
    const f = feed(
      stub([frame(FrameKind.READY, Buffer.from('1'))], 'wait', {
        [OTHER]: [numberFrame(FrameKind.SUBSCRIBED, OTHER), frame(FrameKind.DATAGRAM, stamped(notification(5), 2000, OTHER)), numberFrame(FrameKind.LOST, OTHER, 3)],
      }),
      warnings,
    );
    expect((await f.start()).ok).toBe(true);
    const before = f.losses();
    f.watch([{ inode: OTHER, path: '/proc/self/fd/9' }]);
    expect([before(OTHER), f.losses()(OTHER)]).toEqual([Infinity, 0]);
    await until(() => f.stats.lost === 3);
    const d = f.drain();
    expect(d.destroyed.map((x) => [x.record.key, x.record.netns])).toEqual([[5, OTHER]]);
    expect([d.losses(OTHER), d.losses(OWN)]).toEqual([4, 0]); // subscribed (1) + 3 dropped; ours untouched
    f.unwatch([OTHER]);
    expect(f.losses()(OTHER)).toBe(Infinity); // let go: nothing more will come of it
  });

  it('a namespace the listener cannot enter is said, and not waited for', async () => {
    const warnings: string[] = [];
    const f = feed(stub([frame(FrameKind.READY, Buffer.from('1'))], 'wait', { [OTHER]: [noteFrame(FrameKind.REFUSED, OTHER, 'setns: operation not permitted (EPERM)')] }), warnings);
    expect((await f.start()).ok).toBe(true);
    f.watch([{ inode: OTHER, path: '/proc/self/fd/9' }]);
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/^destroy notifications of network namespace net:\[4026532000\] cannot be listened to \(setns: operation not permitted \(EPERM\)\)/);
    expect(f.losses()(OTHER)).toBe(Infinity);
  });

  it('counts datagrams that do not decode, and goes on', async () => {
    const f = feed(stub([frame(FrameKind.READY, Buffer.from('1')), frame(FrameKind.DATAGRAM, stamped(Buffer.alloc(40, 0xff))), frame(FrameKind.DATAGRAM, stamped(notification(9)))], 'wait'));
    await f.start();
    await until(() => f.stats.received === 1);
    expect(f.stats.malformed).toBe(1);
  });

  it('sync() resolves when the listener answers with a watermark from after the ask; one unanswered, later polls do not wait', async () => {
    // Answers "sync" with a watermark of its own clock (CLOCK_MONOTONIC, as ours), after `delayMs`.
    const answering = (delayMs: number) => () =>
      spawn(process.execPath, ['-e', `
        const frame = (k, b) => { const h = Buffer.alloc(5); h.writeUInt32LE(b.length + 1, 0); h[4] = k; return Buffer.concat([h, b]); };
        process.stdout.write(Buffer.from('${frame(FrameKind.READY, Buffer.from('1')).toString('hex')}', 'hex'));
        require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
          if (l !== 'sync') return;
          setTimeout(() => { const b = Buffer.alloc(8); b.writeDoubleLE(Number(process.hrtime.bigint()) / 1e6); process.stdout.write(frame(${FrameKind.WATERMARK}, b)); }, ${delayMs});
        }).on('close', () => process.exit(0));`], { stdio: ['pipe', 'pipe', 'ignore'] });
    const quick = feed(answering(0));
    expect((await quick.start()).ok).toBe(true);
    const before = Number(process.hrtime.bigint()) / 1e6;
    await quick.sync(2000);
    expect(quick.drain().watermark).toBeGreaterThanOrEqual(before);
    const slow = feed(answering(600));
    expect((await slow.start()).ok).toBe(true);
    let t = Date.now();
    await slow.sync(100); // timed out
    expect(Date.now() - t).toBeLessThan(400);
    t = Date.now();
    await slow.sync(100); // the first is still unanswered: no wait
    expect(Date.now() - t).toBeLessThan(50);
    await until(() => slow.drain().watermark > before);
  });
});
