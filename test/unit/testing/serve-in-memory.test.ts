import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TimeoutError } from "../../../src/errors.js";
import type { Protocol } from "../../../src/protocols/protocol.js";
import { timeoutSlack } from "../../../src/protocols/sweeper.js";
import type { Transport } from "../../../src/protocols/transport.js";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { SHUTDOWN_SETTLE_MS } from "../../../src/streams/stream-protocol.js";
import type { StreamReader } from "../../../src/streams/stream-reader.js";
import { run, script } from "../../../src/testing/script.js";
import { serveInMemory } from "../../../src/testing/serve-in-memory.js";
import { createVirtualClock } from "../../../src/testing/virtual-clock.js";
import { WAIT_MS } from "../../helpers/net.js";
import { waitFor, withTimeout } from "../../helpers/with-timeout.js";

const echoLines = serveLines(() => ({
  onLine: (line) => Buffer.concat([line, Buffer.from("\n")]),
}));

/** Resolves with what `reader` gets until EOF. */
async function readAll(reader: StreamReader): Promise<string> {
  return (await withTimeout(reader.read(-1), WAIT_MS, "EOF")).toString();
}

describe("serveInMemory", () => {
  test("serves a startServer handler, with the fake addresses on both sides", async () => {
    const seen: unknown[] = [];
    const server = serveInMemory(async (reader, writer) => {
      seen.push(writer.getExtraInfo("peername"));
      writer.write(await reader.readLine());
    });
    assert.equal(server.isServing(), true);
    assert.deepEqual(server.address(), { address: "127.0.0.1", port: 7000, family: "IPv4" });
    const client = await server.connect({
      peer: { address: "203.0.113.9", port: 1234, family: "IPv4" },
    });
    const { reader, writer } = client.streams();
    assert.deepEqual(writer.getExtraInfo("peername"), server.address());
    writer.write("hi\n");
    assert.equal(await readAll(reader), "hi\n");
    assert.deepEqual(seen, [{ address: "203.0.113.9", port: 1234, family: "IPv4" }]);
    server.close();
    assert.equal(server.isServing(), false);
    await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
  });

  test("serves a protocol factory", async () => {
    const server = serveInMemory({
      protocolFactory: (): Protocol => {
        let t: Transport | undefined;
        return {
          connectionMade: (transport) => (t = transport),
          dataReceived: (data) => t?.write(data.toString().toUpperCase()),
          connectionLost: () => {},
        };
      },
    });
    await run(script().send("abc").expect("ABC").eof().expectEof(), await server.connect());
    await server.shutdown();
  });

  test("a refused or late connect, and a closed server refusing", async () => {
    const clock = createVirtualClock();
    const server = serveInMemory(echoLines, { clock });
    await assert.rejects(server.connect({ refuse: true }), { code: "ECONNREFUSED" });
    assert.equal(server.connections, 0);
    let connected = false;
    const late = server.connect({ delay: 5000 }).then((end) => ((connected = true), end));
    await clock.advance(4999);
    assert.equal(connected, false);
    await clock.advance(1);
    const end = await withTimeout(late, WAIT_MS, "the late connect");
    assert.equal(server.connections, 1);
    end.reset();
    server.close();
    await assert.rejects(server.connect(), /connect ECONNREFUSED 127\.0\.0\.1:7000/);
    await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
  });

  test("refuses tls and a bad protocol factory", () => {
    assert.throws(() => serveInMemory(echoLines, { tls: {} }), TypeError);
    assert.throws(() => serveInMemory({ protocolFactory: 5 as never }), TypeError);
  });

  test("maxConnections: one over the limit is dropped through onDrop, and a slot frees on close", async () => {
    const drops: string[] = [];
    const server = serveInMemory(echoLines, {
      maxConnections: 2,
      onDrop: (_socket, reason) => drops.push(reason),
    });
    const one = (await server.connect()).streams();
    const two = (await server.connect()).streams();
    const three = (await server.connect()).streams();
    assert.equal(await readAll(three.reader), "", "the third is closed unserved");
    assert.deepEqual(drops, ["maxConnections"]);
    assert.equal(server.dropped, 1);
    one.writer.close();
    await withTimeout(one.writer.waitClosed(), WAIT_MS, "the first to close");
    await waitFor(() => server.connections === 1, WAIT_MS, "the server to see it");
    const four = (await server.connect()).streams();
    four.writer.write("in\n");
    assert.equal((await four.reader.readLine()).toString(), "in\n");
    for (const { writer } of [two, four]) writer.close();
    await server.shutdown();
  });

  test("maxConnectionsPerPeer counts by the fake peer address", async () => {
    const drops: string[] = [];
    const server = serveInMemory(echoLines, {
      maxConnectionsPerPeer: 1,
      onDrop: (_s, reason, info) => drops.push(`${reason} ${JSON.stringify(info.peername)}`),
    });
    const a1 = (await server.connect({ peer: "10.0.0.1" })).streams();
    const a2 = (await server.connect({ peer: "10.0.0.1" })).streams();
    const b1 = (await server.connect({ peer: "10.0.0.2" })).streams();
    assert.equal(await readAll(a2.reader), "");
    assert.equal(drops.length, 1);
    assert.match(drops[0] as string, /^maxConnectionsPerPeer \{"address":"10\.0\.0\.1",/);
    b1.writer.write("b\n");
    assert.equal((await b1.reader.readLine()).toString(), "b\n");
    for (const { writer } of [a1, b1]) writer.close();
    await server.shutdown();
  });

  test("maxSessions: the next waits unread, and is served when a session ends", async () => {
    const server = serveInMemory(echoLines, { maxSessions: 1 });
    const first = (await server.connect()).streams();
    const secondEnd = await server.connect();
    const second = secondEnd.streams();
    second.writer.write("waiting\n");
    await secondEnd.flush();
    assert.equal(server.waiting, 1);
    assert.equal(secondEnd.pendingBytes, 0, "the bytes reached the server side...");
    first.writer.write("served\n");
    assert.equal((await first.reader.readLine()).toString(), "served\n");
    first.writer.close();
    assert.equal((await second.reader.readLine()).toString(), "waiting\n");
    assert.equal(server.waiting, 0);
    second.writer.close();
    await server.shutdown();
  });

  test("idle timeout of 300 s at its edge, in virtual time", async () => {
    const T = 300_000;
    const clock = createVirtualClock();
    const errors: Error[] = [];
    const server = serveInMemory(echoLines, {
      idleTimeout: T,
      clock,
      onError: (e) => errors.push(e),
    });
    const { reader, writer } = (await server.connect()).streams();
    await clock.advance(T / 2);
    writer.write("ping\n");
    assert.equal((await reader.readLine()).toString(), "ping\n");
    await clock.advance(T - 1);
    assert.equal(server.connections, 1, "still open 1 ms before T after the last byte");
    await clock.advance(1 + timeoutSlack(T));
    assert.equal(server.connections, 0, "closed by T + slack");
    assert.equal(await readAll(reader), "");
    assert.ok(errors[0] instanceof TimeoutError, String(errors[0]));
    assert.equal(errors[0].message, "Connection closed: idle timeout");
    server.close();
  });

  test("shutdown in virtual time: a quiet connection ends at once, a silent Protocol is aborted at the grace", async () => {
    const clock = createVirtualClock();
    const server = serveInMemory(echoLines, { clock });
    const { reader, writer } = (await server.connect()).streams();
    // Quiet for the settle period: then the stop ends it at once (a younger one settles first).
    await clock.advance(SHUTDOWN_SETTLE_MS);
    const done = server.shutdown({ grace: 10_000 });
    await clock.advance(0);
    assert.equal(await readAll(reader), "");
    // The client's own close ends the server's linger.
    writer.close();
    await withTimeout(done, WAIT_MS, "shutdown");

    const lost: (Error | undefined)[] = [];
    const stubborn = serveInMemory(
      {
        protocolFactory: (): Protocol => ({
          connectionMade: () => {},
          dataReceived: () => {},
          shutdownRequested: () => {}, // never closes
          connectionLost: (error) => lost.push(error),
        }),
      },
      { clock },
    );
    const end = await stubborn.connect();
    end.stream.on("data", () => {});
    end.stream.on("error", () => {});
    let finished = false;
    const stopping = stubborn.shutdown({ grace: 10_000 }).then(() => (finished = true));
    await clock.advance(9_999);
    assert.equal(finished, false);
    assert.equal(lost.length, 0);
    await clock.advance(1 + timeoutSlack(10_000));
    await withTimeout(stopping, WAIT_MS, "the grace to end");
    assert.equal(lost.length, 1);
  });
});
