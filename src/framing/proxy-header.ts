/**
 * The model of a PROXY protocol header (HAProxy's `proxy-protocol.txt`,
 * versions 1 and 2), shared by the parser and the builders.
 *
 * @module
 */

/**
 * The address family: `"inet"` (IPv4: v1 `TCP4`, v2 `AF_INET`), `"inet6"`
 * (IPv6: v1 `TCP6`, v2 `AF_INET6`), `"unix"` (v2 `AF_UNIX`) or `"unspec"`
 * (v1 `UNKNOWN`, v2 `AF_UNSPEC`).
 */
export type ProxyFamily = "inet" | "inet6" | "unix" | "unspec";

/** The transport: `"stream"` (TCP, UNIX stream), `"dgram"` (UDP, UNIX datagram) or `"unspec"`. */
export type ProxyTransport = "stream" | "dgram" | "unspec";

/**
 * An IP endpoint. `address` is IPv4 dotted quad or IPv6 text: v1 gives it as
 * sent (already strictly validated), v2 formats it (lower case, the longest
 * zero run as `::`, `::ffff:a.b.c.d` for IPv4-mapped addresses).
 */
export interface ProxyInetAddress {
  /** The IP address as text (see above). */
  address: string;
  /** 0..65535. */
  port: number;
}

/**
 * An AF_UNIX endpoint (v2 only). `path` is the UTF-8 path up to its first NUL
 * (`""` for an all-zero, unnamed address); an abstract address (first byte NUL)
 * is `"\0"` followed by its name without the trailing NUL padding.
 */
export interface ProxyUnixAddress {
  /** The socket's path (see above). */
  path: string;
}

/** A source or destination endpoint. */
export type ProxyAddress = ProxyInetAddress | ProxyUnixAddress;

/** One TLV as it was on the wire: its type byte and its value (without type and length). */
export interface ProxyRawTlv {
  /** 0..255. */
  type: number;
  /** The value's bytes, without type and length. */
  value: Buffer;
}

/**
 * The decoded `PP2_TYPE_SSL` TLV: the client's TLS connection as the proxy saw it.
 * Strings are UTF-8 (the spec says US-ASCII for all but `cn`; ASCII is a subset).
 */
export interface ProxySslTlv {
  /** The `client` bit field: 0x01 SSL, 0x02 certificate on this connection, 0x04 in this session. */
  client: number;
  /** `client & 0x01`: the client connected over TLS. */
  ssl: boolean;
  /** `client & 0x02`: the client presented a certificate on this connection. */
  certConn: boolean;
  /** `client & 0x04`: the client presented a certificate at least once in this TLS session. */
  certSess: boolean;
  /** The `verify` field (unsigned 32-bit): 0 when a certificate was presented and verified. */
  verify: number;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21), e.g. `"TLSv1.3"`. */
  version?: string;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name. */
  cn?: string;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23), e.g. `"ECDHE-RSA-AES128-GCM-SHA256"`. */
  cipher?: string;
  /** `PP2_SUBTYPE_SSL_SIG_ALG` (0x24), e.g. `"RSA-SHA256"`. */
  sigAlg?: string;
  /** `PP2_SUBTYPE_SSL_KEY_ALG` (0x25), e.g. `"RSA2048"`. */
  keyAlg?: string;
  /** `PP2_SUBTYPE_SSL_GROUP` (0x26), e.g. `"secp256r1"`. */
  group?: string;
  /** `PP2_SUBTYPE_SSL_SIG_SCHEME` (0x27), e.g. `"rsa_pss_rsae_sha256"`. */
  sigScheme?: string;
  /** `PP2_SUBTYPE_SSL_CLIENT_CERT` (0x28): the client certificate, DER. */
  clientCert?: Buffer;
  /** Every sub-TLV in wire order, the decoded ones included. */
  raw: ProxyRawTlv[];
}

/**
 * The TLVs of a v2 header, decoded where the type is registered. A v1 header,
 * or a v2 header without TLVs, has only `raw: []`. Each decoded type may
 * appear at most once (a second one is an error), NOOP and unknown types any
 * number of times.
 */
export interface ProxyTlvs {
  /** `PP2_TYPE_ALPN` (0x01): the negotiated protocol's bytes, e.g. `h2`. */
  alpn?: Buffer;
  /** `PP2_TYPE_AUTHORITY` (0x02): the host name the client asked for (TLS SNI), UTF-8. */
  authority?: string;
  /** `PP2_TYPE_CRC32C` (0x03): the checksum, already verified against the header. */
  crc32c?: number;
  /** `PP2_TYPE_NOOP` (0x04): how many NOOP TLVs there were (their values are ignored). */
  noop?: number;
  /** `PP2_TYPE_UNIQUE_ID` (0x05): an opaque connection id of at most 128 bytes. */
  uniqueId?: Buffer;
  /** `PP2_TYPE_SSL` (0x20) with its sub-TLVs. */
  ssl?: ProxySslTlv;
  /** `PP2_TYPE_NETNS` (0x30): the network namespace's name. */
  netns?: string;
  /** Every TLV in wire order, the decoded ones included, so a header can be re-encoded as it was. */
  raw: ProxyRawTlv[];
}

/**
 * A complete, valid PROXY header.
 *
 * `source` and `destination` are present only for v1 `TCP4`/`TCP6` and v2
 * `PROXY` with a family other than `AF_UNSPEC`: for v1 `UNKNOWN`, v2 `LOCAL`
 * and v2 `AF_UNSPEC` the receiver keeps the real connection's endpoints.
 */
export interface ProxyHeader {
  /** 1 for the text header (`PROXY TCP4 …\r\n`), 2 for the binary one. */
  version: 1 | 2;
  /** `"local"` only in v2 (a health check by the proxy itself); v1 is always `"proxy"`. */
  command: "proxy" | "local";
  /** As declared, even for `LOCAL`, whose family the spec says to ignore. */
  family: ProxyFamily;
  /** v2 always; v1 `"stream"` for `TCP4`/`TCP6`, absent for `UNKNOWN`. */
  transport?: ProxyTransport;
  /** The client's endpoint, as the proxy saw it (see above for when it is absent). */
  source?: ProxyAddress;
  /** The endpoint the client connected to, absent as {@link source} is. */
  destination?: ProxyAddress;
  /** The v2 TLVs, decoded; for v1 always `{ raw: [] }`. */
  tlvs: ProxyTlvs;
  /** The header's length on the wire in bytes: v1 its line with CRLF, v2 16 + its length field. */
  headerLength: number;
}
