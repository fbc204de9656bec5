// The README's jq recipes, as written there: read out of README.md and run
// with the real jq (test/e2e/recipes.test.ts and the tests of the features
// they show).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireTool } from './tools.js';

export interface Recipe {
  readonly name: string;
  readonly jqArgs: string[];
  readonly sortUnique: boolean;
}

/** The recipes of README.md: after each "# recipe: <name>", the jq command of its block. */
export function recipes(): Map<string, Recipe> {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const section = readme.slice(readme.indexOf('## jq recipes'), readme.indexOf('## Options'));
  const out = new Map<string, Recipe>();
  for (const block of section.split('# recipe: ').slice(1)) {
    const name = block.slice(0, block.indexOf('\n')).trim();
    const line = block.split('\n').find((l) => /(^|\| )jq /.test(l));
    if (!line) throw new Error(`recipe "${name}" has no jq line`);
    const m = /jq ((?:-[-\w]+ )*)'((?:[^']|'\\'')*)'/.exec(line);
    if (!m) throw new Error(`cannot read the jq call of recipe "${name}"`);
    out.set(name, { name, jqArgs: [...(m[1] ?? '').trim().split(/\s+/).filter(Boolean), m[2]!], sortUnique: /\| sort -u\s*$/.test(line) });
  }
  return out;
}

export function jq(recipe: Recipe | undefined, input: string): string {
  if (!recipe) throw new Error('no such recipe in the README');
  const out = execFileSync(requireTool('jq'), recipe.jqArgs, { input, encoding: 'utf8' });
  return recipe.sortUnique ? [...new Set(out.trim().split('\n'))].sort().join('\n') : out.trim();
}

