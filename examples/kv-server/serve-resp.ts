/**
 * The kv-server's connection handler: every command already buffered is
 * answered in one synchronous burst and the replies are written together;
 * only when no whole command is buffered does it wait (asynchronously) for more.
 *
 * @module
 */

import {
  ConnectionClosedError,
  ConnectionResetError,
  IncompleteReadError,
  type StreamReader,
  type StreamWriter,
} from "asyncnet";
import type { KvStore } from "./kv-store.js";
import { RespProtocolError, RespReader } from "./resp-reader.js";

/** The most replies gathered before they are written, so one burst cannot grow without bound. */
const MAX_BURST = 1024;
/** Gathered replies are written once they reach this many bytes. */
const FLUSH_BYTES = 64 * 1024;

/** Returns a `startServer` handler serving `store` over RESP. */
export function serveResp(
  store: KvStore,
): (reader: StreamReader, writer: StreamWriter) => Promise<void> {
  return async (reader, writer) => {
    const resp = new RespReader(reader);
    const replies = new ReplyBatch(writer);
    try {
      for (;;) {
        const first = await resp.next();
        if (first === null) return;
        let command: Buffer[] | null = first;
        let close = false;
        for (let n = 1; command !== null; n++) {
          const reply = store.execute(command);
          replies.push(reply.bytes);
          if (reply.close === true) {
            close = true;
            break;
          }
          if (n === MAX_BURST) break;
          command = resp.nextNow();
        }
        replies.flush();
        if (close) return;
        // A client that pipelines without reading stalls only its own connection.
        if (writer.needsDrain) await writer.drain();
      }
    } catch (error) {
      if (error instanceof RespProtocolError) {
        replies.push(Buffer.from(`-ERR Protocol error: ${error.message}\r\n`, "latin1"));
        replies.flush();
        return;
      }
      replies.flush();
      // A peer gone in mid-command is its own business, not a server error.
      if (peerGone(error)) return;
      throw error;
    }
  };
}

/**
 * Replies gathered for one write: a burst's small replies go out as one
 * buffer (one copy is cheaper than a `writev` of hundreds of pieces), and
 * gathering stops at {@link FLUSH_BYTES} so large values are not copied into
 * an ever larger one.
 */
class ReplyBatch {
  readonly #writer: StreamWriter;
  readonly #parts: Buffer[] = [];
  #bytes = 0;

  constructor(writer: StreamWriter) {
    this.#writer = writer;
  }

  push(reply: Buffer): void {
    this.#parts.push(reply);
    this.#bytes += reply.length;
    if (this.#bytes >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    const parts = this.#parts;
    if (parts.length === 0) return;
    this.#writer.write(
      parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.#bytes),
    );
    parts.length = 0;
    this.#bytes = 0;
  }
}

function peerGone(error: unknown): boolean {
  return (
    error instanceof IncompleteReadError ||
    error instanceof ConnectionClosedError ||
    error instanceof ConnectionResetError
  );
}
