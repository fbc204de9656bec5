// The feed's supervision, with stand-in child processes that speak the frame
// protocol (the real child, against the real kernel, is in test/e2e/flows).
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DestroyFeed } from '../../../src/sources/netlink/destroy-feed.js';
import { FrameKind, FrameReader, frame, numberFrame } from '../../../src/sources/netlink/destroy-protocol.js';
import { inetDiagMsg } from '../../helpers/inet-diag-builder.js';

/** A child that writes these frames (hex) on stdout, then waits or exits. */
function stub(frames: Buffer[], then: 'wait' | 'exit' | 'abort') {
  const hex = Buffer.concat(frames).toString('hex');
  const end = then === 'wait' ? 'setInterval(() => {}, 1000); process.stdin.on("end", () => process.exit(0)).resume();' : then === 'exit' ? 'process.exit(0);' : 'process.abort();';
  return () => spawn(process.execPath, ['-e', `process.stdout.write(Buffer.from('${hex}', 'hex'), () => { ${end} });`], { stdio: ['pipe', 'pipe', 'ignore'] });
}
const stamped = (buf: Buffer, at = 1234.5): Buffer => {
  const b = Buffer.alloc(8 + buf.length);
  b.writeDoubleLE(at, 0);
  buf.copy(b, 8);
  return b;
};
const notification = (cookie: number) => inetDiagMsg({ seq: 0, state: 7, sport: 1000, dport: 2000, cookie, attrs: [[10, Buffer.from([6])]] });

const feeds: DestroyFeed[] = [];
afterEach(() => feeds.splice(0).forEach((f) => f.close()));
function feed(spawnChild: ReturnType<typeof stub> | (() => ReturnType<ReturnType<typeof stub>>), warnings: string[] = [], startTimeoutMs?: number, stallTimeoutMs?: number): DestroyFeed {
  const f = new DestroyFeed({ families: ['ipv4'], transports: ['tcp'], recvBufferSize: 0, spawnChild, warn: (m) => warnings.push(m), startTimeoutMs, stallTimeoutMs });
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
          frame(FrameKind.ERROR, Buffer.from('ENOBUFS')),
          numberFrame(FrameKind.LOST, 17),
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
    expect(f.drain()).toEqual({ destroyed: [], watermark: 1300, losses: 18 }); // 17 dropped, 1 overflow
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
    expect(f.drain()).toMatchObject({ watermark: -Infinity, losses: 2 }); // no listener has said it caught up yet
  });

  it('counts datagrams that do not decode, and goes on', async () => {
    const f = feed(stub([frame(FrameKind.READY, Buffer.from('1')), frame(FrameKind.DATAGRAM, stamped(Buffer.alloc(40, 0xff))), frame(FrameKind.DATAGRAM, stamped(notification(9)))], 'wait'));
    await f.start();
    await until(() => f.stats.received === 1);
    expect(f.stats.malformed).toBe(1);
  });
});
