/**
 * asyncnet: asyncio-style asynchronous TCP servers and clients for Node.js.
 *
 * Two layers, as in asyncio: Protocol/Transport callbacks
 * (`createServer`, `createConnection`) and, built on them, coroutine-style
 * streams (`startServer`, `openConnection`, `StreamReader`, `StreamWriter`).
 *
 * @module
 */

export {
  AbortError,
  ConcurrentReadError,
  ConnectionClosedError,
  ConnectionResetError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  TimeoutError,
} from "./errors.js";
export {
  type ConnectionOptions,
  createConnection,
  createUnixConnection,
} from "./protocols/create-connection.js";
export { createServer, createUnixServer } from "./protocols/create-server.js";
export type { Protocol, ProtocolFactory } from "./protocols/protocol.js";
export { type SocketAddress, Transport, type WriteBufferLimits } from "./protocols/transport.js";
export { type ListenTarget, Server, type ServerOptions } from "./server.js";
export {
  type OpenConnectionOptions,
  openConnection,
  openUnixConnection,
  type StreamPair,
} from "./streams/open-connection.js";
export {
  type ConnectionHandler,
  type StartServerOptions,
  startServer,
  startUnixServer,
} from "./streams/start-server.js";
export {
  DEFAULT_LIMIT,
  type LinesOptions,
  type LineVisitor,
  type ReadOptions,
  type Separator,
  StreamReader,
  type StreamReaderOptions,
} from "./streams/stream-reader.js";
export { StreamWriter } from "./streams/stream-writer.js";
