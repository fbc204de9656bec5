#!/usr/bin/env node
// Stop signals are caught from the first line: loading socketwatch takes a
// while, and one that comes meanwhile must stop it cleanly too (main.ts takes
// them over), not kill it with the default action.
const early = { signals: [], note: (signal) => early.signals.push(signal) };
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, early.note);
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer that needs none of socketwatch: given without loading it (most of its start is loading modules).
  const { readFileSync } = await import('node:fs');
  process.stdout.on('error', () => {}); // the reader went away: nothing to say
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/bundle/main.js');
  process.exitCode = await main(args, early);
}
