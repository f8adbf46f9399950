import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import {
  ConnectionClosedError,
  ConnectionResetError,
  IncompleteReadError,
  isConnectionLost,
  TimeoutError,
} from "../../src/errors.js";
import type { SocketAddress } from "../../src/protocols/connection-info.js";
import type { Server } from "../../src/protocols/server.js";
import { defaultOnError } from "../../src/protocols/server-options.js";
import { timeoutSlack } from "../../src/protocols/sweeper.js";
import type { Transport } from "../../src/protocols/transport.js";
import { type ConnectionHandler, startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import { rawConnect, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { sleep, waitFor } from "../helpers/with-timeout.js";

const IDLE_MS = 60_000;

/** What one connection's handler let escape, with the default report of it on stderr. */
interface Face {
  error: Error;
  stderr: string;
  clientPort: number;
}

/**
 * Serves `handler` with the default `onError` (through a recorder that calls
 * it), runs `peer` against it, and returns the one error reported and what the
 * default wrote on stderr.
 */
async function face(
  handler: ConnectionHandler,
  peer: (socket: net.Socket, server: Server) => Promise<void>,
  options: { idleTimeout?: number; clock?: VirtualClock } = {},
): Promise<Face> {
  const reported: Error[] = [];
  const written: string[] = [];
  const server = await startServer(handler, "127.0.0.1", 0, {
    ...options,
    onError: (error: Error, transport?: Transport) => {
      reported.push(error);
      defaultOnError(error, transport);
    },
  });
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let clientPort: number;
  try {
    const socket = await rawConnect(serverPort(server));
    socket.on("error", () => {});
    clientPort = socket.localPort ?? 0;
    await peer(socket, server);
    await waitFor(() => reported.length > 0, WAIT_MS, "the handler's error report");
  } finally {
    process.stderr.write = original;
    await shutDown(server);
  }
  assert.equal(reported.length, 1, `one report, got ${reported.map(String).join("; ")}`);
  return { error: reported[0] as Error, stderr: written.join(""), clientPort };
}

/** The checks every face of a lost peer passes. */
function assertLoss(result: Face, reason: RegExp): void {
  const { error, stderr, clientPort } = result;
  assert.equal(isConnectionLost(error), true, `isConnectionLost(${String(error)})`);
  const peer = (error as { peer?: SocketAddress }).peer;
  assert.equal(typeof peer, "object", "the error names its peer");
  assert.equal(peer?.address, "127.0.0.1");
  assert.equal(peer?.port, clientPort);
  const lines = stderr.split("\n");
  assert.equal(lines.length, 2, `one line: ${JSON.stringify(stderr)}`);
  assert.equal(lines[1], "");
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack");
  const prefix = `asyncnet: connection from 127.0.0.1:${clientPort} lost: `;
  assert.ok(lines[0]?.startsWith(prefix), JSON.stringify(lines[0]));
  assert.match(lines[0]?.slice(prefix.length) ?? "", reason);
}

/** Waits until the server has served the connection (its handler is running). */
async function served(server: Server): Promise<void> {
  await waitFor(() => server.connections === 1, WAIT_MS, "the connection to be served");
}

describe("a lost peer shows one face", () => {
  test("a reset in mid-read: ConnectionResetError, the peer, one line", async () => {
    const result = await face(
      async (reader) => {
        await reader.readLine();
      },
      async (socket, server) => {
        await served(server);
        // The handler waits in readLine with nothing buffered when the reset comes.
        socket.resetAndDestroy();
      },
    );
    assert.ok(result.error instanceof ConnectionResetError, String(result.error));
    assertLoss(result, /^Connection reset by peer: ECONNRESET$/);
  });

  test("a reset in mid-drain: ConnectionClosedError with the reset as cause, the peer, one line", async () => {
    const result = await face(
      async (_reader, writer) => {
        for (;;) {
          writer.write(Buffer.alloc(256 * 1024, 0x61));
          await writer.drain();
        }
      },
      async (socket, server) => {
        socket.pause();
        await served(server);
        const transport = [...server.transports()][0] as Transport;
        await waitFor(() => transport.getWriteBufferSize() > 0, WAIT_MS, "the writer to stall");
        socket.resetAndDestroy();
      },
    );
    assert.ok(result.error instanceof ConnectionClosedError, String(result.error));
    // A reset may land as the socket's error or as a plain close (no error event).
    assertLoss(result, /^(Connection reset by peer: E[A-Z]+|Cannot drain: connection lost)$/);
  });

  test("EOF in mid-readExactly: IncompleteReadError, the peer filled in by the server, one line", async () => {
    const result = await face(
      async (reader) => {
        await reader.readExactly(10);
      },
      async (socket) => {
        socket.end("abc");
      },
    );
    assert.ok(result.error instanceof IncompleteReadError, String(result.error));
    assertLoss(result, /^Cannot complete read: EOF after 3 bytes, expected 10 bytes$/);
  });

  for (const [read, call] of [
    ["readExactly", (reader: StreamReader) => reader.readExactly(10)],
    ["readUntil", (reader: StreamReader) => reader.readUntil("\r\n")],
    ["readExactlyNow", (reader: StreamReader) => reader.readExactlyNow(10)],
    ["readUntilNow", (reader: StreamReader) => reader.readUntilNow("\r\n")],
  ] as const) {
    test(`EOF in mid-${read}: the reader's own IncompleteReadError already carries the peer`, async () => {
      let caught: unknown;
      const result = await face(
        async (reader) => {
          try {
            // A sync twin answers null until the EOF has arrived: ask again, bounded.
            for (let i = 0; i < WAIT_MS / 5 && (await call(reader)) === null; i++) await sleep(5);
          } catch (error) {
            caught = error;
          }
          throw new Error("handler done");
        },
        async (socket) => {
          socket.end("abc");
        },
      );
      assert.equal(result.error.message, "handler done");
      assert.ok(caught instanceof IncompleteReadError, String(caught));
      const peer = caught.peer as SocketAddress;
      assert.deepEqual([peer.address, peer.port], ["127.0.0.1", result.clientPort]);
    });
  }

  test("the idle timeout: a TimeoutError that closed the connection, the peer, one line", async () => {
    const clock = new VirtualClock();
    const result = await face(
      async (reader) => {
        await reader.readLine();
      },
      async (_socket, server) => {
        await served(server);
        await clock.advance(IDLE_MS + timeoutSlack(IDLE_MS));
      },
      { idleTimeout: IDLE_MS, clock },
    );
    assert.ok(result.error instanceof TimeoutError, String(result.error));
    assert.equal(result.error.closedConnection, true);
    assertLoss(result, /^Connection closed: idle timeout$/);
  });

  test("a drain cut by the idle timeout says so, not 'connection lost'", async () => {
    const clock = new VirtualClock();
    const result = await face(
      async (_reader, writer) => {
        for (;;) {
          writer.write(Buffer.alloc(256 * 1024, 0x61));
          await writer.drain();
        }
      },
      async (socket, server) => {
        socket.pause();
        await served(server);
        const transport = [...server.transports()][0] as Transport;
        // Once the kernel's buffers are full nothing moves, and the timeout can fire.
        let size = -1;
        while (transport.getWriteBufferSize() !== size) {
          size = transport.getWriteBufferSize();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await clock.advance(IDLE_MS + timeoutSlack(IDLE_MS));
      },
      { idleTimeout: IDLE_MS, clock },
    );
    assert.ok(result.error instanceof ConnectionClosedError, String(result.error));
    assert.match(
      result.error.message,
      /^Cannot drain: connection closed: idle timeout with \d+ bytes unsent$/,
    );
    assert.ok(result.error.cause instanceof TimeoutError);
    assertLoss(result, /^Connection closed: idle timeout with \d+ bytes unsent$/);
  });

  test("a TypeError thrown by a handler is a bug: reported with its stack", async () => {
    const result = await face(
      async (reader) => {
        await reader.readLine();
        (undefined as unknown as () => void)();
      },
      async (socket) => {
        socket.write("go\n");
      },
    );
    assert.ok(result.error instanceof TypeError);
    assert.equal(isConnectionLost(result.error), false);
    assert.match(
      result.stderr,
      new RegExp(
        `^asyncnet: error in connection \\(peer 127\\.0\\.0\\.1 port ${result.clientPort}\\): TypeError: .*\\n\\s+at `,
      ),
    );
  });
});
