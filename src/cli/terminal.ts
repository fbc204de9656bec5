// The live view's terminal: its screen, its keys, resizes, and putting the
// terminal back however socketwatch ends.
import { closeSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { dup2 } from '../sources/netlink/sys.js';
import type { LiveView } from '../output/live-view.js';

export interface TerminalIO {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream & { readonly fd: number };
}

/**
 * Takes over the terminal for the view until the returned function is
 * called. `q` or Ctrl-C (raw mode delivers it as a key, not a signal) asks for
 * a stop, as SIGINT would; pressed again, exits at once — with the terminal
 * restored either way.
 */
export interface Terminal {
  /** Puts the terminal back (or finds it gone). */
  release(): void;
  /** The terminal has gone (its window was closed): it answered EIO, or its input ended. */
  readonly gone: boolean;
  /** Lets go of a terminal that has gone (see abandonTerminal). */
  abandon(): void;
}

export function takeTerminal(view: LiveView, io: TerminalIO, stop: () => void): Terminal {
  const { stdin, stdout } = io;
  // Which of stdin, stdout and stderr are this terminal: once it hangs up they no longer say (isatty fails with EIO).
  const ttys = [0, 1, 2].filter((fd) => isatty(fd));
  let restored = false;
  let gone = false;
  let quits = 0;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    // A terminal that has gone (its window closed) answers EIO: there is nothing left to restore.
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
      // Synchronous: this also runs from process 'exit', where async writes are lost.
      writeSync(stdout.fd, view.leave());
    } catch {
      gone = true;
    }
  };
  // The terminal went away without a SIGHUP reaching us (its reads end or fail): stop as for one.
  const onGone = (): void => {
    gone = true;
    restored = true; // nothing to write back to
    stop();
  };
  const onKey = (key: Buffer): void => {
    const text = key.toString('latin1');
    if (!text.includes('q') && !text.includes('Q') && !text.includes('\u0003')) return;
    if (++quits === 1) return stop();
    restore();
    process.exit(130);
  };
  const onResize = (): void => {
    if (!restored) stdout.write(view.render());
  };
  process.on('exit', restore);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onKey).on('end', onGone).on('error', onGone).resume();
  stdout.on('resize', onResize);
  stdout.write(view.enter());
  return {
    release: () => {
      stdin.off('data', onKey).off('end', onGone).off('error', onGone).pause();
      stdout.off('resize', onResize);
      process.off('exit', restore);
      restore();
    },
    get gone() {
      return gone;
    },
    abandon: () => abandonTerminal(ttys),
  };
}

/**
 * Lets go of a terminal that has gone. Node puts a terminal's modes back as
 * it exits and aborts when the terminal answers EIO (node::ResetStdio
 * allows only EPERM); it skips a descriptor that no longer names the
 * terminal, so those that did are pointed at /dev/null first.
 */
function abandonTerminal(fds: readonly number[]): void {
  const devNull = openSync('/dev/null', 'r+');
  for (const fd of fds) {
    try {
      dup2(devNull, fd);
    } catch {
      // nothing more can be done; Node may complain as it exits
    }
  }
  closeSync(devNull);
}
