// Writes output to a stream, one poll at a time, waiting for it to drain.
import { RuntimeError } from '../errors.js';

// A reader that went away (EPIPE: `socketwatch | head -1`) is not an error:
// the sink reports itself closed and the watcher stops quietly.

export class OutputSink {
  readonly #stream: NodeJS.WritableStream;
  #closed = false;
  #failure: Error | undefined;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.#closed = true;
      else this.#failure ??= writeFailed(err);
    });
  }

  /** The reader has gone: nothing more will be written. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once `text` is handed to the OS; rejects on a write error other than EPIPE. */
  write(text: string): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed || text === '') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#stream.write(text, (err?: Error | null) => {
        if (!err) return resolve();
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
          this.#closed = true;
          return resolve();
        }
        reject(writeFailed(err));
      });
    });
  }
}

function writeFailed(err: NodeJS.ErrnoException): RuntimeError {
  return new RuntimeError(`cannot write the output: ${err.code ?? err.message}`, { cause: err });
}
