/**
 * A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, made with
 * the `openssl` CLI in a temporary directory.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "./net.js";

/** A PEM key and certificate. */
export interface TestCert {
  key: Buffer;
  cert: Buffer;
}

let cached: TestCert | undefined;

/** Makes (once per process) a self-signed EC certificate valid for one day. */
export function selfSignedCert(): TestCert {
  if (cached !== undefined) return cached;
  const dir = makeTempDir();
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        "-keyout",
        keyPath,
        "-out",
        certPath,
      ],
      { stdio: "pipe", timeout: 20_000 },
    );
    cached = { key: readFileSync(keyPath), cert: readFileSync(certPath) };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
