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
  readonly address: string;
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
}

/**
 * Takes the snapshot of `stream`'s connection now: addresses (or `names` for
 * the ends a Unix socket leaves unnamed) and, on a TLS socket, its TLS state.
 * A stream that is not a socket gives `undefined` addresses and no `tls`.
 */
export function captureConnectionInfo(stream: object, names?: EndNames): ConnectionInfo {
  const socket = stream as SocketLike;
  const peername =
    socket.remotePort === undefined
      ? (socket.remoteAddress ?? names?.peername)
      : address(socket.remoteAddress ?? "", socket.remotePort, socket.remoteFamily ?? "");
  const local = typeof socket.address === "function" ? socket.address() : undefined;
  // Bun gives an unnamed Unix socket { address, family, port } all undefined.
  const sockname =
    typeof local === "object" && typeof (local as { port?: unknown }).port === "number"
      ? fromAddressInfo(local as SocketAddress)
      : names?.sockname;
  if (socket.encrypted !== true) return Object.freeze({ peername, sockname });
  return Object.freeze({ peername, sockname, tls: captureTls(socket) });
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

function fromAddressInfo(info: SocketAddress): SocketAddress {
  return address(info.address, info.port, info.family);
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
  return typeof info.peername === "object" ? info.peername.address : undefined;
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
  /** PROXY protocol only: the header and the proxy's connection (see {@link ProxyInfo}). */
  proxy: ProxyInfo;
}

/** The type of `getExtraInfo(name, fallback)`: typed for the names of {@link ExtraInfo}, `unknown` otherwise. */
export type ExtraInfoValue<K extends string, F> = K extends keyof ExtraInfo
  ? ExtraInfo[K] | F
  : unknown;
