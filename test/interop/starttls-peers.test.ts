/**
 * STARTTLS against peers no one here wrote: `openssl s_client -starttls smtp`
 * and Python's asyncio `StreamWriter.start_tls` as client against our server,
 * and a Python asyncio server upgrading with `start_tls` against our client.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Server } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { makeTempDir, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { type SmtpLog, startSmtpServer } from "../helpers/smtp-starttls.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { withTimeout } from "../helpers/with-timeout.js";

const PYTHON_DIR = fileURLToPath(new URL("../../../test/interop/python/", import.meta.url));

function missing(command: string, args: string[]): string | false {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return result.error === undefined && result.status === 0
    ? false
    : `${command} is not available (${result.error?.message ?? `exit ${result.status}`})`;
}
const noPython = missing("python3", ["-c", "import sys; assert sys.version_info >= (3, 11)"]);
const noOpenssl = missing("openssl", ["version"]);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs `command` to its end, with `input` on stdin, bounded by WAIT_MS. */
async function run(command: string, args: string[], input = ""): Promise<Run> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const code = await withTimeout(
    new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c))),
    WAIT_MS,
    `${command} to exit`,
  ).finally(() => children.delete(child));
  return { code, stdout, stderr };
}

describe("STARTTLS interop", () => {
  const { key, cert } = selfSignedCert();
  const dir = makeTempDir();
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  let server: Server;
  let log: SmtpLog;
  let port: number;
  before(async () => {
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key);
    ({ server, log } = await startSmtpServer());
    port = serverPort(server);
  });
  after(async () => {
    for (const child of children) child.kill();
    await shutDown(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "openssl s_client -starttls smtp upgrades and gets a command answered over TLS",
    { skip: noOpenssl },
    async () => {
      const before = log.commands.length;
      const result = await run(
        "openssl",
        [
          "s_client",
          "-starttls",
          "smtp",
          "-connect",
          `127.0.0.1:${port}`,
          "-servername",
          "localhost",
          "-CAfile",
          certFile,
          "-verify_return_error",
          "-quiet",
          "-crlf",
        ],
        "NOOP\nQUIT\n",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "250 ok\r\n221 bye\r\n");
      const seen = log.commands.slice(before);
      assert.deepEqual(
        seen.map((c) => [c.line.split(" ")[0], c.secure]),
        [
          ["EHLO", false],
          ["STARTTLS", false],
          ["NOOP", true],
          ["QUIT", true],
        ],
      );
      assert.deepEqual(log.upgradeErrors, []);
    },
  );

  test(
    "a Python asyncio client upgrading with StreamWriter.start_tls talks over TLS",
    { skip: noPython },
    async () => {
      const before = log.commands.length;
      const result = await run("python3", [
        join(PYTHON_DIR, "starttls_client.py"),
        String(port),
        certFile,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 4), [
        "220 localhost ESMTP asyncnet",
        "250-localhost greets you",
        "250 STARTTLS",
        "220 ready",
      ]);
      assert.match(lines[4] ?? "", /^tls TLSv1\.[23]$/);
      assert.deepEqual(lines.slice(5), ["250 ok", "221 bye"]);
      assert.deepEqual(
        log.commands.slice(before).map((c) => [c.line.split(" ")[0], c.secure]),
        [
          ["EHLO", false],
          ["STARTTLS", false],
          ["NOOP", true],
          ["QUIT", true],
        ],
      );
    },
  );

  test(
    "our client upgrades against a Python asyncio server using StreamWriter.start_tls",
    { skip: noPython },
    async () => {
      const child = spawn("python3", [join(PYTHON_DIR, "starttls_server.py"), certFile, keyFile], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      children.add(child);
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        const pythonPort = await withTimeout(
          new Promise<number>((resolve, reject) => {
            child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
            child.once("close", () => reject(new Error(`python exited: ${stderr}`)));
          }),
          WAIT_MS,
          "the Python server's port",
        );
        const { reader, writer } = await openConnection("127.0.0.1", pythonPort);
        const line = async () =>
          (await withTimeout(reader.readLine(), WAIT_MS, "a line")).toString();
        assert.equal(await line(), "220 python ESMTP\r\n");
        writer.write("STARTTLS\r\n");
        assert.equal(await line(), "220 ready\r\n");
        await withTimeout(
          writer.startTls({ side: "client", ca: cert, servername: "localhost" }),
          WAIT_MS,
          "the upgrade",
        );
        const protocol = writer.getExtraInfo("protocol");
        writer.write("NOOP\r\n");
        assert.equal(await line(), `250 secure ${String(protocol)} NOOP\r\n`);
        assert.equal(writer.transport.info.tls?.authorized, true);
        writer.close();
        await withTimeout(writer.waitClosed(), WAIT_MS, "the client to close");
      } finally {
        child.stdin.end();
        await withTimeout(
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) resolve();
            else child.once("close", () => resolve());
          }),
          WAIT_MS,
          "the Python server to exit",
        ).finally(() => children.delete(child));
      }
    },
  );
});
