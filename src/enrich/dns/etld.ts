// eTLD+1 ("registered domain") of a host name, from the Public Suffix List
// (psl bundles it, private section included, as Go's publicsuffix does).
import psl from 'psl';

/**
 * As Metricbeat's etldPlusOne: a trailing dot is removed for the lookup and
 * put back on the answer. Undefined when the name has none (localhost, a bare TLD).
 */
export function etldPlusOne(host: string): string | undefined {
  const dotted = host.endsWith('.');
  const name = dotted ? host.slice(0, -1) : host;
  if (name === '') return undefined;
  let registered: string | null;
  try {
    registered = psl.get(name.toLowerCase());
  } catch {
    registered = null; // a PTR name is anybody's text: never let it throw
  }
  if (!registered) return undefined;
  return dotted ? `${registered}.` : registered;
}
