/**
 * The PROXY protocol flags every server subcommand takes: `--proxy-protocol`
 * (expect a PROXY header from a load balancer) and `--trusted-proxy CIDR`.
 *
 * @module
 */

import net from "node:net";
import type { Logger } from "../apps/logger.js";
import {
  addTrustedProxy,
  DEFAULT_PROXY_HEADER_TIMEOUT,
  DEFAULT_TRUSTED_PROXIES,
} from "../protocols/proxy-front-door.js";
import type { ServerOptions } from "../protocols/server.js";
import { UsageError } from "./command.js";

/**
 * The accept queue a server behind a proxy listens with: 4096 (Linux clamps
 * it to `net.core.somaxconn`, 4096 since 5.4). A proxy funnels every client's
 * connect into bursts from one peer (HAProxy opens up to its `maxconn` at
 * once), and an overflowing queue does worse than delay them: the kernel
 * drops the connection's first data segment, so its PROXY header arrives only
 * with the proxy's next retransmission, which TCP's backoff may put after the
 * header timeout (a connection refused with "0 bytes" in 5 s).
 */
export const PROXY_BACKLOG = 4096;

/** `parseArgs` options of the PROXY protocol flags. */
export const PROXY_FLAG_OPTIONS = {
  "proxy-protocol": { type: "boolean" },
  "trusted-proxy": { type: "string", multiple: true },
} as const;

/** The `--help` lines of the PROXY protocol flags. */
export const PROXY_FLAGS_HELP = `  --proxy-protocol    connections come through a load balancer (HAProxy
                      send-proxy/send-proxy-v2, nginx proxy_protocol on) and
                      must start with a PROXY header, v1 or v2: the client it
                      names is the peer everywhere (logs, --max-per-peer). A
                      connection without a valid header within ${DEFAULT_PROXY_HEADER_TIMEOUT / 1000} s, or from
                      an address not trusted, is closed and logged at warn
                      level, at most one line a second, with a count. v2
                      LOCAL (health checks) is served as it is. Listens
                      with an accept queue of ${PROXY_BACKLOG} (the proxy's bursts).
                      With --tls-cert the header comes in plaintext and the
                      TLS handshake follows on the same connection (HAProxy
                      send-proxy-v2 ssl): --tls-handshake-timeout counts from
                      the header's end
  --trusted-proxy CIDR
                      an address or CIDR (10.0.0.0/8, fd00::/8) of the load
                      balancers whose headers are believed; repeatable
                      (default: loopback only, ${DEFAULT_TRUSTED_PROXIES.join(" and ")});
                      needs --proxy-protocol`;

/** The parsed values of {@link PROXY_FLAG_OPTIONS}. */
export interface ProxyFlagValues {
  "proxy-protocol"?: boolean;
  "trusted-proxy"?: string[];
}

/**
 * The server options for the PROXY protocol flags: `{}` without
 * `--proxy-protocol`, else `proxyProtocol` with the trusted proxies and its
 * refusals logged at warn level on `logger` (the library already limits them
 * to one a second), and a `backlog` of {@link PROXY_BACKLOG}.
 * @throws {UsageError} for `--trusted-proxy` without `--proxy-protocol`, or a
 *   value that is not an address or CIDR.
 */
export function proxyServerOptions(values: ProxyFlagValues, logger: Logger): ServerOptions {
  const entries = values["trusted-proxy"] ?? [];
  if (values["proxy-protocol"] !== true) {
    if (entries.length > 0) throw new UsageError("--trusted-proxy needs --proxy-protocol");
    return {};
  }
  const trusted = new net.BlockList();
  for (const entry of entries.length > 0 ? entries : DEFAULT_TRUSTED_PROXIES) {
    try {
      addTrustedProxy(trusted, entry);
    } catch (error) {
      throw new UsageError(
        `Invalid --trusted-proxy: ${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR`,
        { cause: error },
      );
    }
  }
  return {
    backlog: PROXY_BACKLOG,
    proxyProtocol: { trusted, onRefused: (error) => logger.warn(error.message) },
  };
}
