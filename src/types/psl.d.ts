// psl ships types (types/index.d.ts), but its package.json "exports" map has
// no "types" condition, so NodeNext resolution cannot find them. We use one function.
declare module 'psl' {
  /** The registrable domain (eTLD+1) of a domain name, or null when it has none. */
  export function get(domain: string): string | null;
  const psl: { get: typeof get };
  export default psl;
}
