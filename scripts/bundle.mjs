#!/usr/bin/env node
// npm run build, after tsc: bundles the compiled program into dist/bundle/, the
// code bin/socketwatch.js runs. Loading ~75 modules one by one (resolve, read,
// compile each) was most of socketwatch's start: at 2,000 sockets a bundled
// `--once` takes ~0.30 s of CPU where the modules took ~0.42 s (issue 18).
// The processes and threads socketwatch starts (the notification listener,
// the DNS observer, the /proc scan threads) are entry points of their own, so
// the paths main.js gives them stay valid; the code they share is split into
// chunks. koffi stays outside: it loads its native module from its own package.
// dist/bundle/ sits as deep as dist/cli/: '../../package.json' still names ours.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'bundle');

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: ['cli/main.js', 'sources/netlink/destroy-child.js', 'sources/dns/dns-child.js', 'sources/procfs/scan-worker.js'].map((p) => join(DIST, p)),
  outdir: OUT,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS dependencies (commander, ioredis, …) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __socketwatchRequire } from 'node:module'; const require = __socketwatchRequire(import.meta.url);" },
  logLevel: 'warning',
});
