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

/** Returns a `startServer` handler serving `store` over RESP. */
export function serveResp(
  store: KvStore,
): (reader: StreamReader, writer: StreamWriter) => Promise<void> {
  return async (reader, writer) => {
    const resp = new RespReader(reader);
    const replies: Buffer[] = [];
    try {
      for (;;) {
        const first = await resp.next();
        if (first === null) return;
        let command: Buffer[] | null = first;
        let close = false;
        while (command !== null) {
          const reply = store.execute(command);
          replies.push(reply.bytes);
          if (reply.close === true) {
            close = true;
            break;
          }
          if (replies.length === MAX_BURST) break;
          command = resp.nextNow();
        }
        writer.writeLines(replies);
        replies.length = 0;
        if (close) return;
        // A client that pipelines without reading stalls only its own connection.
        if (writer.needsDrain) await writer.drain();
      }
    } catch (error) {
      if (error instanceof RespProtocolError) {
        replies.push(Buffer.from(`-ERR Protocol error: ${error.message}\r\n`, "latin1"));
        writer.writeLines(replies);
        return;
      }
      writer.writeLines(replies);
      // A peer gone in mid-command is its own business, not a server error.
      if (peerGone(error)) return;
      throw error;
    }
  };
}

function peerGone(error: unknown): boolean {
  return (
    error instanceof IncompleteReadError ||
    error instanceof ConnectionClosedError ||
    error instanceof ConnectionResetError
  );
}
