/**
 * The facts of one connection, taken once when it starts (as asyncio fills a
 * transport's `extra` when it is made), so that they outlive the socket and can
 * come from somewhere other than the socket (a PROXY header).
 *
 * @module
 */

import type { CipherNameAndProtocol, PeerCertificate } from "node:tls";
import type { ProxyHeader, ProxyTlvs } from "../framing/proxy-header.js";
import type { TransportStream } from "./transport-stream.js";

/** The address of one end of a TCP connection, as Node reports it. */
export interface SocketAddress {
  /** The IP address, e.g. `"127.0.0.1"` or `"::1"`. */
  readonly address: string;
  /** The TCP port. */
  readonly port: number;
  /** `"IPv4"` or `"IPv6"`. */
  readonly family: string;
}

/** The TLS state of a secure connection, as it was when the handshake finished. */
export interface TlsInfo {
  /** The negotiated protocol version, such as `"TLSv1.3"`; `null` if Node could not tell. */
  readonly protocol: string | null;
  /** The negotiated cipher (`name`, `standardName`, `version`). */
  readonly cipher: CipherNameAndProtocol;
  /**
   * The certificate the peer presented, as `getPeerCertificate()` gave it:
   * an empty object when the peer sent none (a client of a server that does
   * not ask for one).
   */
  readonly peerCertificate: PeerCertificate;
  /** Whether the peer's certificate was verified against the trusted CAs. */
  readonly authorized: boolean;
  /** The ALPN protocol agreed on, or `false` when none was. */
  readonly alpnProtocol: string | false;
}

/**
 * What a PROXY protocol header said about a connection that came through a
 * proxy (see the server's `proxyProtocol` option), and the proxy's own
 * connection.
 */
export interface ProxyInfo {
  /** The header as parsed: version, command (`"local"` for a health check), endpoints, TLVs. */
  readonly header: ProxyHeader;
  /** The header's TLVs (`header.tlvs`): `raw: []` for v1 or a v2 header without any. */
  readonly tlvs: ProxyTlvs;
  /** The proxy's end of the TCP connection the header came on. */
  readonly peername: SocketAddress | string | undefined;
  /** The server's end of that connection. */
  readonly sockname: SocketAddress | string | undefined;
}

/**
 * A read-only snapshot of a connection's facts, made once when the transport
 * is created and kept after the socket is gone. `getExtraInfo` answers from it.
 *
 * For a Unix socket, `peername` and `sockname` are paths: the server's path on
 * the side that knows it (the server's `sockname`, the client's `peername`),
 * `""` on the other, unnamed end. They are `undefined` when the stream could
 * not tell (it was already reset, or it is not a socket).
 *
 * A STARTTLS upgrade (`Transport.startTls`) replaces the transport's snapshot
 * by a new one, the same with `tls` set, once the handshake is done.
 *
 * Made by the server or client from the socket; a layer in front of the
 * protocol (PROXY protocol, say) may make it instead, with other facts, before
 * the protocol sees the connection. Fields may be added in later versions
 * (such as `proxy`); none will be removed.
 */
export interface ConnectionInfo {
  /** The remote end. */
  readonly peername: SocketAddress | string | undefined;
  /** The local end. */
  readonly sockname: SocketAddress | string | undefined;
  /** Set on a TLS connection, absent otherwise. */
  readonly tls?: TlsInfo;
  /** Set on a connection that came with a PROXY header, absent otherwise. */
  readonly proxy?: ProxyInfo;
}

/** Names for the ends a Unix socket cannot name itself; see {@link ConnectionInfo}. */
export interface EndNames {
  peername?: string;
  sockname?: string;
}

/** The members of a `net.Socket` / `tls.TLSSocket` the snapshot reads, all optional. */
interface SocketLike {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly remoteFamily?: string;
  address?(): object | string;
  readonly encrypted?: boolean;
  getProtocol?(): string | null;
  getCipher?(): CipherNameAndProtocol;
  getPeerCertificate?(): PeerCertificate;
  readonly authorized?: boolean;
  readonly alpnProtocol?: string | false | null;
  readonly connecting?: boolean;
  readonly _handle?: NativeHandle | null;
}

/** What Node's TCP (and TLS) handles answer for a socket's ends: 0, or an error code. */
interface NativeHandle {
  getpeername?(out: Name): number;
  getsockname?(out: Name): number;
}

/** The fields Node's handle fills in. */
interface Name {
  address?: string | undefined;
  port?: number | undefined;
  family?: string | undefined;
}

// One scratch object for every capture: the handle fills it, the snapshot copies it.
const scratch: Name = {};
// The last addresses seen, so that connections from one peer, and every
// connection of one listening socket, share a string and an object.
let lastPeerHost = "";
let lastLocal: SocketAddress = Object.freeze({ address: "", port: 0, family: "" });

/**
 * Takes the snapshot of `stream`'s connection now: addresses (or `names` for
 * the ends a Unix socket leaves unnamed) and, on a TLS socket, its TLS state.
 * A stream that is not a socket gives `undefined` addresses and no `tls`.
 */
export function captureConnectionInfo(stream: object, names?: EndNames): ConnectionInfo {
  const socket = stream as SocketLike;
  const tlsInfo = socket.encrypted === true ? captureTls(socket) : undefined;
  const handle = socket._handle;
  if (
    handle !== undefined &&
    handle !== null &&
    typeof handle.getpeername === "function" &&
    typeof handle.getsockname === "function" &&
    socket.connecting !== true
  ) {
    // Asked of the handle, as Node's getters do, but without their cache: Node
    // keeps `_peername` and `_sockname` objects on the socket once asked, and
    // two objects, two strings and a property per connection were a tenth of an
    // idle connection's heap. The same facts: Node's getters read the same calls.
    const peer = nameOf(handle, "getpeername");
    const host = peer === undefined ? undefined : internPeer(peer.address);
    const port = peer?.port;
    const local = nameOf(handle, "getsockname");
    return Object.freeze(
      new SocketConnectionInfo(
        port === undefined ? (host ?? names?.peername) : host,
        port,
        local === undefined ? names?.sockname : internLocal(local),
        tlsInfo,
      ),
    );
  }
  const port = socket.remotePort;
  // Bun gives an unnamed Unix socket { address, family, port } all undefined.
  const local = typeof socket.address === "function" ? socket.address() : undefined;
  const localInfo =
    typeof local === "object" && typeof (local as { port?: unknown }).port === "number"
      ? internLocal(local as SocketAddress)
      : undefined;
  return Object.freeze(
    new SocketConnectionInfo(
      port === undefined ? (socket.remoteAddress ?? names?.peername) : socket.remoteAddress,
      port,
      localInfo ?? names?.sockname,
      tlsInfo,
    ),
  );
}

/** One end's name from the handle, in the scratch object, or undefined when it has none (a Unix socket, a reset peer). */
function nameOf(handle: NativeHandle, method: "getpeername" | "getsockname"): Name | undefined {
  scratch.address = undefined;
  scratch.port = undefined;
  scratch.family = undefined;
  if ((handle[method] as (out: Name) => number)(scratch) !== 0) return undefined;
  return typeof scratch.port === "number" ? scratch : undefined;
}

function internPeer(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host !== lastPeerHost) lastPeerHost = host;
  return lastPeerHost;
}

function internLocal(name: Name): SocketAddress {
  const { address: host = "", port = 0, family = "" } = name;
  const last = lastLocal;
  if (last.address === host && last.port === port && last.family === family) return last;
  lastLocal = address(host, port, family);
  return lastLocal;
}

/**
 * The snapshot {@link captureConnectionInfo} makes: the facts are read from the
 * socket at once (so they outlive it), but kept as the strings and numbers Node
 * gives, the peer's made into a `SocketAddress` only when asked for (the local
 * end's is shared by the connections of one listening socket). The family is
 * the address's own: an IPv6 address has a colon, an IPv4 one never.
 * Measured: three objects fewer per idle connection than a snapshot of plain
 * objects (about 150 bytes of heap each, at ten thousand connections).
 */
class SocketConnectionInfo implements ConnectionInfo {
  // The remote end as Node reported it: an IP address and port, or a name (a Unix path).
  readonly #peerHost: string | undefined;
  readonly #peerPort: number | undefined;
  readonly #local: SocketAddress | string | undefined;
  // Declared, not a field: a plain connection's snapshot has no `tls` slot at all
  // (8 bytes of every idle connection), as the interface says it is absent.
  declare readonly tls?: TlsInfo;

  constructor(
    peerHost: string | undefined,
    peerPort: number | undefined,
    local: SocketAddress | string | undefined,
    tlsInfo: TlsInfo | undefined,
  ) {
    this.#peerHost = peerHost;
    this.#peerPort = peerPort;
    this.#local = local;
    if (tlsInfo !== undefined) (this as { tls?: TlsInfo }).tls = tlsInfo;
  }

  get peername(): SocketAddress | string | undefined {
    if (this.#peerPort === undefined) return this.#peerHost;
    const host = this.#peerHost ?? "";
    return address(host, this.#peerPort, host.includes(":") ? "IPv6" : "IPv4");
  }

  get sockname(): SocketAddress | string | undefined {
    return this.#local;
  }

  /** The peer's IP address without making its `SocketAddress` (for the per-peer count). */
  get peerAddress(): string | undefined {
    return this.#peerPort === undefined ? undefined : this.#peerHost;
  }

  /** The facts as a plain object, for `JSON.stringify` and logs. */
  toJSON(): {
    peername: SocketAddress | string | undefined;
    sockname: SocketAddress | string | undefined;
    tls?: TlsInfo;
  } {
    const { peername, sockname, tls: tlsInfo } = this;
    return tlsInfo === undefined ? { peername, sockname } : { peername, sockname, tls: tlsInfo };
  }
}

function captureTls(socket: SocketLike): TlsInfo {
  return Object.freeze({
    protocol: socket.getProtocol?.() ?? null,
    cipher: socket.getCipher?.() as CipherNameAndProtocol,
    peerCertificate: socket.getPeerCertificate?.() as PeerCertificate,
    authorized: socket.authorized === true,
    alpnProtocol: socket.alpnProtocol ?? false,
  });
}

function address(host: string, port: number, family: string): SocketAddress {
  return Object.freeze({ address: host, port, family });
}

/**
 * The key a per-peer limit counts under: the peer's IP address, or `undefined`
 * when there is none (a Unix socket, a peer already gone), which no per-peer
 * limit applies to.
 */
export function peerKey(info: ConnectionInfo): string | undefined {
  if (info instanceof SocketConnectionInfo) return info.peerAddress;
  return typeof info.peername === "object" ? info.peername.address : undefined;
}

/**
 * @internal `info` after a STARTTLS upgrade on `secure`: the same addresses,
 * with the TLS state the handshake ended with.
 */
export function withTlsOf(info: ConnectionInfo, secure: object): ConnectionInfo {
  const { tls: tlsInfo } = captureConnectionInfo(secure);
  // Named one by one: a socket's snapshot keeps its addresses behind getters.
  const { peername, sockname } = info;
  return Object.freeze({ peername, sockname, tls: tlsInfo });
}

/**
 * @internal What `Transport.getExtraInfo(name, fallback)` answers, from `info`
 * and the transport's current `stream`.
 */
export function extraInfoOf(
  info: ConnectionInfo,
  stream: TransportStream,
  name: string,
  fallback: unknown,
): unknown {
  switch (name) {
    case "peername":
      return info.peername ?? fallback;
    case "sockname":
      return info.sockname ?? fallback;
    case "socket":
      return stream;
    case "peercert":
      return info.tls?.peerCertificate ?? fallback;
    case "cipher":
      return info.tls?.cipher ?? fallback;
    case "protocol":
      return info.tls?.protocol ?? fallback;
    case "proxy":
      return info.proxy ?? fallback;
    default:
      return fallback;
  }
}

/** What `Transport.getExtraInfo` answers for each of asyncio's names. */
export interface ExtraInfo {
  /** The remote end: see {@link ConnectionInfo}. */
  peername: SocketAddress | string;
  /** The local end: see {@link ConnectionInfo}. */
  sockname: SocketAddress | string;
  /** The stream the transport drives (a `net.Socket` or `tls.TLSSocket` for a server or client). */
  socket: TransportStream;
  /** TLS only: the peer's certificate. */
  peercert: PeerCertificate;
  /** TLS only: the negotiated cipher. */
  cipher: CipherNameAndProtocol;
  /** TLS only: the negotiated protocol version, such as `"TLSv1.3"`. */
  protocol: string;
  /** PROXY protocol only: the header and the proxy's connection (see {@link ProxyInfo}). */
  proxy: ProxyInfo;
}

/** The type of `getExtraInfo(name, fallback)`: typed for the names of {@link ExtraInfo}, `unknown` otherwise. */
export type ExtraInfoValue<K extends string, F> = K extends keyof ExtraInfo
  ? ExtraInfo[K] | F
  : unknown;
