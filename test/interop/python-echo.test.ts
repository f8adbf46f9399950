/**
 * Interop both ways with the seeds' own Python programs (test/interop/python/):
 * Python clients (seed 000 streams, seed 003 protocol) against `asyncnet
 * echo-server` in both styles, and `asyncnet echo-client` in both styles
 * against the Python streams echo server (seed 000).
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  killAll,
  type RunningServer,
  runCli,
  startServerCli,
  stopCli,
  withTimeout,
} from "../cli/cli-helpers.js";

const PYTHON_DIR = fileURLToPath(new URL("../../../test/interop/python/", import.meta.url));
const SEED_ECHO = "This is the message. It will be sent in parts.";

const python = spawnSync("python3", ["--version"], { encoding: "utf8" });
const skip =
  python.error === undefined && python.status === 0
    ? false
    : `python3 is not available (${python.error?.message ?? `exit ${python.status}`})`;
if (skip) console.log(`# skipping Python interop tests: ${skip}`);

const pythons = new Set<ReturnType<typeof spawn>>();

interface PythonResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `python3 test/interop/python/SCRIPT ...args` to completion. */
async function runPython(script: string, args: string[]): Promise<PythonResult> {
  const child = spawn("python3", [PYTHON_DIR + script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  pythons.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await withTimeout(
    new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c))),
    `python3 ${script}`,
    // A hang guard, not a speed check: ten interpreters starting at once on a
    // loaded 2-core CI machine took longer than the usual 10 s.
    30_000,
  );
  pythons.delete(child);
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

describe("Python seed clients against asyncnet echo-server", { skip }, () => {
  const servers: Record<string, RunningServer> = {};

  before(async () => {
    servers.streams = await startServerCli(["echo-server"]);
    servers.protocol = await startServerCli(["echo-server", "--style", "protocol"]);
  });

  after(async () => {
    for (const server of Object.values(servers)) await stopCli(server).catch(() => undefined);
    for (const child of pythons) child.kill("SIGKILL");
    killAll();
  });

  for (const style of ["streams", "protocol"]) {
    for (const [client, logger] of [
      ["echo_client_streams.py", "echo_client"],
      ["echo_client_protocol.py", "EchoClient"],
    ] as const) {
      test(`${client} gets the seed's echo from the ${style} server and ends at its EOF`, async () => {
        const port = String(servers[style]?.port);
        const result = await runPython(client, ["127.0.0.1", port]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.toString(), SEED_ECHO);
        assert.match(result.stderr, new RegExp(`^${logger}: sending b'in parts\\.'$`, "m"));
        if (logger === "EchoClient") assert.match(result.stderr, /^EchoClient: received EOF$/m);
        else assert.match(result.stderr, /^echo_client: closing$/m);
      });
    }

    test(`ten Python clients at once get their own bytes from the ${style} server`, async () => {
      const port = String(servers[style]?.port);
      const runs = Array.from({ length: 10 }, async (_, i) => {
        const script = i % 2 === 0 ? "echo_client_streams.py" : "echo_client_protocol.py";
        const parts = [`client ${i} `, "x".repeat(200 * i), ` end ${i}`];
        const result = await runPython(script, ["127.0.0.1", port, ...parts]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.toString(), parts.join(""), `client ${i}`);
      });
      await withTimeout(Promise.all(runs), "ten Python clients", 60_000);
    });
  }
});

describe("asyncnet echo-client against the Python seed server", { skip }, () => {
  let server: ReturnType<typeof spawn>;
  let port = 0;
  let serverLog = "";

  before(async () => {
    server = spawn("python3", [`${PYTHON_DIR}echo_server_streams.py`, "127.0.0.1", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    pythons.add(server);
    server.stderr?.on("data", (chunk: Buffer) => {
      serverLog += chunk.toString();
    });
    let out = "";
    port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        server.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on \S+ (\d+)\n/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        server.on("close", () => reject(new Error(`Python server exited: ${serverLog}`)));
      }),
      "the Python server to listen",
    );
  });

  after(() => {
    server?.kill("SIGTERM");
    for (const child of pythons) child.kill("SIGKILL");
    killAll();
  });

  for (const style of ["streams", "protocol"]) {
    test(`${style} echo-client prints the seed's echo and exits 0`, async () => {
      const result = await runCli([
        "echo-client",
        "--style",
        style,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
      ]);
      assert.equal(result.stderr, "");
      assert.equal(result.stdout.toString(), SEED_ECHO);
      assert.equal(result.code, 0);
    });

    test(`${style} echo-client sends its messages as writes the Python server echoes in order`, async () => {
      const parts = ["alpha ", "beta ", "gamma ".repeat(100)];
      const args = ["echo-client", "--style", style, "--host", "127.0.0.1", "--port", String(port)];
      const result = await runCli([...args, ...parts]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), parts.join(""));
    });
  }

  test("the Python server logged the seed's story for asyncnet's connections", () => {
    assert.match(serverLog, /^echo_127\.0\.0\.1_\d+: connection accepted$/m);
    assert.match(serverLog, /^echo_127\.0\.0\.1_\d+: received b'This is the message\. /m);
    assert.match(serverLog, /^echo_127\.0\.0\.1_\d+: closing$/m);
  });
});
