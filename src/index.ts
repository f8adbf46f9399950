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
  type AsyncNetErrorOptions,
  ConcurrentReadError,
  ConnectionClosedError,
  type ConnectionLostError,
  ConnectionResetError,
  type ErrorPeer,
  IncompleteReadError,
  InvalidStateError,
  isConnectionLost,
  LimitOverrunError,
  TimeoutError,
  TlsHandshakeError,
  type TimeoutErrorOptions,
} from "./errors.js";
export {
  type ConnectionOptions,
  createConnection,
  createUnixConnection,
} from "./protocols/create-connection.js";
export { createServer, createUnixServer } from "./protocols/create-server.js";
export { type Clock, type ClockTimer, systemClock } from "./protocols/clock.js";
export { DEFAULT_SHUTDOWN_GRACE_MS, type ShutdownOptions } from "./protocols/graceful-shutdown.js";
export type { AdmissionLimits, DropReason } from "./protocols/admission.js";
export type {
  ConnectionInfo,
  ExtraInfo,
  ExtraInfoValue,
  SocketAddress,
  TlsInfo,
} from "./protocols/connection-info.js";
export type { Protocol, ProtocolFactory } from "./protocols/protocol.js";
export { Server } from "./protocols/server.js";
export {
  defaultOnError,
  type ListenTarget,
  type ServerOptions,
} from "./protocols/server-options.js";
export {
  CLOSE_CAUSES,
  type CloseCause,
  DROP_REASONS,
  type ServerStats,
} from "./protocols/server-stats.js";
export type {
  BufferedPlaintextPolicy,
  StartTlsClientOptions,
  StartTlsCommonOptions,
  StartTlsOptions,
  StartTlsServerOptions,
} from "./protocols/start-tls.js";
export {
  type CloseOptions,
  LINGER_MS,
  Transport,
  type TransportOptions,
} from "./protocols/transport.js";
export type { TransportStream } from "./protocols/transport-stream.js";
export { MAX_UNIX_PATH_BYTES } from "./protocols/unix-socket.js";
export type { WriteBufferLimits } from "./protocols/write-buffer-limits.js";
export {
  type OpenConnectionOptions,
  openConnection,
  openUnixConnection,
  type StreamPair,
} from "./streams/open-connection.js";
export { type ConnectionLogger, silentLogger } from "./streams/connection-logger.js";
export type {
  LineConnection,
  LineConnectionInfo,
  LineReply,
  LineSession,
  LinesEnd,
  SyncLineReply,
} from "./streams/line-session.js";
export type { LineWriter } from "./streams/line-loop.js";
export { type LinesHandler, serveLines, type ServeLinesOptions } from "./streams/serve-lines.js";
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
  type TokenVisitor,
} from "./streams/stream-reader.js";
export { SHUTDOWN_SETTLE_MS, StreamProtocol } from "./streams/stream-protocol.js";
export {
  type DrainOptions,
  type StreamStartTlsOptions,
  StreamWriter,
} from "./streams/stream-writer.js";
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
// The PROXY protocol in the server (the front door) and the client's header.
export { ProxyRefusedError, type ProxyRefusalReason } from "./errors.js";
export type { ProxyInfo } from "./protocols/connection-info.js";
export {
  addTrustedProxy,
  DEFAULT_PROXY_HEADER_TIMEOUT,
  DEFAULT_TRUSTED_PROXIES,
  proxiedConnectionInfo,
  type ProxyProtocolOptions,
} from "./protocols/proxy-front-door.js";
export { type ProxyHeaderOption, proxyHeaderBytes } from "./protocols/create-connection.js";
export {
  type StartedWorkers,
  type StartWorkersOptions,
  startWorkers,
  superviseSignals,
} from "./workers/start-workers.js";
export { Supervisor, type SupervisorLog, type SupervisorOptions } from "./workers/supervisor.js";
