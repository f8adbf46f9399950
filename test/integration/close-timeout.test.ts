import assert from "node:assert/strict";
import type net from "node:net";
import { afterEach, describe, test } from "node:test";
import { isConnectionLost, TimeoutError } from "../../src/errors.js";
import { createConnection } from "../../src/protocols/create-connection.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Server } from "../../src/protocols/server.js";
import type { CloseOptions, Transport } from "../../src/protocols/transport.js";
import { rawConnect, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor } from "../helpers/with-timeout.js";

const BOUND = 30_000;
// More than the kernel's buffers hold, so a peer that reads nothing leaves it unsent.
const BIG = Buffer.alloc(64 * 1024 * 1024, 0x61);

/** A protocol that writes BIG and closes at once (with `closeOptions`), recording its end. */
function writeAndClose(closeOptions?: CloseOptions) {
  const state = {
    lost: [] as (Error | undefined)[],
    transport: undefined as Transport | undefined,
  };
  const factory = (): Protocol => ({
    connectionMade(transport) {
      state.transport = transport;
      transport.write(BIG);
      transport.close(closeOptions);
    },
    dataReceived() {},
    connectionLost(error) {
      state.lost.push(error);
    },
  });
  return { state, factory };
}

/** A client that never reads. */
async function deafClient(port: number): Promise<net.Socket> {
  const socket = await rawConnect(port);
  socket.pause();
  socket.on("error", () => {});
  sockets.push(socket);
  return socket;
}

const servers: Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await shutDown(server);
});

/** Waits until the kernel takes no more of the transport's writes. */
async function stalled(transport: Transport): Promise<void> {
  let size = -1;
  while (transport.getWriteBufferSize() !== size) {
    size = transport.getWriteBufferSize();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function assertCloseTimeout(error: Error | undefined): void {
  assert.ok(error instanceof TimeoutError, `expected a TimeoutError, got ${String(error)}`);
  assert.match(error.message, new RegExp(`^Cannot close: \\d+ bytes unsent after ${BOUND} ms$`));
  assert.equal(error.closedConnection, true);
  assert.equal(isConnectionLost(error), true);
}

describe("a bounded close()", () => {
  test("without a bound, a close to a peer that never reads does not end", async () => {
    const clock = new VirtualClock();
    const { state, factory } = writeAndClose();
    const server = await createServer(factory, "127.0.0.1", 0, { clock });
    servers.push(server);
    await deafClient(serverPort(server));
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    await stalled(state.transport as Transport);
    await clock.advance(10 * BOUND);
    assert.equal(state.lost.length, 0, "still flushing");
    assert.equal(server.connections, 1);
  });

  test("the closeTimeout option aborts it once the bound ends, not before", async () => {
    const clock = new VirtualClock();
    const { state, factory } = writeAndClose();
    const server = await createServer(factory, "127.0.0.1", 0, { clock, closeTimeout: BOUND });
    servers.push(server);
    await deafClient(serverPort(server));
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    await stalled(state.transport as Transport);
    await clock.advance(0.9 * BOUND);
    assert.equal(state.lost.length, 0, "still flushing before the bound");
    await clock.advance(0.1 * BOUND + 1);
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the bounded close");
    assertCloseTimeout(state.lost[0]);
  });

  test("close({ timeout }) bounds one close", async () => {
    const clock = new VirtualClock();
    const { state, factory } = writeAndClose({ timeout: BOUND });
    const server = await createServer(factory, "127.0.0.1", 0, { clock });
    servers.push(server);
    await deafClient(serverPort(server));
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    await stalled(state.transport as Transport);
    await clock.advance(BOUND + 1);
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the bounded close");
    assertCloseTimeout(state.lost[0]);
  });

  test("a close that flushes in time ends as before, without an error", async () => {
    const clock = new VirtualClock();
    const { state, factory } = writeAndClose();
    const server = await createServer(factory, "127.0.0.1", 0, { clock, closeTimeout: BOUND });
    servers.push(server);
    const socket = await rawConnect(serverPort(server));
    sockets.push(socket);
    let received = 0;
    socket.on("data", (data: Buffer) => (received += data.length));
    socket.on("end", () => socket.end());
    await waitFor(() => state.lost.length === 1, WAIT_MS, "the close");
    assert.equal(state.lost[0], undefined);
    assert.equal(received, BIG.length);
  });

  test("a bound out of range is a RangeError before any socket opens", async () => {
    for (const bad of [-1, 1.5, 2 ** 31, Number.NaN]) {
      await assert.rejects(
        () => createServer(() => ({}) as Protocol, "127.0.0.1", 0, { closeTimeout: bad }),
        {
          name: "RangeError",
          message:
            /^Invalid server option: closeTimeout must be an integer in 0\.\.2147483647 ms, got /,
        },
      );
      await assert.rejects(
        createConnection(() => ({}) as Protocol, "127.0.0.1", 1, { closeTimeout: bad }),
        { name: "RangeError", message: /^Invalid connection option: closeTimeout must be/ },
      );
    }
    const { state, factory } = writeAndClose();
    const server = await createServer(
      () => ({ ...factory(), connectionMade: (t) => (state.transport = t) }),
      "127.0.0.1",
      0,
    );
    servers.push(server);
    await deafClient(serverPort(server));
    await waitFor(() => state.transport !== undefined, WAIT_MS, "the connection");
    const transport = state.transport as Transport;
    assert.throws(() => transport.close({ timeout: -5 }), {
      name: "RangeError",
      message: "Invalid close option: timeout must be an integer in 0..2147483647 ms, got -5",
    });
    assert.equal(transport.isClosing(), false, "a refused close does not start closing");
  });
});
