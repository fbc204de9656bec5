// The live view, for real: socketwatch on a terminal (tmux), in a network
// namespace of its own, driven with send-keys and read with capture-pane.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';
import { requireTool } from '../helpers/tools.js';

const server = `swtest-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync(requireTool('tmux'), ['-L', server, ...args], { encoding: 'utf8' });
const screen = (): string[] => tmux('capture-pane', '-p', '-t', 'view').trimEnd().split('\n');
const spaces: Netns[] = [];
afterEach(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  spaces.splice(0).forEach((ns) => ns.destroy());
});

async function until(what: string, pred: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${screen().join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the live view', () => {
  it('shows, refreshes in place, follows a resize, sanitizes names, and q restores the terminal and exits 0', async () => {
    const ns = Netns.create();
    spaces.push(ns);
    const sockets = await ns.holder();
    // An attacker-chosen process name: an OSC title sequence and a screen clear.
    await sockets.title('\u001b]0;pwn\u0007\u001b[2J');
    const port = await sockets.listen('127.0.0.1');
    tmux('new-session', '-d', '-s', 'view', '-x', '100', '-y', '24', `ip netns exec ${ns.name} ${process.execPath} ${BIN} --period 500ms; echo "EXIT=$?"; sleep 60`);

    // Until the first poll is done the header says so; then it tells the poll's cost.
    await until('the view', () => /^socketwatch — .* — poll \d+ took/.test(screen()[0] ?? ''));
    const first = screen();
    expect(first[0]).toMatch(/every 500ms — poll \d+ took [\d.]+ms \(dump [\d.]+ms\)/);
    expect(first.join('\n')).toMatch(/sockets 1 {2}listening 1/);
    expect(first.join('\n')).toMatch(/TIME +EVENT DIR +LOCAL +REMOTE +STATE +PID +PROCESS +USER/);
    const listener = first.find((l) => l.includes(`127.0.0.1:${port}`) && l.includes('listen'));
    expect(listener).toBeDefined();
    // The name is shown escaped (and cut to its column), never interpreted by the terminal.
    expect(listener).toMatch(/\\x1b/);
    expect(tmux('display-message', '-p', '-t', 'view', '#{pane_title}')).not.toContain('pwn');

    // A connection opened now shows within two periods, newest on top.
    const t = Date.now();
    const [client] = await sockets.connect(port, '127.0.0.1', ['127.0.0.1']);
    await until('the new connection', () => screen().some((l) => l.includes(`:${client}`) && l.includes(' out ')), 3000);
    expect(Date.now() - t).toBeLessThan(1500);
    const rows = screen();
    const head = rows.findIndex((l) => l.startsWith('TIME'));
    expect(rows[head + 1]).toMatch(/ open +(in|out) /); // newest first
    expect(rows.filter((l) => l.startsWith('socketwatch — ')).length).toBe(1); // in place: one header, not a scroll
    // Both ends are counted (a dump running while the connection is made may list one end a poll before the other).
    await until('both ends counted', () => /in 1 {2}out 1 {2}listen 1/.test(screen().join('\n')), 2000);

    // Resize: re-laid out to the new width, nothing past it.
    tmux('resize-window', '-t', 'view', '-x', '60', '-y', '12');
    await until('the narrow layout', () => screen()[0]?.endsWith('…') === true);
    const narrow = screen();
    expect(Math.max(...narrow.map((l) => [...l].length))).toBeLessThanOrEqual(60);
    expect(narrow.length).toBeLessThanOrEqual(12);
    expect(narrow.some((l) => l.includes(`:${client}`))).toBe(true); // addresses keep their ports

    tmux('send-keys', '-t', 'view', 'q');
    await until('the exit', () => screen().some((l) => l.startsWith('EXIT=')));
    const after = screen();
    expect(after.find((l) => l.startsWith('EXIT='))).toBe('EXIT=0');
    expect(after.some((l) => l.startsWith('socketwatch — '))).toBe(false); // the normal screen is back
  });

  it('shows a notice on the view (stderr is hidden under it), and on stderr once it is gone', async () => {
    const ns = Netns.create();
    spaces.push(ns);
    tmux('new-session', '-d', '-s', 'notice', '-x', '140', '-y', '24', `ip netns exec ${ns.name} ${process.execPath} ${BIN} --period 300ms; echo "EXIT=$?"; sleep 60`);
    const pane = (): string[] => tmux('capture-pane', '-p', '-t', 'notice').trimEnd().split('\n');
    await until('the view', () => /^socketwatch — .* — poll \d+ took/.test(pane()[0] ?? ''));
    // Something worth a notice: the notification listener dies (it is restarted).
    const pid = Number(execFileSync('pgrep', ['-f', `^${process.execPath} ${BIN} --period 300ms`], { encoding: 'utf8' }).trim().split('\n')[0]);
    process.kill(Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]), 'SIGKILL');
    await until('the notice on the view', () => pane().some((l) => /^! \d\d:\d\d:\d\d the destroy-notification listener died/.test(l)), 3000);
    tmux('send-keys', '-t', 'notice', 'q');
    await until('the exit', () => pane().some((l) => l.startsWith('EXIT=')));
    const after = pane();
    expect(after.some((l) => /^socketwatch: the destroy-notification listener died \(SIGKILL\); restarting it/.test(l))).toBe(true);
    expect(after.find((l) => l.startsWith('EXIT='))).toBe('EXIT=0');
  });

  // Closing the window (here: killing its tmux session) hangs up the terminal:
  // socketwatch gets SIGHUP, its writes and reads get EIO. It must go every
  // time — it used to stay, orphaned, with its notification listener.
  it('exits when its terminal goes away, every time, with its listener, status 0', async () => {
    const ns = Netns.create();
    spaces.push(ns);
    for (let round = 0; round < 6; round++) {
      const session = `gone${round}`;
      const rc = `/tmp/socketwatch-rc-${process.pid}-${round}`;
      // The shell outlives the hangup (it ignores SIGHUP; socketwatch sets its own handler) to record the status.
      tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '24', `trap '' HUP; ip netns exec ${ns.name} ${process.execPath} ${BIN} --period 200ms 2>/dev/null; echo $? > ${rc}`);
      await until('the view', () => /^socketwatch — .* — poll \d+ took/.test(tmux('capture-pane', '-p', '-t', session).split('\n')[0] ?? ''));
      const pid = Number(execFileSync('pgrep', ['-f', `^${process.execPath} ${BIN} --period 200ms`], { encoding: 'utf8' }).trim().split('\n')[0]);
      const listener = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim());
      tmux('kill-session', '-t', session);
      const gone = (p: number): boolean => {
        try {
          return /^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
        } catch {
          return true;
        }
      };
      await until(`pid ${pid} to exit`, () => gone(pid) && gone(listener), 3000);
      await until('its status', () => existsSync(rc), 3000);
      expect(readFileSync(rc, 'utf8').trim()).toBe('0');
      rmSync(rc);
    }
  });
});
