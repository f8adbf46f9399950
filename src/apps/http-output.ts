/**
 * Where wget writes a body: the local file name GNU wget would choose, a file
 * that never overwrites another, and a sink that waits for `drain`.
 *
 * @module
 */

import { once } from "node:events";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";

/**
 * The local file name GNU wget gives a URL: the last path segment,
 * percent-decoded, `index.html` when it is empty, followed by `?query` when
 * the URL has one (`/dir/?a=1` → `index.html?a=1`). A `/` or a control
 * character that decoding would bring in stays percent-encoded, so the name
 * never leaves the directory.
 */
export function fileNameFromUrl(url: string): string {
  const { pathname, search } = new URL(url);
  const segment = pathname.slice(pathname.lastIndexOf("/") + 1);
  let name: string;
  try {
    name = decodeURIComponent(segment).replace(
      // eslint-disable-next-line no-control-regex -- control characters are what is escaped
      /[\x00-\x1f\x7f/]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
  } catch {
    name = segment;
  }
  if (name === "" || name === "." || name === "..") name = "index.html";
  return `${name}${search}`;
}

/**
 * Creates `name` in `dir`, or `name.1`, `name.2`... when it exists (GNU wget's
 * default: never overwrite). Creation is exclusive (`wx`), so two downloads
 * racing for a name each get their own file.
 *
 * @returns the file's name as created (without `dir`) and a write stream on it.
 * @throws the `open` error other than `EEXIST` (`EACCES`, `ENOENT`...).
 */
export async function createUniqueFile(
  dir: string,
  name: string,
): Promise<{ name: string; stream: NodeJS.WritableStream }> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${name}.${n}`;
    try {
      const handle = await open(join(dir, candidate), "wx");
      return { name: candidate, stream: handle.createWriteStream() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Opens `path` for writing, truncating it (`-O FILE`, as GNU wget). */
export async function createFile(path: string): Promise<NodeJS.WritableStream> {
  const handle = await open(path, "w");
  return handle.createWriteStream();
}

/**
 * A writable stream used with backpressure: `write` resolves once the stream
 * accepts more, so a fast network never fills memory behind a slow disk or
 * pipe. The first `error` the stream emits is thrown by the next call.
 *
 * Every wait is on the callback of a write, which the stream always calls:
 * once the chunk is flushed, or with an error when the stream fails or is
 * destroyed. (A `drain` event would only come after a `write` that returned
 * `false`, and never after a stream is destroyed without an error; awaiting
 * it then leaves nothing to settle the promise.)
 */
export class OutputSink {
  readonly #stream: NodeJS.WritableStream;
  readonly #owned: boolean;
  #error: Error | undefined;
  /** Settles once the last chunk written is flushed (so every chunk before it is too). */
  #lastWrite: Promise<void> = Promise.resolve();
  readonly #onError = (error: Error) => {
    this.#error ??= error;
  };

  /** @param owned whether `close()` ends the stream (a file) or leaves it open (stdout). */
  constructor(stream: NodeJS.WritableStream, owned: boolean) {
    this.#stream = stream;
    this.#owned = owned;
    stream.on("error", this.#onError);
  }

  /** Writes `chunk`; when the stream's buffer is full, waits until it is flushed. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (chunk.length === 0) return;
    let accepted = true;
    this.#lastWrite = new Promise<void>((resolve) => {
      accepted = this.#stream.write(chunk, (error) => {
        if (error !== undefined && error !== null) this.#onError(error);
        resolve();
      });
    });
    if (accepted) return;
    await this.#lastWrite;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Flushes; ends and closes an owned stream. Throws the stream's first error, if any. */
  async close(): Promise<void> {
    await this.abort();
    if (this.#error !== undefined) throw this.#error;
  }

  /** Ends and closes an owned stream (flushes one it does not own), keeping its error for `close()`; never throws. */
  async abort(): Promise<void> {
    const stream = this.#stream as Writable;
    if (this.#owned && !stream.closed) {
      const closed = once(stream, "close").catch(this.#onError);
      stream.end();
      await closed;
    } else if (!this.#owned) {
      await this.#lastWrite;
    }
    stream.off("error", this.#onError);
  }
}
