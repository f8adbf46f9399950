import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { serveLines } from "../../src/streams/serve-lines.js";
import { TimeoutError } from "../../src/errors.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import { timeoutSlack } from "../../src/protocols/sweeper.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { portOf, rawConnect, rawServer, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { withTimeout } from "../helpers/with-timeout.js";
import { bracketSession, FakeWriter, fedReader } from "../unit/apps/fakes.js";

// The same windows as the virtual-clock tests, on Node's timers. Firing early
// cannot come from a loaded machine, so the lower bound is strict; the upper
// one gets a wide margin for a busy event loop (the virtual-clock tests hold
// the exact bound).
const T = 300;
const NOISE_MS = 700;

function assertWindow(elapsed: number, what: string): void {
  assert.ok(elapsed >= 0.9 * T, `${what} fired after ${elapsed.toFixed(0)} ms, before T − 10 %`);
  assert.ok(
    elapsed <= T + timeoutSlack(T) + NOISE_MS,
    `${what} fired after ${elapsed.toFixed(0)} ms, past the window`,
  );
}

describe("timeouts on Node's timers", () => {
  test("idle timeout", async () => {
    let lostAt = 0;
    let resolveLost: (error: Error | undefined) => void = () => {};
    const lost = new Promise<Error | undefined>((resolve) => {
      resolveLost = resolve;
    });
    const factory = (): Protocol => ({
      connectionMade() {},
      dataReceived() {},
      connectionLost(error) {
        lostAt = performance.now();
        resolveLost(error);
      },
    });
    const server = await createServer(factory, "127.0.0.1", 0, { idleTimeout: T });
    const socket = await rawConnect(serverPort(server));
    socket.on("error", () => {});
    // The client's connect comes before the server's accept: measured from it, never short.
    const start = performance.now();
    try {
      const error = await withTimeout(lost, WAIT_MS, "the idle close");
      assertWindow(lostAt - start, "the idle timeout");
      assert.ok(error instanceof TimeoutError);
    } finally {
      socket.destroy();
      await shutDown(server);
    }
  });

  test("line timeout", async () => {
    const reader = fedReader(["par"], false);
    const start = performance.now();
    const error = await withTimeout(
      serveLines(bracketSession, { lineTimeout: T })(reader, new FakeWriter()).catch(
        (e: unknown) => e,
      ),
      WAIT_MS,
      "the line timeout",
    );
    assertWindow(performance.now() - start, "the line timeout");
    assert.ok(error instanceof TimeoutError);
  });

  test("connect timeout", async () => {
    const accepted: net.Socket[] = [];
    const silent = await rawServer((socket) => accepted.push(socket));
    try {
      const start = performance.now();
      const error = await withTimeout(
        openConnection("127.0.0.1", portOf(silent), {
          tls: { rejectUnauthorized: false },
          connectTimeout: T,
        }).catch((e: unknown) => e),
        WAIT_MS,
        "the connect timeout",
      );
      assertWindow(performance.now() - start, "the connect timeout");
      assert.ok(error instanceof TimeoutError);
    } finally {
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });

  test("TLS handshake timeout", async () => {
    const { key, cert } = selfSignedCert();
    const server = await createServer(
      () => ({ connectionMade() {}, dataReceived() {}, connectionLost() {} }),
      "127.0.0.1",
      0,
      { tls: { key, cert, handshakeTimeout: T } },
    );
    try {
      const socket = await rawConnect(serverPort(server), "127.0.0.1", { allowHalfOpen: false });
      socket.on("error", () => {});
      socket.resume();
      const start = performance.now();
      await withTimeout(
        new Promise((resolve) => socket.once("close", resolve)),
        WAIT_MS,
        "the handshake timeout",
      );
      assertWindow(performance.now() - start, "the handshake timeout");
    } finally {
      await shutDown(server);
    }
  });
});
