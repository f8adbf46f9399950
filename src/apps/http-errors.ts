/**
 * GNU wget's exit codes for every error the HTTP clients (http-head, wget) can
 * meet; the error classes themselves are in `src/errors.ts`.
 *
 * @module
 */

import {
  AbortError,
  ConnectionClosedError,
  ConnectionResetError,
  HttpBodyTruncatedError,
  HttpParseError,
  HttpRedirectError,
  HttpStatusError,
  IncompleteReadError,
  LimitOverrunError,
  TimeoutError,
} from "../errors.js";

/** GNU wget's exit codes (`src/exits.h`). */
export const ExitStatus = {
  ok: 0,
  generic: 1,
  usage: 2,
  io: 3,
  network: 4,
  tlsVerification: 5,
  protocol: 7,
  serverError: 8,
  interrupted: 130,
} as const;

// OpenSSL's X509_V_ERR_* names as Node reports them, plus Node's host name check.
const CERT_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `error` is a failed certificate check of a TLS handshake. */
export function isCertificateError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && CERT_ERRORS.has(code);
}

/**
 * Where an error happened, for its exit code: a file error while writing the
 * output is an I/O failure (3), the same code from a socket is a network one (4).
 */
export type ErrorStage = "network" | "output";

/**
 * GNU wget's exit code for `error`: 3 file I/O (any system error at the
 * `output` stage: `ENAMETOOLONG`, `EACCES`, `ENOSPC`, `EPIPE`... and Node's
 * stream errors), 4 network (refused, reset, timeout, truncated body), 5
 * certificate verification, 7 protocol (a reply that is not HTTP, or none;
 * a malformed chunked body; bad `Content-Length`), 8 server error status or
 * failed redirect, 130 interrupted, 1 anything else.
 */
export function exitStatusOf(error: unknown, stage: ErrorStage): number {
  if (error instanceof HttpStatusError || error instanceof HttpRedirectError) {
    return ExitStatus.serverError;
  }
  if (error instanceof AbortError) return ExitStatus.interrupted;
  if (isCertificateError(error)) return ExitStatus.tlsVerification;
  if (
    error instanceof HttpParseError ||
    error instanceof LimitOverrunError ||
    error instanceof IncompleteReadError
  ) {
    return ExitStatus.protocol;
  }
  if (
    error instanceof HttpBodyTruncatedError ||
    error instanceof TimeoutError ||
    error instanceof ConnectionResetError ||
    error instanceof ConnectionClosedError
  ) {
    return ExitStatus.network;
  }
  const code = codeOf(error);
  // Whatever fails while creating or writing the output is a file I/O error, whatever its errno.
  if (stage === "output" && code !== undefined) return ExitStatus.io;
  // System errors (ECONNREFUSED, ENOTFOUND, EHOSTUNREACH...) and TLS handshake failures.
  if (code !== undefined && stage === "network") return ExitStatus.network;
  return ExitStatus.generic;
}

/** A one-line description of `error` for the user, with a hint for certificate failures. */
export function describeError(error: unknown): string {
  if (isCertificateError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return (
      `certificate verification failed: ${message}; ` +
      "trust its issuer with --ca-certificate FILE, or skip the check with --insecure"
    );
  }
  if (error instanceof IncompleteReadError) {
    return error.partial.length === 0
      ? "No data received: the server closed the connection"
      : `Incomplete response head: the server closed the connection after ${error.partial.length} bytes`;
  }
  return error instanceof Error ? error.message : String(error);
}
