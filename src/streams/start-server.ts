import { validatePort } from "../protocols/create-server.js";
import type { ProtocolFactory } from "../protocols/protocol.js";
import { Server } from "../protocols/server.js";
import { wasReported } from "../protocols/transport.js";
import type { ListenTarget, ServerOptions } from "../protocols/server-options.js";
import { type DirectHandler, type HandlerEnds, kServeDirect } from "./handler-ends.js";
import { StreamProtocol } from "./stream-protocol.js";
import type { StreamReader, StreamReaderOptions } from "./stream-reader.js";
import { resolveReaderOptions } from "./stream-reader-options.js";
import type { StreamWriter } from "./stream-writer.js";

/** Handles one connection; may be async. */
export type ConnectionHandler = (reader: StreamReader, writer: StreamWriter) => unknown;

/** Options of {@link startServer}: the server's and each connection's reader's. */
export interface StartServerOptions extends ServerOptions, StreamReaderOptions {}

/**
 * Starts a server that calls `handler(reader, writer)` for each connection,
 * asyncio's `start_server`. Resolves once it listens.
 *
 * When the handler settles the connection is closed, after flushing what was
 * written. A handler that throws or rejects is reported through
 * `options.onError` (default: stderr, with its stack) and only its own
 * connection is closed; the server goes on serving. `waitClosed()` waits for
 * every handler to settle.
 *
 * `host` and `port` are as in `createServer`.
 */
export async function startServer(
  handler: ConnectionHandler,
  host: string | string[] | null | undefined,
  port: number,
  options: StartServerOptions = {},
): Promise<Server> {
  return start(handler, { host, port: validatePort(port) }, options);
}

/** As {@link startServer}, on a Unix socket at `path`; see `createUnixServer` for the file's life and errors. */
export async function startUnixServer(
  handler: ConnectionHandler,
  path: string,
  options: StartServerOptions = {},
): Promise<Server> {
  return start(handler, { path }, options);
}

async function start(
  handler: ConnectionHandler,
  target: ListenTarget,
  options: StartServerOptions,
): Promise<Server> {
  const server = streamServer(handler, options, (factory) => new Server(factory, options));
  await server.listen(target);
  return server;
}

/**
 * The server of {@link startServer}, made by `make` with a protocol factory
 * that runs `handler` per connection, not listening yet: for a server whose
 * connections come from elsewhere (`serveInMemory` in `asyncnet/testing`).
 * @throws {TypeError} when `handler` is not a function.
 * @throws {RangeError} for a bad `options.limit`.
 */
export function streamServer<S extends Server>(
  handler: ConnectionHandler,
  options: StreamReaderOptions,
  make: (factory: ProtocolFactory) => S,
): S {
  if (typeof handler !== "function") throw new TypeError("Invalid handler: expected a function");
  resolveReaderOptions(options);
  // The handler's end, made once per server: each connection binds them to its
  // writer (see runHandler).
  const ends: HandlerEnds = {
    done(this: StreamWriter) {
      handlerDone(server, this);
    },
    failed(this: StreamWriter, error: unknown) {
      handlerFailed(server, this, error);
    },
  };
  const onConnected = (reader: StreamReader, writer: StreamWriter) => {
    runHandler(server, handler, reader, writer, ends);
  };
  const server = make(() => new StreamProtocol(options, onConnected));
  return server;
}

// No async frame per connection: a suspended async function (its generator,
// registers, context and await closures) was the largest part of an idle
// connection's heap. What waits on the handler's promise is two functions bound
// to the writer (48 B each), not two closures and the context they share (160 B).
function runHandler(
  server: Server,
  handler: ConnectionHandler,
  reader: StreamReader,
  writer: StreamWriter,
  ends: HandlerEnds,
): void {
  // Counted until the connection is closed after it: waitClosed() waits for both.
  server.beginTask();
  // serveLines' loop tells the ends itself: no reaction on its promise.
  const direct = (handler as DirectHandler)[kServeDirect];
  if (direct !== undefined) {
    direct(reader, writer, ends);
    return;
  }
  let result: unknown;
  try {
    result = handler(reader, writer);
  } catch (error) {
    handlerFailed(server, writer, error);
    return;
  }
  if (!(result instanceof Promise)) {
    // As `await` would: a thenable is followed, anything else is the handler's end.
    if (!isThenable(result)) {
      handlerDone(server, writer);
      return;
    }
    result = Promise.resolve(result);
  }
  (result as Promise<unknown>).then(ends.done.bind(writer), ends.failed.bind(writer));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The handler threw or rejected: report it, then close only its connection. */
function handlerFailed(server: Server, writer: StreamWriter, error: unknown): void {
  try {
    // A failed startTls was reported when it failed: a handler that lets it propagate adds nothing.
    if (!wasReported(error)) server.reportError(error, writer.transport);
  } catch {
    // A throwing onError must not keep this connection open.
  }
  handlerDone(server, writer);
}

function handlerDone(server: Server, writer: StreamWriter): void {
  try {
    writer.close();
  } finally {
    server.endTask();
  }
}
