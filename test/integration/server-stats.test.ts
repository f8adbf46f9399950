import assert from "node:assert/strict";
import type net from "node:net";
import { afterEach, describe, test } from "node:test";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { CloseCause, Server, ServerOptions } from "../../src/protocols/server.js";
import type { Transport } from "../../src/protocols/transport.js";
import { serveLines } from "../../src/streams/serve-lines.js";
import { type ConnectionHandler, startServer } from "../../src/streams/start-server.js";
import { SHUTDOWN_SETTLE_MS } from "../../src/streams/stream-protocol.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { echoHandler, serverPort, shutDown } from "../helpers/servers.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

const servers: Server[] = [];
const clients: net.Socket[] = [];
const errors: Error[] = [];

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await shutDown(server);
  errors.length = 0;
});

async function serve(handler: ConnectionHandler, options: ServerOptions = {}): Promise<Server> {
  const server = await startServer(handler, "127.0.0.1", 0, {
    onError: (error) => errors.push(error),
    ...options,
  });
  servers.push(server);
  return server;
}

async function connect(server: Server): Promise<net.Socket> {
  const socket = await rawConnect(serverPort(server));
  socket.on("error", () => {});
  clients.push(socket);
  return socket;
}

/** Waits (bounded) until `server` counted `n` closes of `cause`. */
function closedBy(server: Server, cause: CloseCause, n = 1): Promise<void> {
  return waitFor(() => server.stats().closed[cause] >= n, WAIT_MS, `${n} close(s) by ${cause}`);
}

/** The closes counted, without the zeros: `{ eof: 1 }`. */
function closes(server: Server): Partial<Record<CloseCause, number>> {
  return Object.fromEntries(Object.entries(server.stats().closed).filter(([, n]) => n > 0));
}

/** A handler that waits for lines until EOF, answering nothing. */
async function silent(reader: Parameters<ConnectionHandler>[0]): Promise<void> {
  while ((await reader.read(128)).length > 0);
}

describe("server.stats()", () => {
  test("starts at zero, with every cause and reason listed", async () => {
    const server = await serve(echoHandler);
    assert.deepEqual(server.stats(), {
      connectionsOpen: 0,
      connectionsWaiting: 0,
      accepted: 0,
      refused: { maxConnections: 0, maxConnectionsPerPeer: 0 },
      served: 0,
      closed: {
        eof: 0,
        closed: 0,
        idle: 0,
        lineTimeout: 0,
        reset: 0,
        error: 0,
        shutdown: 0,
        aborted: 0,
      },
      bytesReceived: 0,
      bytesSent: 0,
      handlerErrors: 0,
    });
  });

  test("counts an echo exchange's bytes exactly, and its close by the peer's EOF", async () => {
    const server = await serve(echoHandler);
    const socket = await connect(server);
    await waitFor(() => server.stats().connectionsOpen === 1, WAIT_MS, "the connection served");
    const received = readToClose(socket);
    socket.write("hello, world\n");
    socket.write("é\n"); // 3 bytes: counted in bytes, not characters
    socket.end();
    const { data } = await withTimeout(received, WAIT_MS, "the echo");
    assert.equal(data.toString(), "hello, world\né\n");
    await closedBy(server, "eof");
    const stats = server.stats();
    assert.equal(stats.bytesReceived, 16);
    assert.equal(stats.bytesSent, 16);
    assert.equal(stats.accepted, 1);
    assert.equal(stats.served, 1);
    assert.equal(stats.connectionsOpen, 0);
    assert.deepEqual(closes(server), { eof: 1 });
    assert.equal(stats.handlerErrors, 0);
  });

  test("counts string writes in UTF-8 bytes", async () => {
    const server = await serve((_reader, writer) => {
      writer.write("héllo\n");
      writer.close();
    });
    const { data } = await withTimeout(readToClose(await connect(server)), WAIT_MS, "the reply");
    assert.equal(data.length, 7);
    await closedBy(server, "closed");
    assert.equal(server.stats().bytesSent, 7);
    assert.deepEqual(closes(server), { closed: 1 });
  });

  test("a snapshot does not change afterwards", async () => {
    const server = await serve(echoHandler);
    const before = server.stats();
    const socket = await connect(server);
    socket.end("x");
    await closedBy(server, "eof");
    assert.equal(before.accepted, 0);
    assert.equal(before.closed.eof, 0);
    assert.equal(server.stats().accepted, 1);
  });

  test("counts refusals by maxConnections", async () => {
    const server = await serve(silent, { maxConnections: 1 });
    await connect(server);
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the first served");
    const refused = readToClose(await connect(server));
    await withTimeout(refused, WAIT_MS, "the refused connection to close");
    const stats = server.stats();
    assert.deepEqual(stats.refused, { maxConnections: 1, maxConnectionsPerPeer: 0 });
    assert.equal(stats.accepted, 2);
    assert.equal(stats.served, 1);
    assert.equal(stats.connectionsOpen, 1);
  });

  test("counts refusals by maxConnectionsPerPeer", async () => {
    const server = await serve(silent, { maxConnectionsPerPeer: 1 });
    await connect(server);
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the first served");
    await withTimeout(readToClose(await connect(server)), WAIT_MS, "the refused to close");
    assert.deepEqual(server.stats().refused, { maxConnections: 0, maxConnectionsPerPeer: 1 });
  });

  test("counts a close by the idle timeout as idle, once", async () => {
    const clock = new VirtualClock();
    const server = await serve(silent, { idleTimeout: 1000, clock });
    const closed = readToClose(await connect(server));
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the connection served");
    await clock.advance(3000);
    await withTimeout(closed, WAIT_MS, "the idle close");
    await closedBy(server, "idle");
    assert.deepEqual(closes(server), { idle: 1 });
    // The handler's read failed because of the timeout: no handler error.
    assert.equal(server.stats().handlerErrors, 0);
  });

  test("counts a close by serveLines' lineTimeout as lineTimeout", async () => {
    const clock = new VirtualClock();
    const handler = serveLines(() => ({ onLine: (line) => `${line.toString()}\n` }), {
      lineTimeout: 1000,
      clock,
    });
    const server = await serve(handler, { clock });
    const socket = await connect(server);
    const closed = readToClose(socket);
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the connection served");
    socket.write("no end");
    await waitFor(() => server.stats().bytesReceived === 6, WAIT_MS, "the bytes read");
    await clock.advance(3000);
    await withTimeout(closed, WAIT_MS, "the line timeout close");
    await closedBy(server, "lineTimeout");
    assert.deepEqual(closes(server), { lineTimeout: 1 });
    assert.equal(errors[0]?.name, "TimeoutError");
    assert.equal(server.stats().handlerErrors, 0);
  });

  test("counts a peer's reset as reset", async () => {
    const server = await serve(silent);
    const socket = await connect(server);
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the connection served");
    socket.resetAndDestroy();
    await closedBy(server, "reset");
    assert.deepEqual(closes(server), { reset: 1 });
  });

  test("counts a handler's throw as error and as a handler error", async () => {
    const server = await serve(async (reader) => {
      await reader.readLine();
      throw new Error("boom");
    });
    const socket = await connect(server);
    const closed = readToClose(socket);
    socket.write("go\n");
    await withTimeout(closed, WAIT_MS, "the failed connection to close");
    await closedBy(server, "error");
    assert.deepEqual(closes(server), { error: 1 });
    assert.equal(server.stats().handlerErrors, 1);
    assert.equal(errors[0]?.message, "boom");
  });

  test("counts a protocol callback's throw as error", async () => {
    const server = await createServer(
      (): Protocol => ({
        connectionMade() {},
        dataReceived() {
          throw new Error("bad data");
        },
        connectionLost() {},
      }),
      "127.0.0.1",
      0,
      { onError: (error) => errors.push(error) },
    );
    servers.push(server);
    const socket = await connect(server);
    const closed = readToClose(socket);
    socket.write("x");
    await withTimeout(closed, WAIT_MS, "the failed connection to close");
    await closedBy(server, "error");
    assert.equal(server.stats().handlerErrors, 1);
  });

  test("counts closes by shutdown(), and by the abort after its grace", async () => {
    const clock = new VirtualClock();
    const server = await serve(silent, { clock });
    const idle = await connect(server);
    await waitFor(() => server.stats().served === 1, WAIT_MS, "the connection served");
    // A protocol that ignores the shutdown request keeps its connection until the grace ends.
    const stubborn = await createServer(
      (): Protocol => ({
        connectionMade() {},
        dataReceived() {},
        connectionLost() {},
        shutdownRequested() {},
      }),
      "127.0.0.1",
      0,
      { clock },
    );
    servers.push(stubborn);
    await connect(stubborn);
    await waitFor(() => stubborn.stats().served === 1, WAIT_MS, "the stubborn one served");
    const closed = readToClose(idle);
    // Quiet for the settle period, the connection is idle: the stop closes it at once.
    await clock.advance(SHUTDOWN_SETTLE_MS);
    await withTimeout(server.shutdown({ grace: 5000 }), WAIT_MS, "the shutdown");
    await withTimeout(closed, WAIT_MS, "the idle connection to close");
    assert.deepEqual(closes(server), { shutdown: 1 });
    const stopping = stubborn.shutdown({ grace: 1000 });
    await clock.advance(2000);
    await withTimeout(stopping, WAIT_MS, "the stubborn shutdown");
    assert.deepEqual(closes(stubborn), { aborted: 1 });
  });

  test("served minus closed is the open count", async () => {
    const server = await serve(silent);
    const sockets = [await connect(server), await connect(server), await connect(server)];
    await waitFor(() => server.stats().served === 3, WAIT_MS, "three served");
    sockets[0]?.end();
    await closedBy(server, "eof");
    const stats = server.stats();
    const closedCount = Object.values(stats.closed).reduce((a, b) => a + b, 0);
    assert.equal(stats.connectionsOpen, 2);
    assert.equal(stats.served - closedCount, stats.connectionsOpen);
  });
});

describe("onConnection and onConnectionClosed", () => {
  test("are called around the protocol's life, with the close's cause and error", async () => {
    const events: string[] = [];
    let closedWith: [Transport, CloseCause, Error | undefined] | undefined;
    const clock = new VirtualClock();
    const server = await createServer(
      (): Protocol => ({
        connectionMade: () => events.push("connectionMade"),
        dataReceived() {},
        connectionLost: () => events.push("connectionLost"),
      }),
      "127.0.0.1",
      0,
      {
        idleTimeout: 1000,
        clock,
        onConnection: (transport) => {
          events.push("onConnection");
          assert.equal(typeof transport.info.peername, "object");
        },
        onConnectionClosed: (transport, cause, error) => {
          events.push("onConnectionClosed");
          closedWith = [transport, cause, error];
        },
      },
    );
    servers.push(server);
    await connect(server);
    await waitFor(() => events.length === 2, WAIT_MS, "the connection made");
    await clock.advance(3000);
    await waitFor(() => closedWith !== undefined, WAIT_MS, "onConnectionClosed");
    assert.deepEqual(events, [
      "onConnection",
      "connectionMade",
      "connectionLost",
      "onConnectionClosed",
    ]);
    assert.equal(closedWith?.[1], "idle");
    assert.equal(closedWith?.[2]?.name, "TimeoutError");
  });

  test("a throwing hook is reported through onError and the connection is served", async () => {
    const server = await serve(echoHandler, {
      onConnection: () => {
        throw new Error("open hook");
      },
      onConnectionClosed: () => {
        throw new Error("close hook");
      },
    });
    const socket = await connect(server);
    const received = readToClose(socket);
    socket.end("still echoed\n");
    const { data } = await withTimeout(received, WAIT_MS, "the echo");
    assert.equal(data.toString(), "still echoed\n");
    await closedBy(server, "eof");
    await waitFor(() => errors.length === 2, WAIT_MS, "both hook errors");
    assert.deepEqual(
      errors.map((error) => error.message),
      ["open hook", "close hook"],
    );
    // A hook's failure is not the connection's: it closed by EOF, no handler error.
    assert.deepEqual(closes(server), { eof: 1 });
    assert.equal(server.stats().handlerErrors, 0);
  });
});
