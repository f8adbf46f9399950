import assert from "node:assert/strict";
import type net from "node:net";
import { afterEach, describe, test } from "node:test";
import { TimeoutError } from "../../src/errors.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import { kProgress, timeoutSlack } from "../../src/protocols/sweeper.js";
import { LINGER_MS, type Transport } from "../../src/protocols/transport.js";
import type { Server } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { portOf, rawConnect, rawServer, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

// Long enough that the old real-time timers could never fire during a test.
const T = 60_000;
const SLACK = timeoutSlack(T);

/** A protocol that records its transport and how it was lost; `onMade` runs in connectionMade. */
function recorder(onMade: (t: Transport) => void = () => {}) {
  const state = {
    transport: undefined as Transport | undefined,
    lost: [] as (Error | undefined)[],
  };
  const factory = (): Protocol => ({
    connectionMade: (t) => {
      state.transport = t;
      onMade(t);
    },
    dataReceived: (data) => state.transport?.write(data),
    connectionLost: (error) => state.lost.push(error),
  });
  return { state, factory };
}

/**
 * The idle sweeper's progress marker of `transport`: reads and writes counted,
 * plus, on Node, the bytes the kernel took from a pending write (libuv's
 * counters), or, on Bun and Deno, each finished slice of it. It stops moving
 * once the kernel's buffers are full, and moves again after the peer reads.
 */
function kernelTook(transport: Transport): number {
  return transport[kProgress]();
}

/** Makes `socket` read only when told: `take(n)` resolves once n more bytes were read. */
function meteredReader(socket: net.Socket) {
  let budget = 0;
  let wake: (() => void) | undefined;
  socket.pause();
  socket.on("data", (chunk: Buffer) => {
    budget -= chunk.length;
    if (budget <= 0) {
      socket.pause();
      wake?.();
    }
  });
  return {
    take(bytes: number): Promise<void> {
      budget += bytes;
      const done = new Promise<void>((resolve) => {
        wake = resolve;
      });
      socket.resume();
      return withTimeout(done, WAIT_MS, `the client to read ${bytes} bytes`);
    },
  };
}

const servers: Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await shutDown(server);
});

async function client(port: number, allowHalfOpen = true): Promise<net.Socket> {
  const socket = await rawConnect(port, "127.0.0.1", { allowHalfOpen });
  socket.on("error", () => {});
  sockets.push(socket);
  return socket;
}

describe("idle timeout on a virtual clock", () => {
  test("read side: not closed at T − 10 %, closed by T + max(T / 10, 50 ms) after the last byte", async () => {
    const clock = new VirtualClock();
    const { state, factory } = recorder();
    const server = await createServer(factory, "127.0.0.1", 0, { idleTimeout: T, clock });
    servers.push(server);
    const socket = await client(serverPort(server));
    await clock.advance(T / 2);
    const echoed = new Promise((resolve) => socket.once("data", resolve));
    socket.write("ping");
    await withTimeout(echoed, WAIT_MS, "the echo");
    await clock.advance(0.9 * T);
    assert.equal(state.lost.length, 0, "still open at T − 10 % after the last byte");
    await clock.advance(0.1 * T + SLACK);
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the idle close");
    const [error] = state.lost;
    assert.ok(error instanceof TimeoutError, `expected a TimeoutError, got ${String(error)}`);
    assert.equal(error.message, "Connection closed: idle timeout");
  });

  test("write side: a peer that reads nothing is closed by T + slack, with the bytes unsent", async () => {
    const clock = new VirtualClock();
    const { state, factory } = recorder((t) => t.write(Buffer.alloc(64 * 1024 * 1024, 0x61)));
    const server = await createServer(factory, "127.0.0.1", 0, { idleTimeout: T, clock });
    servers.push(server);
    await client(serverPort(server));
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    const transport = state.transport as Transport;
    // Let the kernel's buffers fill: once they are full, nothing moves any more.
    let took = -1;
    while (kernelTook(transport) !== took) {
      took = kernelTook(transport);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await clock.advance(0.9 * T);
    assert.equal(state.lost.length, 0);
    await clock.advance(0.1 * T + SLACK);
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the idle close");
    const [error] = state.lost;
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /^Connection closed: idle timeout with \d+ bytes unsent$/);
  });

  test("a slow but steady reader of one large write is never cut off; once it stalls it is", async () => {
    const clock = new VirtualClock();
    // One write of 256 MiB: it never finishes during the test, so only the
    // bytes the kernel takes from it can tell that the peer is reading.
    const { state, factory } = recorder((t) => t.write(Buffer.alloc(256 * 1024 * 1024, 0x61)));
    const server = await createServer(factory, "127.0.0.1", 0, { idleTimeout: T, clock });
    servers.push(server);
    const socket = await client(serverPort(server));
    const reader = meteredReader(socket);
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    const transport = state.transport as Transport;
    // Nine reads, one every T / 3: three timeouts. Each is big enough for the
    // kernel to reopen the window (loopback moves megabytes at a time).
    for (let round = 0; round < 9; round++) {
      await clock.advance(T / 3);
      const before = kernelTook(transport);
      await reader.take(8 * 1024 * 1024);
      await waitFor(() => kernelTook(transport) > before, WAIT_MS, "the server to send more");
    }
    assert.equal(state.lost.length, 0, "a reader that keeps reading stays");
    await clock.advance(T + SLACK + SLACK);
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the idle close of the stalled reader");
    assert.match(String(state.lost[0]?.message), /idle timeout with \d+ bytes unsent/);
  });
});

describe("other timeouts on a virtual clock", () => {
  test("close linger: the socket waits LINGER_MS for the peer's EOF, no longer than LINGER_MS + slack", async () => {
    const clock = new VirtualClock();
    const { state, factory } = recorder((t) => {
      t.write("bye\n");
      t.close();
    });
    const server = await createServer(factory, "127.0.0.1", 0, { clock });
    servers.push(server);
    const socket = await client(serverPort(server));
    // The client gets the reply and the EOF, and never sends its own.
    socket.resume();
    await withTimeout(
      new Promise((resolve) => socket.once("end", resolve)),
      WAIT_MS,
      "the server's EOF",
    );
    await clock.advance(0.9 * LINGER_MS);
    assert.equal(state.lost.length, 0, "still lingering at 90 %");
    await clock.advance(0.1 * LINGER_MS + timeoutSlack(LINGER_MS));
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the linger to end");
  });

  test("connect timeout: pending at T − 10 %, a TimeoutError by T + slack", async () => {
    const clock = new VirtualClock();
    // Accepts TCP and never answers the TLS hello.
    const silent = await rawServer((socket) => sockets.push(socket));
    try {
      let settled: unknown = "pending";
      const connecting = openConnection("127.0.0.1", portOf(silent), {
        tls: { rejectUnauthorized: false },
        connectTimeout: T,
        clock,
      }).then(
        () => (settled = "connected"),
        (error: unknown) => (settled = error),
      );
      await waitFor(() => sockets.length === 1, WAIT_MS, "the TCP connect");
      await clock.advance(0.9 * T);
      assert.equal(String(settled), "pending");
      await clock.advance(0.1 * T + SLACK);
      await withTimeout(connecting, WAIT_MS, "the connect to fail");
      assert.ok(settled instanceof TimeoutError, `expected a TimeoutError, got ${String(settled)}`);
      assert.equal(settled.message, `Cannot connect: timed out after ${T} ms`);
    } finally {
      silent.close();
    }
  });

  test("TLS handshake timeout: a silent client stays at T − 10 %, is dropped by T + slack; a served one stays", async () => {
    const clock = new VirtualClock();
    const { key, cert } = selfSignedCert();
    const { state, factory } = recorder();
    const server = await createServer(factory, "127.0.0.1", 0, {
      tls: { key, cert, handshakeTimeout: T },
      clock,
    });
    servers.push(server);
    const port = serverPort(server);
    const silent = await client(port, false);
    silent.resume();
    let silentClosed = false;
    silent.once("close", () => {
      silentClosed = true;
    });
    const served = await openConnection("127.0.0.1", port, { tls: { ca: cert } });
    await clock.advance(0.9 * T);
    assert.equal(silentClosed, false, "still in its handshake at T − 10 %");
    await clock.advance(0.1 * T + SLACK);
    await waitFor(() => silentClosed, WAIT_MS, "the silent client to be dropped");
    // The client whose handshake ended is served on, long after the handshake timeout.
    await clock.advance(2 * T);
    served.writer.write("still here");
    assert.equal(
      (await withTimeout(served.reader.read(100), WAIT_MS, "the echo")).toString(),
      "still here",
    );
    assert.equal(state.lost.length, 0);
    served.writer.close();
  });

  test("a handshakeTimeout out of range is a RangeError before listening", async () => {
    const { key, cert } = selfSignedCert();
    for (const handshakeTimeout of [0, -1, 2 ** 31, Number.NaN]) {
      await assert.rejects(
        createServer(recorder().factory, "127.0.0.1", 0, {
          tls: { key, cert, handshakeTimeout },
        }),
        (error) => error instanceof RangeError && /tls\.handshakeTimeout/.test(error.message),
      );
    }
  });
});
