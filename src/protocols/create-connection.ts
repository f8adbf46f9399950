import net from "node:net";
import tls from "node:tls";
import { abortReason, TimeoutError } from "../errors.js";
import { captureConnectionInfo } from "./connection-info.js";
import { validatePort } from "./create-server.js";
import type { Protocol, ProtocolFactory } from "./protocol.js";
import {
  resolveWriteBufferLimits,
  Transport,
  validateCloseTimeout,
  type WriteBufferLimits,
} from "./transport.js";
import { type Clock, type ClockTimer, systemClock } from "./clock.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";
import { validateUnixPath } from "./unix-socket.js";
import {
  buildProxyHeaderV1,
  type ProxyHeaderV1Endpoints,
} from "../framing/proxy-header-build-v1.js";
import { buildProxyHeaderV2, type ProxyHeaderV2Options } from "../framing/proxy-header-build-v2.js";

/**
 * A PROXY header for a client to send first: the bytes themselves, or what to
 * build them from: `{ version: 1, source, destination }` (both IPv4 or both
 * IPv6; `TCP4`/`TCP6`) or `{ version: 2, ...ProxyHeaderV2Options }` (command,
 * endpoints, TLVs). For a v1 `UNKNOWN` line, give its bytes.
 */
export type ProxyHeaderOption =
  | Uint8Array
  | ({
      /** A v1 (text) header. */
      version: 1;
    } & ProxyHeaderV1Endpoints)
  | ({
      /** A v2 (binary) header. */
      version: 2;
    } & ProxyHeaderV2Options);

/**
 * The bytes of `option`.
 * @throws {TypeError} for a value of the wrong shape or an unknown `version`.
 * @throws {RangeError} for what the builders refuse (see `buildProxyHeaderV1/V2`).
 */
export function proxyHeaderBytes(option: ProxyHeaderOption): Buffer {
  if (option instanceof Uint8Array) return Buffer.from(option);
  if (typeof option !== "object" || option === null) {
    throw new TypeError("Invalid proxyHeader: expected bytes or { version, ... }");
  }
  if (option.version === 1) return buildProxyHeaderV1(option);
  if (option.version === 2) return buildProxyHeaderV2(option);
  const version = (option as { version?: unknown }).version;
  throw new TypeError(`Invalid proxyHeader: version must be 1 or 2, got ${String(version)}`);
}

/** Options of {@link createConnection} and `openConnection`. Every field is optional. */
export interface ConnectionOptions {
  /**
   * Use TLS: `true` for Node's defaults (certificates verified against the
   * system CAs, server name taken from `host`), or Node's TLS connect options.
   */
  tls?: boolean | tls.ConnectionOptions;
  /** Cancels the connect while it is in progress. */
  signal?: AbortSignal;
  /**
   * Fail with a TimeoutError if the connection (and TLS handshake) takes longer,
   * in ms: no earlier than `connectTimeout`, no later than
   * `connectTimeout + max(connectTimeout / 10, 50 ms)` after the call. Default: none.
   */
  connectTimeout?: number;
  /** Set TCP_NODELAY, as asyncio does. Default `true`. */
  noDelay?: boolean;
  /** Local address to bind before connecting. */
  localAddress?: string;
  /** Write buffer marks. Default high 64 KiB, low 16 KiB. */
  writeBufferLimits?: WriteBufferLimits;
  /** Close the connection after this many ms without progress; see `TransportOptions.idleTimeout`. Default: never. */
  idleTimeout?: number;
  /** Bound every `close()` to this many ms; see `TransportOptions.closeTimeout`. Default: unbounded. */
  closeTimeout?: number;
  /**
   * The clock of the connect timeout, the idle timeout and the close linger.
   * For tests: a virtual clock drives every timeout. Default {@link systemClock}.
   */
  clock?: Clock;
  /**
   * A PROXY protocol header sent before any other byte, as a load balancer
   * would (for a proxy written with asyncnet, or a test of a server behind
   * one): see {@link ProxyHeaderOption}. Built and checked before the socket
   * opens. Not with `tls` (it would have to precede the TLS handshake).
   * Default: none.
   */
  proxyHeader?: ProxyHeaderOption;
}

/**
 * Connects to `host`:`port` and drives a Protocol from `protocolFactory` on it,
 * asyncio's `loop.create_connection`. Resolves with `[transport, protocol]`
 * once connected (after the TLS handshake with `tls`), when `connectionMade`
 * has already run.
 */
export async function createConnection<P extends Protocol>(
  protocolFactory: ProtocolFactory<P>,
  host: string,
  port: number,
  options: ConnectionOptions = {},
): Promise<[Transport, P]> {
  if (typeof host !== "string" || host === "")
    throw new TypeError("Invalid host: expected a non-empty string");
  validatePort(port);
  return connect(protocolFactory, { host, port }, options);
}

/**
 * As {@link createConnection}, to a Unix socket at `path`. The transport's
 * `peername` is `path`, its `sockname` `""`.
 * @throws {RangeError} when `path` is longer than the platform allows (107
 *   bytes of UTF-8 on Linux), before any socket opens.
 */
export async function createUnixConnection<P extends Protocol>(
  protocolFactory: ProtocolFactory<P>,
  path: string,
  options: ConnectionOptions = {},
): Promise<[Transport, P]> {
  return connect(protocolFactory, { path: validateUnixPath(path) }, options);
}

type Target = { host: string; port: number } | { path: string };

async function connect<P extends Protocol>(
  protocolFactory: ProtocolFactory<P>,
  target: Target,
  options: ConnectionOptions,
): Promise<[Transport, P]> {
  // Validate before connecting, so a bad option never leaves a socket open.
  resolveWriteBufferLimits(options.writeBufferLimits);
  if (options.closeTimeout !== undefined) {
    validateCloseTimeout(options.closeTimeout, "connection option: closeTimeout");
  }
  for (const name of ["connectTimeout", "idleTimeout"] as const) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== "number" || !(value >= 0) || value > MAX_TIMEOUT_MS)
    ) {
      throw new RangeError(
        `Invalid connection option: ${name} must be a number in 0..${MAX_TIMEOUT_MS} ms, got ${value}`,
      );
    }
  }
  let header: Buffer | undefined;
  if (options.proxyHeader !== undefined) {
    if (options.tls) {
      throw new TypeError(
        "Invalid connection options: proxyHeader cannot be combined with tls (the header would have to precede the TLS handshake)",
      );
    }
    header = proxyHeaderBytes(options.proxyHeader);
  }
  const socket = await connectSocket(target, options, header);
  const protocol = protocolFactory();
  const names = "path" in target ? { peername: target.path, sockname: "" } : undefined;
  const transport = new Transport(
    socket,
    protocol,
    {
      writeBufferLimits: options.writeBufferLimits,
      idleTimeout: options.idleTimeout,
      closeTimeout: options.closeTimeout,
      clock: options.clock,
    },
    captureConnectionInfo(socket, names),
  );
  return [transport, protocol];
}

function connectSocket(
  target: Target,
  options: ConnectionOptions,
  header: Buffer | undefined,
): Promise<net.Socket> {
  const { signal, connectTimeout } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const base = { ...target, allowHalfOpen: true, localAddress: options.localAddress };
  let socket: net.Socket;
  let readyEvent: string;
  if (options.tls) {
    const tlsOptions = options.tls === true ? {} : options.tls;
    const servername = "host" in target && net.isIP(target.host) === 0 ? target.host : undefined;
    socket = tls.connect({ servername, ...tlsOptions, ...base });
    readyEvent = "secureConnect";
  } else {
    socket = net.connect(base);
    readyEvent = "connect";
    // Queued until connected, so it is the first byte on the wire.
    if (header !== undefined) socket.write(header);
  }
  if (options.noDelay !== false && "host" in target) socket.setNoDelay(true);

  return new Promise((resolve, reject) => {
    const clock = options.clock ?? systemClock;
    let timer: ClockTimer | undefined;
    const finish = (error?: Error) => {
      if (timer !== undefined) clock.cancel(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.off("error", finish);
      socket.off(readyEvent, onReady);
      if (error === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onReady = () => finish();
    const onAbort = () => finish(abortReason(signal as AbortSignal));
    socket.once(readyEvent, onReady);
    socket.once("error", finish);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (connectTimeout !== undefined && connectTimeout > 0) {
      // A timer of the clock's, not a sweeper: a client has one connect at a time.
      timer = clock.schedule(connectTimeout, () =>
        finish(new TimeoutError(`Cannot connect: timed out after ${connectTimeout} ms`)),
      );
    }
  });
}
