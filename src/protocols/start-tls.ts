/**
 * STARTTLS: upgrading a plaintext connection to TLS in place, for
 * `Transport.startTls` (asyncio's `loop.start_tls`) and `StreamWriter.startTls`.
 *
 * @module
 */

import type tls from "node:tls";
import { MAX_TIMEOUT_MS } from "./sweeper.js";

/**
 * What happens to plaintext bytes that arrived after the STARTTLS command and
 * before the handshake: bytes the reader held but had not handed to the
 * application, bytes the transport received but had not delivered, bytes
 * waiting in the socket.
 *
 * - `"feed"` (the default): they are the first bytes of the handshake. A
 *   client that sent its ClientHello right behind `STARTTLS\r\n` (or a server
 *   its ServerHello right behind `220`) loses nothing, and injected plaintext
 *   (CVE-2011-0411: `STARTTLS\r\nRSET\r\n` in one packet) is not a TLS record,
 *   so the handshake fails and the connection closes. Either way no such byte
 *   ever reaches the application, before the upgrade or after it.
 * - `"reject"`: any such byte closes the connection with a
 *   {@link TlsHandshakeError} before the handshake starts, as a peer that
 *   follows the rule of RFC 3207 (wait for the reply) never sends one.
 */
export type BufferedPlaintextPolicy = "feed" | "reject";

/** The options both sides of {@link StartTlsOptions} share. */
export interface StartTlsCommonOptions {
  /**
   * Fail with a {@link TlsHandshakeError} (its cause a `TimeoutError`) and
   * close the connection if the upgrade has not completed this many ms after
   * the call, on the transport's clock. Default 120 000 (Node's own).
   */
  handshakeTimeout?: number;
  /** Cancels a pending upgrade: `startTls` rejects with the signal's reason (an `AbortError`) and the connection closes. */
  signal?: AbortSignal;
  /** See {@link BufferedPlaintextPolicy}. Default `"feed"`. */
  bufferedPlaintext?: BufferedPlaintextPolicy;
  /**
   * Protocol layer only: the bytes the protocol received after the command
   * and did not consume (the rest of the `dataReceived` chunk that held it).
   * They are treated as every other byte that arrived after the command (see
   * {@link BufferedPlaintextPolicy}). `writer.startTls` passes the reader's
   * buffer itself. Default none.
   */
  leftover?: Uint8Array;
}

/**
 * The server side of an upgrade: Node's `TLSSocket` server options (`key`,
 * `cert`, `secureContext`, `ALPNProtocols`, `SNICallback`, `requestCert`,
 * `rejectUnauthorized`, ...). With `requestCert`, a client certificate that
 * fails verification fails the handshake unless `rejectUnauthorized` is
 * `false` (then `info.tls.authorized` is false).
 */
export interface StartTlsServerOptions
  extends
    StartTlsCommonOptions,
    Omit<tls.TLSSocketOptions, "isServer" | "server" | "session" | "requestOCSP"> {
  /** This end is the TLS server (a writer of an accepted connection). */
  side: "server";
}

/**
 * The client side of an upgrade: Node's `tls.connect` options (`servername`,
 * `ca`, `rejectUnauthorized` (default `true`), `checkServerIdentity`,
 * `ALPNProtocols`, `key`/`cert` for a client certificate, ...). The server's
 * certificate is checked against `servername`, or else the host the socket
 * was connected to.
 */
export interface StartTlsClientOptions
  extends
    StartTlsCommonOptions,
    Omit<tls.ConnectionOptions, "socket" | "host" | "port" | "path" | "lookup" | "timeout"> {
  /** This end is the TLS client (a connection made by `openConnection`/`createConnection`). */
  side: "client";
}

/** The options of a STARTTLS upgrade: one side's. */
export type StartTlsOptions = StartTlsServerOptions | StartTlsClientOptions;

/**
 * Checks `options` before anything happens to the connection.
 * @throws {TypeError} for a missing or unknown `side`, a bad policy, a `signal` that is not an AbortSignal, or `leftover` that is not bytes.
 * @throws {RangeError} for a `handshakeTimeout` outside 1..2³¹ − 1 ms.
 */
export function validateStartTlsOptions(options: StartTlsOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid STARTTLS options: expected an object");
  }
  if (options.side !== "server" && options.side !== "client") {
    throw new TypeError(
      `Invalid STARTTLS option: side must be "server" or "client", got ${String((options as { side?: unknown }).side)}`,
    );
  }
  const policy = options.bufferedPlaintext;
  if (policy !== undefined && policy !== "feed" && policy !== "reject") {
    throw new TypeError(
      `Invalid STARTTLS option: bufferedPlaintext must be "feed" or "reject", got ${String(policy)}`,
    );
  }
  const timeout = options.handshakeTimeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || !(timeout >= 1) || timeout > MAX_TIMEOUT_MS)
  ) {
    throw new RangeError(
      `Invalid STARTTLS option: handshakeTimeout must be a number in 1..${MAX_TIMEOUT_MS} ms, got ${timeout}`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError("Invalid STARTTLS option: signal must be an AbortSignal");
  }
  if (options.leftover !== undefined && !(options.leftover instanceof Uint8Array)) {
    throw new TypeError("Invalid STARTTLS option: leftover must be a Uint8Array");
  }
}

/** @internal What a transport is when `startTls` is called, for {@link startTlsRefusal}. */
export interface UpgradeState {
  secure: boolean;
  upgrading: boolean;
  closing: boolean;
  eofWritten: boolean;
  socket: boolean;
}

/** @internal Why a transport in `state` cannot start TLS, or `undefined` when it can. */
export function startTlsRefusal(state: UpgradeState): string | undefined {
  return state.secure
    ? "the connection is already TLS"
    : state.upgrading
      ? "an upgrade is already in progress"
      : state.closing
        ? "the transport is closing"
        : state.eofWritten
          ? "EOF was already written"
          : state.socket
            ? undefined
            : "the stream is not a socket";
}

// Errors already given to onProtocolError, so that a handler rethrowing one is not reported twice.
const reported = new WeakSet<Error>();

/** @internal Marks `error` as reported through `onProtocolError`. */
export function markReported(error: Error): void {
  reported.add(error);
}

/** @internal Whether `error` was already reported through `onProtocolError` (a failed `startTls`). */
export function wasReported(error: unknown): boolean {
  return error instanceof Error && reported.has(error);
}
