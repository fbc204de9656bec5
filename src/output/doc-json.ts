// JSON text of an event document, the same text JSON.stringify gives, with
// the parts a document shares with others (host.*, agent.*, and a process's
// or user's parts: core/event.ts DocParts) written once and reused: at
// 40,000 sockets of a few processes, JSON.stringify spent a fifth of a
// snapshot's time writing the same process and host again and again.
import type { SocketEventDoc } from '../core/event.js';

/** Top-level members whose values are objects shared between documents by identity, never changed after. */
const SHARED = new Set(['host', 'agent', 'process', 'group', 'user']);

export class DocJson {
  readonly #texts = new WeakMap<object, string>();
  /** `"key":` by key: a few dozen names, the same in every document. */
  readonly #keys = new Map<string, string>();

  text(doc: SocketEventDoc): string {
    let out = '{';
    let first = true;
    for (const key in doc) {
      const value = (doc as unknown as Record<string, unknown>)[key];
      if (value === undefined || typeof value === 'function') continue;
      out += `${first ? '' : ','}${this.#key(key)}${SHARED.has(key) && typeof value === 'object' && value !== null ? this.#shared(value) : JSON.stringify(value)}`;
      first = false;
    }
    return `${out}}`;
  }

  #key(key: string): string {
    let text = this.#keys.get(key);
    if (text === undefined) {
      text = `${JSON.stringify(key)}:`;
      if (this.#keys.size < 1024) this.#keys.set(key, text); // --fields-under-root keys are the user's: bounded
    }
    return text;
  }

  #shared(value: object): string {
    let text = this.#texts.get(value);
    if (text === undefined) {
      text = JSON.stringify(value);
      this.#texts.set(value, text);
    }
    return text;
  }
}
