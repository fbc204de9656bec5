// Shell-style globs (fnmatch without path rules), for --match and --ignore on
// a socket's tuple: `*` any run of characters, `?` one, `[abc]`, `[a-z]`,
// `[!a]` a class, `\x` a literal x. Pure.

export class GlobError extends Error {
  override readonly name = 'GlobError';
}

const SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/** A RegExp matching the whole of a string. Throws GlobError for a pattern that is not a glob. */
export function compileGlob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new GlobError(`"${pattern}" ends with a lone \\`);
      re += next.replace(SPECIAL, '\\$&');
    } else if (c === '[') {
      let j = i + 1;
      const negate = pattern[j] === '!';
      if (negate) j++;
      let body = '';
      if (pattern[j] === ']') {
        body += '\\]'; // a ] first in the class is a member
        j++;
      }
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        const m = pattern[j]!;
        body += m === '\\' || m === '^' || m === '[' ? `\\${m}` : m;
      }
      if (j >= pattern.length) throw new GlobError(`"${pattern}" has a [ without its ]`);
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else re += c.replace(SPECIAL, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`, 's');
  } catch (err) {
    throw new GlobError(`"${pattern}" is not a glob: ${(err as Error).message}`);
  }
}
