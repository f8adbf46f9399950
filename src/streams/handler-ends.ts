/**
 * How `startServer` hears that a connection's handler ended without following
 * a promise: for handlers of the library's own whose end it can call.
 *
 * @module
 * @internal
 */

import type { StreamReader } from "./stream-reader.js";
import type { StreamWriter } from "./stream-writer.js";

/**
 * @internal What follows a handler's end, made once per server and called with
 * the connection's writer as `this`: `done` closes the connection, `failed`
 * reports the error first.
 */
export interface HandlerEnds {
  done(this: StreamWriter): void;
  failed(this: StreamWriter, error: unknown): void;
}

/** @internal The property of a handler that can serve a connection and tell its end to {@link HandlerEnds}. */
export const kServeDirect: unique symbol = Symbol("asyncnet.serveDirect");

/**
 * @internal A handler that also serves a connection without a promise: called
 * instead of the handler, it must call exactly one of `ends.done` and
 * `ends.failed`, once, and never throw.
 */
export interface DirectHandler {
  [kServeDirect]?: (reader: StreamReader, writer: StreamWriter, ends: HandlerEnds) => void;
}
