#!/usr/bin/env node
// Stop signals are caught from the first line: loading socketwatch takes a
// while, and one that comes meanwhile must stop it cleanly too (main.ts takes
// them over), not kill it with the default action.
const early = { signals: [], note: (signal) => early.signals.push(signal) };
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, early.note);
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2), early);
