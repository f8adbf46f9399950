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
export { DEFAULT_SHUTDOWN_GRACE_MS, type ShutdownOptions } from "./protocols/graceful-shutdown.js";
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
  type LineVisitor,
  type ReadOptions,
  type Separator,
  StreamReader,
  type StreamReaderOptions,
} from "./streams/stream-reader.js";
export { SHUTDOWN_SETTLE_MS } from "./streams/stream-protocol.js";
export { StreamWriter } from "./streams/stream-writer.js";
export { ProxyHeaderError } from "./errors.js";
export type {
  ProxyAddress,
  ProxyFamily,
  ProxyHeader,
  ProxyInetAddress,
  ProxyRawTlv,
  ProxySslTlv,
  ProxyTlvs,
  ProxyTransport,
  ProxyUnixAddress,
} from "./framing/proxy-header.js";
export {
  buildProxyHeaderV1,
  type ProxyHeaderV1Endpoints,
} from "./framing/proxy-header-build-v1.js";
export {
  buildProxyHeaderV2,
  type ProxyHeaderV2Options,
  type ProxySslTlvInput,
  type ProxyTlvsInput,
} from "./framing/proxy-header-build-v2.js";
export { crc32c } from "./framing/proxy-header-crc32c.js";
export {
  DEFAULT_PROXY_HEADER_MAX_BYTES,
  PROXY_V1_MAX_BYTES,
  PROXY_V2_MAX_BYTES,
  ProxyHeaderParser,
  type ProxyHeaderParserOptions,
  type ProxyHeaderParserState,
  type ProxyHeaderResult,
} from "./framing/proxy-header-parser.js";
