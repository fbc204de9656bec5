// The live view's terminal: its screen, its keys, resizes, and putting the
// terminal back however socketwatch ends.
import { writeSync } from 'node:fs';
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
export function takeTerminal(view: LiveView, io: TerminalIO, stop: () => void): () => void {
  const { stdin, stdout } = io;
  let restored = false;
  let quits = 0;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(false);
    // Synchronous: this also runs from process 'exit', where async writes are lost.
    writeSync(stdout.fd, view.leave());
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
  stdin.on('data', onKey).resume();
  stdout.on('resize', onResize);
  stdout.write(view.enter());
  return () => {
    stdin.off('data', onKey).pause();
    stdout.off('resize', onResize);
    process.off('exit', restore);
    restore();
  };
}
