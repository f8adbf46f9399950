/**
 * Test certificates made with `openssl` in a temporary directory: a CA, a
 * server certificate it signs (localhost, 127.0.0.1), a client certificate
 * it signs, a second server certificate, a self-signed one and another CA's
 * client certificate.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The files made by {@link makeCertificates}, as absolute paths. */
export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Another certificate for the same names, signed by the same CA (for a reload). */
  server2Cert: string;
  server2Key: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
  /** Self-signed, for 127.0.0.1. */
  selfCert: string;
  selfKey: string;
  /** Removes the directory. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

/** Makes every certificate of {@link TestCertificates} (EC P-256 keys: fast). */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "asyncnet-tls-"));
  const key = (name: string) =>
    openssl(
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name],
      dir,
    );
  const ca = (name: string, subject: string) => {
    key(`${name}.key`);
    openssl(
      [
        "req",
        "-x509",
        "-new",
        "-key",
        `${name}.key`,
        "-subj",
        subject,
        "-days",
        "2",
        "-out",
        `${name}.pem`,
      ],
      dir,
    );
  };
  const signed = (name: string, subject: string, caName: string, ext: string) => {
    key(`${name}.key`);
    openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${caName}.pem`,
        "-CAkey",
        `${caName}.key`,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      ],
      dir,
    );
  };
  const serverExt = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
  const clientExt = "extendedKeyUsage=clientAuth\n";
  ca("ca", "/CN=asyncnet test CA");
  ca("other-ca", "/CN=asyncnet other CA");
  signed("server", "/CN=asyncnet server one", "ca", serverExt);
  signed("server2", "/CN=asyncnet server two", "ca", serverExt);
  signed("client", "/CN=asyncnet client", "ca", clientExt);
  signed("stranger", "/CN=asyncnet stranger", "other-ca", clientExt);
  key("self.key");
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "self.key",
      "-subj",
      "/CN=asyncnet self-signed",
      "-days",
      "2",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-out",
      "self.pem",
    ],
    dir,
  );
  const at = (name: string) => join(dir, name);
  return {
    dir,
    caCert: at("ca.pem"),
    serverCert: at("server.pem"),
    serverKey: at("server.key"),
    server2Cert: at("server2.pem"),
    server2Key: at("server2.key"),
    clientCert: at("client.pem"),
    clientKey: at("client.key"),
    strangerCert: at("stranger.pem"),
    strangerKey: at("stranger.key"),
    selfCert: at("self.pem"),
    selfKey: at("self.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
