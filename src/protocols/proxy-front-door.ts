/**
 * The server's front door for the PROXY protocol: a connection from a trusted
 * proxy must start with a PROXY header (v1 or v2), read here from the raw
 * socket before anything else sees a byte; the connection's facts are then
 * the client's, as the header gives them.
 *
 * @module
 */

import net from "node:net";
import { ProxyRefusedError } from "../errors.js";
import type { ProxyAddress, ProxyHeader } from "../framing/proxy-header.js";
import { ProxyHeaderParser } from "../framing/proxy-header-parser.js";
import type { Clock, ClockTimer } from "./clock.js";
import type { ConnectionInfo, ProxyInfo, SocketAddress } from "./connection-info.js";
import { ReportLimiter } from "./report-limiter.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";

/** The proxies trusted by default: loopback only, `127.0.0.0/8` and `::1`. */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = Object.freeze(["127.0.0.0/8", "::1/128"]);

/** How long a connection may take to send its whole header by default: 5000 ms. */
export const DEFAULT_PROXY_HEADER_TIMEOUT = 5000;

/** The server option `proxyProtocol`. Every field is optional. */
export interface ProxyProtocolOptions {
  /**
   * The proxies whose headers are believed: CIDRs (`"10.0.0.0/8"`,
   * `"fd00::/8"`) or single addresses (`"192.0.2.7"`: a /32 or /128), or a
   * `net.BlockList` of them. An IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`) is
   * checked as its IPv4 address. A connection from any other address is
   * closed before a byte is read. Unix socket connections are always trusted
   * (only a local process that may open the socket file can connect).
   * Default {@link DEFAULT_TRUSTED_PROXIES}: loopback only.
   */
  trusted?: readonly string[] | net.BlockList;
  /**
   * Close a connection whose header is not complete this many ms after the
   * accept, on the server's `clock`. Integer 1..2³¹ − 1; default
   * {@link DEFAULT_PROXY_HEADER_TIMEOUT} (5000).
   */
  headerTimeout?: number;
  /** The parser's cap on a v2 header, TLVs included: see `ProxyHeaderParserOptions`. Default 4096. */
  maxHeaderBytes?: number;
  /**
   * Where refusals are reported (an untrusted peer, a malformed header, the
   * connection ending within its header, the header timeout), with the facts
   * of the proxy's connection: at most one call a second, the first at once,
   * each one after it within the second counted in the next call's message
   * (`(N more since the last report)`). Default: the server's `onError`.
   */
  onRefused?: (error: ProxyRefusedError, info: ConnectionInfo) => void;
}

/** {@link ProxyProtocolOptions} checked, with defaults filled in. */
export interface ResolvedProxyProtocol {
  trusted: net.BlockList;
  headerTimeout: number;
  maxHeaderBytes: number | undefined;
}

/**
 * Parses one `--trusted-proxy`/`trusted` entry: `address/prefix` or a bare
 * address (a /32 or /128), and adds it to `list`.
 * @throws {TypeError} when `entry` is not a string.
 * @throws {RangeError} when it is not an IPv4 or IPv6 address with an optional
 *   prefix length in range (0..32, 0..128).
 */
export function addTrustedProxy(list: net.BlockList, entry: string): void {
  if (typeof entry !== "string") {
    throw new TypeError(`Invalid trusted proxy: expected a string, got ${typeof entry}`);
  }
  const slash = entry.indexOf("/");
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = net.isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefixText = slash === -1 ? String(max) : entry.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (version === 0 || !(prefix <= max)) {
    throw new RangeError(
      `Invalid trusted proxy: ${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR`,
    );
  }
  list.addSubnet(address, prefix, version === 6 ? "ipv6" : "ipv4");
}

/**
 * Checks `options` and fills in the defaults.
 * @throws {TypeError} for a `trusted` that is neither an array nor a BlockList.
 * @throws {RangeError} for a bad CIDR or a `headerTimeout` out of range.
 */
export function resolveProxyProtocol(options: ProxyProtocolOptions): ResolvedProxyProtocol {
  const { headerTimeout = DEFAULT_PROXY_HEADER_TIMEOUT, trusted = DEFAULT_TRUSTED_PROXIES } =
    options;
  if (!Number.isSafeInteger(headerTimeout) || headerTimeout < 1 || headerTimeout > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Invalid server option: proxyProtocol.headerTimeout must be an integer in 1..${MAX_TIMEOUT_MS} ms, got ${headerTimeout}`,
    );
  }
  let list: net.BlockList;
  if (trusted instanceof net.BlockList) {
    list = trusted;
  } else if (Array.isArray(trusted)) {
    list = new net.BlockList();
    for (const entry of trusted) addTrustedProxy(list, entry);
  } else {
    throw new TypeError(
      "Invalid server option: proxyProtocol.trusted must be an array of CIDRs or a net.BlockList",
    );
  }
  // The parser checks its own option; made once here so a bad one throws before listening.
  new ProxyHeaderParser({ maxHeaderBytes: options.maxHeaderBytes });
  return { trusted: list, headerTimeout, maxHeaderBytes: options.maxHeaderBytes };
}

function endpoint(address: ProxyAddress, family: string): SocketAddress | string {
  if ("path" in address) return address.path;
  return Object.freeze({
    address: address.address,
    port: address.port,
    family: family === "inet6" ? "IPv6" : "IPv4",
  });
}

/**
 * The facts of a connection that came with `header` on a connection whose own
 * facts are `real`: the header's source and destination as `peername` and
 * `sockname`, unless it is a `LOCAL` (health check) or address-less one
 * (v1 `UNKNOWN`, v2 `AF_UNSPEC`), which keeps the real ones. `proxy` holds
 * the header and the real endpoints either way.
 */
export function proxiedConnectionInfo(real: ConnectionInfo, header: ProxyHeader): ConnectionInfo {
  const proxy: ProxyInfo = Object.freeze({
    header,
    tlvs: header.tlvs,
    peername: real.peername,
    sockname: real.sockname,
  });
  const { source, destination } = header;
  // Named one by one, not spread: a socket's snapshot keeps its addresses behind getters.
  const { peername, sockname, tls: tlsInfo } = real;
  const base =
    tlsInfo === undefined ? { peername, sockname } : { peername, sockname, tls: tlsInfo };
  if (header.command === "local" || source === undefined || destination === undefined) {
    return Object.freeze({ ...base, proxy });
  }
  return Object.freeze({
    ...base,
    peername: endpoint(source, header.family),
    sockname: endpoint(destination, header.family),
    proxy,
  });
}

function describePeer(info: ConnectionInfo): string {
  const peer = info.peername;
  if (typeof peer === "object") return `${peer.address} port ${peer.port}`;
  if (peer === undefined) return "an unknown address";
  return peer === "" ? "a Unix socket" : peer;
}

/**
 * Reads the PROXY header of each connection the server accepts, then hands
 * the connection on with the facts the header gives (`admit`), or closes it
 * and reports why (`report`, rate-limited: see `ProxyProtocolOptions.onRefused`).
 *
 * The header is required, never guessed. While it is read the connection is
 * not yet admitted: `maxConnections` and `maxConnectionsPerPeer` count it from
 * the header on, by the header's address. Bytes after the header, even in the
 * same segment, are put back on the socket (`unshift`), which is handed on
 * paused, for the application to read first.
 */
export class ProxyFrontDoor {
  readonly #options: ResolvedProxyProtocol;
  readonly #clock: Clock;
  readonly #admit: (socket: net.Socket, info: ConnectionInfo) => void;
  readonly #report: (error: ProxyRefusedError, info: ConnectionInfo) => void;
  readonly #pending = new Set<net.Socket>();
  readonly #reports = new ReportLimiter();
  #refused = 0;

  constructor(
    options: ResolvedProxyProtocol,
    clock: Clock,
    admit: (socket: net.Socket, info: ConnectionInfo) => void,
    report: (error: ProxyRefusedError, info: ConnectionInfo) => void,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#admit = admit;
    this.#report = report;
  }

  /** Connections refused so far (every reason). */
  get refused(): number {
    return this.#refused;
  }

  /** Connections whose header is still being read. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether `peer` (a connection's real `peername`; a string for a Unix socket) may send a header. */
  isTrusted(peer: SocketAddress | string | undefined): boolean {
    if (typeof peer === "string") return true;
    if (peer === undefined) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer.address)?.[1];
    if (mapped !== undefined) return this.#options.trusted.check(mapped, "ipv4");
    return this.#options.trusted.check(peer.address, net.isIPv6(peer.address) ? "ipv6" : "ipv4");
  }

  /** Takes a just-accepted `socket` whose own facts are `info`. */
  accept(socket: net.Socket, info: ConnectionInfo): void {
    if (info.peername === undefined) {
      // Reset before its address could be read (a proxy's health check that closes
      // at once does this): there is no one to refuse, and nothing to report.
      socket.destroy();
      return;
    }
    if (!this.isTrusted(info.peername)) {
      const detail = `${describePeer(info)} is not a trusted proxy`;
      this.#refuse(socket, info, "untrusted", `Cannot accept connection: ${detail}`);
      return;
    }
    const parser = new ProxyHeaderParser({ maxHeaderBytes: this.#options.maxHeaderBytes });
    const from = describePeer(info);
    const finish = (): void => {
      this.#clock.cancel(timer);
      this.#pending.delete(socket);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", finish);
    };
    const onData = (chunk: Buffer): void => {
      const result = parser.push(chunk);
      if (result.status === "incomplete") return;
      finish();
      if (result.status === "error") {
        const message = `Cannot accept connection from ${from}: ${result.error.message}`;
        this.#refuse(socket, info, "malformed", message, result.error);
        return;
      }
      // Paused before it is handed on: the server resumes it once a protocol reads.
      socket.pause();
      if (result.rest.length > 0) socket.unshift(result.rest);
      this.#admit(socket, proxiedConnectionInfo(info, result.header));
    };
    const onEnd = (): void => {
      finish();
      const result = parser.end();
      const cause = result.status === "error" ? result.error : undefined;
      const message = `Cannot accept connection from ${from}: it ended within its PROXY header (${parser.bytesReceived} bytes)`;
      this.#refuse(socket, info, "incomplete", message, cause);
    };
    // A reset before the header is the network's doing, not a proxy's fault: closed, not reported.
    const onError = (): void => {
      finish();
      socket.destroy();
    };
    const { headerTimeout } = this.#options;
    const timer: ClockTimer = this.#clock.schedule(headerTimeout, () => {
      finish();
      const message = `Cannot accept connection from ${from}: no complete PROXY header within ${headerTimeout} ms (${parser.bytesReceived} bytes)`;
      this.#refuse(socket, info, "timeout", message);
    });
    this.#pending.add(socket);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", finish);
    // Started paused when sessions are limited: the header is read regardless.
    socket.resume();
  }

  /** Closes every connection whose header is still being read (the server is closing). */
  close(): void {
    for (const socket of [...this.#pending]) socket.destroy();
  }

  #refuse(
    socket: net.Socket,
    info: ConnectionInfo,
    reason: ProxyRefusedError["reason"],
    message: string,
    cause?: Error,
  ): void {
    socket.destroy();
    this.#refused++;
    const more = this.#reports.take(this.#clock.now());
    if (more === undefined) return;
    this.#report(new ProxyRefusedError(`${message}${more}`, reason, { cause }), info);
  }
}
