/**
 * What the TLS fault scenarios share: a self-signed certificate made with
 * `openssl` in a temporary directory, the server flags that use it, and a
 * legitimate TLS client of the calculator that times one full exchange.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { HOST } from "../lib/server.js";

/** A certificate for 127.0.0.1 and its key, on disk; `remove()` deletes them. */
export interface FaultCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM, to trust it as its own CA. */
  pem: Buffer;
  remove(): void;
}

/** Makes a self-signed EC P-256 certificate for 127.0.0.1 (openssl must be installed). */
export function makeCertificate(): FaultCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), "asyncnet-faults-tls-"));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=asyncnet faults"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 },
  );
  return {
    certFile,
    keyFile,
    pem: readFileSync(certFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The server flags of `cert`, with a handshake timeout in seconds. */
export function tlsServerArgs(cert: FaultCertificate, handshakeTimeoutS: number): string[] {
  return [
    ...["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
    ...["--tls-handshake-timeout", String(handshakeTimeoutS)],
  ];
}

/**
 * One legitimate calculator client over TLS: connect, handshake (verifying
 * `cert`), read the welcome, send `1,2`, read the sum. Resolves with the
 * milliseconds it took, or `undefined` if it failed or took over `ms`.
 */
export function timedTlsExchange(
  port: number,
  cert: FaultCertificate,
  ms = 5000,
): Promise<number | undefined> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = tls.connect({ host: HOST, port, ca: cert.pem });
    let received = "";
    let sent = false;
    const finish = (value: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), ms);
    socket.on("error", () => finish(undefined));
    socket.on("close", () => finish(undefined));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (!sent && received.includes("\n")) {
        sent = true;
        socket.write("1,2\n");
      }
      if (received.includes("Sum of input numbers: '3'\r\n")) finish(performance.now() - started);
    });
  });
}

/** The `q` quantile (0..1) of `values`, NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
