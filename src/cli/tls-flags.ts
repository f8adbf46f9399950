/**
 * The TLS flags of the server subcommands (certificate, key, client
 * verification, handshake timeout, reload on SIGHUP) and of the echo client
 * (`--tls`, `--ca-certificate`, `--insecure`, `--server-name`).
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import tls from "node:tls";
import type { Logger } from "../apps/logger.js";
import { peerLoggerName, peerOf } from "../apps/peer.js";
import type { Server, ServerOptions } from "../protocols/server.js";
import type { Transport } from "../protocols/transport.js";
import { parseSeconds } from "./args.js";
import { UsageError } from "./command.js";
import { WarnLimiter } from "./warn-limiter.js";

/** `parseArgs` options of the server TLS flags. */
export const TLS_SERVER_OPTIONS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "tls-verify-client": { type: "boolean" },
  "tls-handshake-timeout": { type: "string" },
} as const;

/** The CLI servers' TLS handshake timeout: 10 s. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;

/** The `--help` lines of the server TLS flags. */
export const TLS_SERVER_HELP = `  --tls-cert FILE     serve TLS with the certificate (chain) in FILE (PEM);
                      needs --tls-key
  --tls-key FILE      the private key (PEM) of --tls-cert
  --tls-ca FILE       with --tls-verify-client: the CA certificates (PEM) that
                      client certificates must be signed by
  --tls-verify-client mutual TLS: refuse a client without a certificate signed
                      by --tls-ca (logged at warn level with the peer)
  --tls-handshake-timeout SECS
                      close a connection whose TLS handshake is not done SECS
                      seconds after its accept, or after its PROXY header with
                      --proxy-protocol (default ${DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS}); until then it
                      counts toward --max-connections and --max-per-peer
                      With TLS, SIGHUP reloads --tls-cert, --tls-key and --tls-ca
                      for new connections (open ones keep theirs) and logs the
                      new certificate's subject and expiry; a file that cannot
                      be read or parsed is logged at error level and the old
                      certificate kept. Without TLS, SIGHUP is logged and ignored.
                      With --log-level debug each TLS connection logs its TLS
                      version and cipher.`;

/** The parsed values of {@link TLS_SERVER_OPTIONS}. */
export interface TlsServerValues {
  "tls-cert"?: string;
  "tls-key"?: string;
  "tls-ca"?: string;
  "tls-verify-client"?: boolean;
  "tls-handshake-timeout"?: string;
}

/** The server TLS flags as parsed: file names, and the timeout in ms. */
export interface TlsServerConfig {
  certFile: string;
  keyFile: string;
  /** Set with `verifyClient`. */
  caFile: string | undefined;
  verifyClient: boolean;
  /** In ms, at least 1. Default 10 000. */
  handshakeTimeout: number;
}

/**
 * Checks the server TLS flags: `undefined` when none is given (plain TCP).
 * @throws {UsageError} for one of `--tls-cert`/`--tls-key` without the other,
 *   `--tls-verify-client` and `--tls-ca` without each other, another TLS flag
 *   without a certificate, or a bad `--tls-handshake-timeout` (0 included).
 */
export function parseTlsServerFlags(values: TlsServerValues): TlsServerConfig | undefined {
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if (certFile === undefined && keyFile === undefined) {
    const other = (["tls-ca", "tls-verify-client", "tls-handshake-timeout"] as const).find(
      (name) => values[name] !== undefined,
    );
    if (other !== undefined) throw new UsageError(`--${other} needs --tls-cert and --tls-key`);
    return undefined;
  }
  if (certFile === undefined) throw new UsageError("--tls-key needs --tls-cert");
  if (keyFile === undefined) throw new UsageError("--tls-cert needs --tls-key");
  const verifyClient = values["tls-verify-client"] === true;
  const caFile = values["tls-ca"];
  if (verifyClient && caFile === undefined) {
    throw new UsageError("--tls-verify-client needs --tls-ca");
  }
  if (!verifyClient && caFile !== undefined) {
    throw new UsageError("--tls-ca needs --tls-verify-client");
  }
  const handshakeTimeout = parseSeconds(
    values["tls-handshake-timeout"],
    "--tls-handshake-timeout",
    DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS,
  );
  if (handshakeTimeout === 0) {
    throw new UsageError("Invalid --tls-handshake-timeout: expected seconds > 0, got '0'");
  }
  return { certFile, keyFile, caFile, verifyClient, handshakeTimeout };
}

/**
 * Reads the files of `config` and checks that Node can build a secure context
 * from them (PEM that parses, a key that matches the certificate).
 * @throws {Error} `Cannot read --tls-cert FILE: ...` or `Cannot load the TLS
 *   certificate: ...` (the command then exits 1).
 */
export function loadSecureContextOptions(config: TlsServerConfig): tls.SecureContextOptions {
  const read = (file: string, flag: string): string => {
    try {
      return readFileSync(file, "latin1");
    } catch (error) {
      throw new Error(`Cannot read ${flag} ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  const options: tls.SecureContextOptions = {
    cert: read(config.certFile, "--tls-cert"),
    key: read(config.keyFile, "--tls-key"),
    ...(config.caFile === undefined ? {} : { ca: read(config.caFile, "--tls-ca") }),
  };
  try {
    tls.createSecureContext(options);
    // Node takes a file with no certificate at all; the reload logs its subject, so check here.
    new X509Certificate(options.cert as string);
  } catch (error) {
    throw new Error(
      `Cannot load the TLS certificate ${config.certFile} and key ${config.keyFile}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return options;
}

/** `subject CN=localhost, expires Dec  1 10:00:00 2027 GMT` of the first certificate in `pem`. */
export function describeCertificate(pem: string): string {
  const certificate = new X509Certificate(pem);
  return `subject ${certificate.subject.split("\n").join(", ")}, expires ${certificate.validTo}`;
}

/** What a server command needs for TLS: its server options, and the SIGHUP reload. */
export interface TlsServerSetup {
  /** `tls` and `onHandshakeError`, to spread into the server's options. */
  options: ServerOptions;
  /**
   * Reloads the files into `server` (`server.setSecureContext`) for new
   * connections and logs the certificate's subject and expiry at info level;
   * a file that cannot be read or parsed is logged at error level and the old
   * context kept. Never throws.
   */
  onReload(server: Server): void;
  /** Refused client certificates still to report (at most one line a second): written when the server stops. */
  refusals: WarnLimiter;
}

/**
 * Loads the TLS files of `config` (throws as {@link loadSecureContextOptions})
 * and returns the server options and the reload. A failed handshake is logged
 * on a logger named after the peer (`calc_127.0.0.1_5000`): at warn level
 * when a client certificate was refused (`--tls-verify-client`), at debug
 * level otherwise (a reset, a hello that is not TLS: clients' doing). The
 * warn lines are rate-limited ({@link WarnLimiter}): a flood of refused
 * clients costs a line a second, the last refusal of a burst with the count
 * of the others.
 */
export function tlsServerSetup(
  config: TlsServerConfig,
  logger: Logger,
  prefix: string,
): TlsServerSetup {
  const initial = loadSecureContextOptions(config);
  const refusals = new WarnLimiter();
  logger.info(`TLS certificate: ${describeCertificate(initial.cert as string)}`);
  const options: ServerOptions = {
    tls: {
      ...initial,
      handshakeTimeout: config.handshakeTimeout,
      ...(config.verifyClient ? { requestCert: true, rejectUnauthorized: true } : {}),
    },
    onHandshakeError: (error, info, socket) => {
      const peer = info.peername;
      const log = logger.child(
        typeof peer === "object" ? peerLoggerName(prefix, peer) : `${prefix}_${peer ?? "?"}`,
      );
      const reason = handshakeFailure(error, socket);
      if (config.verifyClient && reason.refused) {
        refusals.warn(log, `refused: client certificate rejected: ${reason.text}`);
      } else if (log.enabled("debug")) {
        log.debug(`TLS handshake failed: ${reason.text}`);
      }
    },
  };
  const onReload = (server: Server): void => {
    let next: tls.SecureContextOptions;
    try {
      next = loadSecureContextOptions(config);
      server.setSecureContext(next);
    } catch (error) {
      logger.error(`SIGHUP: kept the old TLS certificate: ${(error as Error).message}`);
      return;
    }
    logger.info(`SIGHUP: reloaded TLS certificate: ${describeCertificate(next.cert as string)}`);
  };
  return { options, onReload, refusals };
}

/**
 * Why a handshake failed, without OpenSSL's file and line: a client certificate
 * that did not verify (Node destroys the socket itself, leaving only
 * `authorizationError`), none sent (OpenSSL's `peer did not return a
 * certificate`), or another reason.
 */
function handshakeFailure(error: Error, socket: tls.TLSSocket): { refused: boolean; text: string } {
  const authorizationError = (socket as { authorizationError?: unknown }).authorizationError;
  if (authorizationError !== undefined && authorizationError !== null) {
    return { refused: true, text: String(authorizationError) };
  }
  const { code, reason } = error as { code?: unknown; reason?: unknown };
  const text = typeof reason === "string" ? reason : error.message;
  const refused = typeof code === "string" && /CERTIFICATE/.test(code);
  return { refused, text };
}

/**
 * Logs, at debug level on the connection's logger (`echo_127.0.0.1_5000`),
 * the TLS version and cipher of a TLS connection: text `TLS TLSv1.3
 * TLS_AES_256_GCM_SHA384`, JSON with the fields `tlsVersion` and `cipher`.
 * Nothing for a plain connection, or when debug is off.
 */
export function logTlsConnection(logger: Logger, prefix: string, transport: Transport): void {
  if (!logger.enabled("debug")) return;
  const info = transport.info.tls;
  if (info === undefined) return;
  const tlsVersion = info.protocol ?? "unknown";
  const cipher = info.cipher.standardName ?? info.cipher.name;
  logger
    .child(peerLoggerName(prefix, peerOf(transport)))
    .debug("TLS handshake done", { tlsVersion, cipher });
}

/** `parseArgs` options of the client TLS flags. */
export const TLS_CLIENT_OPTIONS = {
  tls: { type: "boolean" },
  "ca-certificate": { type: "string" },
  insecure: { type: "boolean" },
  "server-name": { type: "string" },
} as const;

/** The `--help` lines of the client TLS flags. */
export const TLS_CLIENT_HELP = `  --tls               connect with TLS; the server's certificate is verified
                      against the system CAs and its name against --host
  --ca-certificate FILE
                      also trust the CA certificates (PEM) in FILE (implies --tls)
  --insecure          do not verify the server's certificate (implies --tls)
  --server-name NAME  the name sent in SNI and checked in the certificate
                      (default: --host unless it is an IP address; implies --tls)`;

/** The parsed values of {@link TLS_CLIENT_OPTIONS}. */
export interface TlsClientValues {
  tls?: boolean;
  "ca-certificate"?: string;
  insecure?: boolean;
  "server-name"?: string;
}

/**
 * The `tls` connection option for the client TLS flags: `undefined` (plain
 * TCP) when none is given. Extra CAs add to Node's roots, as `wget` does.
 * @throws {UsageError} for a CA file that cannot be read or holds no PEM
 *   certificate (as `http-head` and `wget`), or an empty `--server-name`.
 */
export async function parseTlsClientFlags(
  values: TlsClientValues,
): Promise<tls.ConnectionOptions | undefined> {
  const file = values["ca-certificate"];
  const servername = values["server-name"];
  const insecure = values.insecure === true;
  if (values.tls !== true && file === undefined && !insecure && servername === undefined) {
    return undefined;
  }
  if (servername !== undefined && (servername === "" || /\s/.test(servername))) {
    throw new UsageError(`Invalid --server-name: expected a host name, got '${servername}'`);
  }
  const options: tls.ConnectionOptions = {};
  if (file !== undefined) {
    let ca: string;
    try {
      ca = await readFile(file, "latin1");
    } catch (error) {
      throw new UsageError(`Cannot read --ca-certificate ${file}: ${(error as Error).message}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new UsageError(`Invalid --ca-certificate ${file}: no PEM certificate in it`);
    }
    options.ca = [...tls.rootCertificates, ca];
  }
  if (insecure) options.rejectUnauthorized = false;
  if (servername !== undefined) options.servername = servername;
  return options;
}
