/**
 * The types of a line protocol served by `serveLines`: what a session answers
 * and what it can do with its connection.
 *
 * @module
 */

import type { SocketAddress } from "../protocols/connection-info.js";
import type { ConnectionLogger } from "./connection-logger.js";

/**
 * A reply to a line: its bytes (a string is sent as UTF-8), or `undefined` (or
 * `null`) to send nothing, or a promise of one of these. Replies go out in the
 * order of the lines they answer, whatever resolves first.
 */
export type LineReply = SyncLineReply | PromiseLike<SyncLineReply>;

/** A {@link LineReply} that is ready now: bytes, or `undefined`/`null` for nothing. */
export type SyncLineReply = string | Uint8Array | undefined | null;

/**
 * Why a connection served by `serveLines` ended, as its handler resolves:
 * `"close"` (the session called `conn.close()`), `"eof"` (the peer half-closed
 * and every line was answered), `"shutdown"` (the `signal` option aborted
 * while the loop waited for data), `"lost"` (the peer reset the connection or
 * it was closed under a pending write).
 */
export type LinesEnd = "close" | "eof" | "shutdown" | "lost";

/** The facts of a connection, read when asked. */
export interface LineConnectionInfo {
  /** The remote end: a socket address, a Unix socket's path, or undefined once unknown. */
  readonly peer: SocketAddress | string | undefined;
  /** The local end, as {@link peer}. */
  readonly local: SocketAddress | string | undefined;
}

/** What a session can do with its connection: given to `serveLines`' factory. */
export interface LineConnection {
  /** The remote end (see {@link LineConnectionInfo.peer}). */
  readonly peer: SocketAddress | string | undefined;
  /** The connection's facts: both ends' addresses. */
  readonly info: LineConnectionInfo;
  /** The `logger` option of `serveLines`; a no-op logger when none was given. */
  readonly logger: ConnectionLogger;
  /**
   * Writes `data` unprompted (a string as UTF-8), as a chat server sends
   * another user's message. It goes out after every reply already produced
   * and before any reply still pending (an unsettled promise): the order of
   * calls. It never waits: the bytes join the connection's write buffer even
   * when the peer does not read. The loop itself stops answering lines while
   * that buffer is over its high-water mark, so a session that only replies is
   * bounded; one that writes unprompted should check {@link needsDrain} (and
   * skip, or close, a peer that does not keep up) or await {@link drain}.
   * Dropped silently once the connection is lost.
   *
   * @throws {TypeError} when `data` is neither a string nor a Uint8Array.
   */
  write(data: string | Uint8Array): void;
  /**
   * Adds `bytes[start, end)` to the reply of the line being answered, copied
   * at once: a reply built from pieces (`onLineBytes`' own bytes among them)
   * without a Buffer per line. The pieces go out in the order of the calls,
   * before whatever the answering hook then returns, and are written with the
   * rest of the burst's replies. Called while no line is being answered (from
   * a timer, after a promise), it is {@link write} of a copy.
   *
   * @throws {TypeError} when `bytes` is not a Uint8Array.
   * @throws {RangeError} when `start` and `end` are not integers with
   *   `0 <= start <= end <= bytes.length`.
   */
  append(bytes: Uint8Array, start?: number, end?: number): void;
  /** True while the write buffer is over its high-water mark, or the connection is closing. */
  readonly needsDrain: boolean;
  /** Resolves once the write buffer is at its low-water mark; rejects once the connection is lost. */
  drain(): Promise<void>;
  /**
   * Ends the session once the replies already produced are sent: after the
   * current line's reply (even a pending one), no further line is read or
   * answered, the handler resolves with `"close"` and `startServer` closes
   * the connection. Idempotent; called while the loop waits for a line, it
   * wakes it (the reader is done with then).
   */
  close(): void;
  /** True once {@link close} was called. */
  readonly closing: boolean;
}

/**
 * One connection's side of a line protocol, made by `serveLines`' factory. It
 * may keep per-connection state in its own fields.
 *
 * Give exactly one of {@link onLine} and {@link onLineBytes}.
 */
export interface LineSession {
  /** Sent when the connection opens, before the first line is read. Default: nothing. */
  welcome?: string | Uint8Array | undefined;
  /**
   * The reply to one line: `line` is the bytes before its `\n` (a `\r` before
   * it is kept), the session's own copy, safe to keep. A last line that ends
   * at EOF without `\n` is answered too. The next line is handed over only
   * once this reply has settled, so a session's state changes in line order.
   * A throw, or a rejected promise, fails the connection (startServer reports
   * it and closes only that connection).
   */
  onLine?(line: Buffer): LineReply;
  /**
   * {@link onLine} without the copy, for a hot loop: the line is
   * `bytes[start, end)`, the reader's own bytes, valid only during the call
   * (copy what must outlive it).
   */
  onLineBytes?(bytes: Buffer, start: number, end: number): LineReply;
  /**
   * The reply to a line longer than `maxLine` bytes (its `\n` not counted),
   * which is discarded whole, the rest of it as it arrives; the connection
   * stays open and the next line is answered as usual. Default (when this
   * hook is absent): `ERR line too long (more than N bytes)\r\n`.
   */
  onLineTooLong?(maxLine: number): LineReply;
  /**
   * The last bytes sent to a peer whose line outlived `lineTimeout` (ms)
   * before the connection is closed (the handler rejects with a
   * `TimeoutError`). Synchronous: the connection is going. Default (when
   * this hook is absent): `ERR line not completed within N s\r\n`.
   */
  onLineTimeout?(lineTimeout: number): SyncLineReply;
  /**
   * Called once when the session ends, whatever ended it, after the last
   * reply was written: with the {@link LinesEnd}, or `"error"` and the error
   * the handler then rejects with (a line timeout, a failed session, a read
   * error). `error` is also given for `"lost"`.
   */
  onEnd?(end: LinesEnd | "error", error?: Error): void;
}
