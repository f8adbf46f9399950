import { systemClock } from "../../../src/protocols/clock.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectionClosedError, ConnectionResetError } from "../../../src/errors.js";
import type { Transport } from "../../../src/protocols/transport.js";
import { SHUTDOWN_SETTLE_MS, StreamProtocol } from "../../../src/streams/stream-protocol.js";
import { tick } from "../../helpers/fake-transport.js";
import { isPending, sleep, withTimeout } from "../../helpers/with-timeout.js";

/** The facts of a stub's connection: the peer a lost-connection error names. */
const STUB_INFO = {
  peername: { address: "127.0.0.1", port: 5000, family: "IPv4" },
  sockname: undefined,
};

/** A transport stub: enough for the protocol, its reader and its writer. */
function fakeTransport(options: { secure?: boolean } = {}) {
  const state = { closing: false, writes: [] as string[] };
  const transport = {
    clock: systemClock,
    info: STUB_INFO,
    canWriteEof: () => !options.secure,
    isClosing: () => state.closing,
    pauseReading() {},
    resumeReading() {},
    write: (data: string) => state.writes.push(String(data)),
    close() {
      state.closing = true;
    },
  };
  return { transport: transport as unknown as Transport, state };
}

function connected(options: { secure?: boolean } = {}) {
  const protocol = new StreamProtocol();
  const fake = fakeTransport(options);
  protocol.connectionMade(fake.transport);
  return { protocol, ...fake };
}

describe("StreamProtocol", () => {
  test("the writer does not exist before connectionMade", () => {
    assert.throws(() => new StreamProtocol().writer, {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot get writer: not connected yet",
    });
  });

  test("onConnected gets the reader and the writer when the connection is made", () => {
    let got: unknown[] = [];
    const protocol = new StreamProtocol({}, (reader, writer) => {
      got = [reader, writer];
    });
    protocol.connectionMade(fakeTransport().transport);
    assert.deepEqual(got, [protocol.reader, protocol.writer]);
  });

  test("drain resolves at once while writing is not paused", async () => {
    const { protocol } = connected();
    assert.equal(await isPending(protocol.writer.drain(), 0), false);
  });

  test("drain waits while writing is paused and every waiter resumes together", async () => {
    const { protocol } = connected();
    protocol.pauseWriting();
    const drains = Array.from({ length: 10 }, () => protocol.writer.drain());
    assert.equal(await isPending(Promise.race(drains), 5), true);
    protocol.resumeWriting();
    await Promise.all(drains);
    assert.equal(await isPending(protocol.writer.drain(), 0), false);
  });

  test("connectionLost rejects every pending drain with ConnectionClosedError, caused by the error", async () => {
    const { protocol } = connected();
    protocol.pauseWriting();
    const drains = [protocol.writer.drain(), protocol.writer.drain()];
    const reset = new ConnectionResetError();
    protocol.connectionLost(reset);
    for (const drain of [...drains, protocol.writer.drain()]) {
      const error = await drain.catch((e: unknown) => e);
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.code, "ERR_CONNECTION_CLOSED");
      assert.equal(error.message, "Cannot drain: connection lost");
      assert.equal(error.cause, reset);
    }
  });

  test("needsDrain is true exactly when drain would not resolve at once", async () => {
    const { protocol, state } = connected();
    const { writer } = protocol;
    assert.equal(writer.needsDrain, false);
    protocol.pauseWriting();
    assert.equal(writer.needsDrain, true);
    protocol.resumeWriting();
    assert.equal(writer.needsDrain, false);
    state.closing = true;
    assert.equal(writer.needsDrain, true);
    state.closing = false;
    protocol.connectionLost();
    assert.equal(writer.needsDrain, true);
    await assert.rejects(writer.drain(), ConnectionClosedError);
  });

  test("drain on a closing transport yields to the event loop before answering", async () => {
    const { protocol, state } = connected();
    state.closing = true;
    const drain = protocol.writer.drain();
    protocol.connectionLost(new ConnectionResetError());
    await assert.rejects(drain, ConnectionClosedError);
  });

  test("eofReceived feeds EOF and keeps a TCP connection half-open", async () => {
    const { protocol } = connected();
    protocol.dataReceived(Buffer.from("last"));
    assert.equal(protocol.eofReceived(), true);
    assert.equal((await protocol.reader.read()).toString(), "last");
    assert.ok(protocol.reader.atEof());
  });

  test("eofReceived lets a TLS connection close, as it cannot half-close", () => {
    const { protocol } = connected({ secure: true });
    assert.equal(protocol.eofReceived(), false);
  });

  test("a clean connectionLost is EOF for the reader; a failed one is its exception", async () => {
    const clean = connected().protocol;
    clean.dataReceived(Buffer.from("tail"));
    clean.connectionLost();
    assert.equal((await clean.reader.read()).toString(), "tail");
    assert.equal(clean.lost, true);

    const failed = connected().protocol;
    const reset = new ConnectionResetError();
    const pending = failed.reader.readLine();
    failed.connectionLost(reset);
    await assert.rejects(pending, reset);
  });

  test("waitClosed resolves once the connection is lost, and at once after that", async () => {
    const { protocol } = connected();
    const waiting = protocol.writer.waitClosed();
    assert.equal(await isPending(waiting, 0), true);
    protocol.connectionLost(new Error("whatever"));
    await waiting;
    await tick();
    assert.equal(await isPending(protocol.writer.waitClosed(), 0), false);
  });

  // What a connection waits on is made at its first wait: these waits come first after the loss.
  test("a drain first asked after a failed loss still names its cause", async () => {
    const { protocol } = connected();
    const reset = new ConnectionResetError();
    protocol.connectionLost(reset);
    const error = await protocol.writer.drain().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.cause, reset);
    assert.equal(await isPending(protocol.writer.waitClosed(), 0), false);
  });

  test("after a clean loss a first drain rejects without a cause and waitClosed resolves", async () => {
    const { protocol } = connected();
    const waiting = protocol.writer.waitClosed();
    protocol.connectionLost();
    await withTimeout(waiting, 1000, "waitClosed at a clean loss");
    const error = await protocol.writer.drain().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.cause, undefined);
    assert.equal(await isPending(protocol.writer.waitClosed(), 0), false);
  });
});

/** A transport stub that also answers isReading, for the graceful stop. */
function connectedForShutdown() {
  const state = { reading: true, closing: false };
  const transport = {
    canWriteEof: () => true,
    isClosing: () => state.closing,
    isReading: () => state.reading && !state.closing,
    pauseReading() {
      state.reading = false;
    },
    resumeReading() {
      state.reading = true;
    },
    write() {},
    close() {
      state.closing = true;
    },
    clock: systemClock,
    info: STUB_INFO,
  };
  const protocol = new StreamProtocol({ limit: 16 });
  protocol.connectionMade(transport as unknown as Transport);
  return { protocol, state };
}

/** Longer than the settle period, for "still pending" checks only. */
const PAST_SETTLE = SHUTDOWN_SETTLE_MS * 2 + 50;

describe("StreamProtocol.shutdownRequested", () => {
  test("an idle connection's waiting read returns as at EOF", async () => {
    const { protocol } = connectedForShutdown();
    const line = protocol.reader.readLine();
    protocol.shutdownRequested();
    assert.equal((await withTimeout(line, 5_000, "EOF")).length, 0);
    assert.equal(protocol.reader.atEof(), true);
  });

  test("bytes still buffered keep it open; once read and quiet, EOF", async () => {
    const { protocol } = connectedForShutdown();
    protocol.dataReceived(Buffer.from("partial"));
    protocol.shutdownRequested();
    const exact = protocol.reader.readExactly(8);
    assert.equal(await isPending(exact, PAST_SETTLE), true);
    protocol.dataReceived(Buffer.from("!"));
    assert.equal((await exact).toString(), "partial!");
    // Nothing is left buffered, so the input may settle now.
    const rest = protocol.reader.read(100);
    assert.equal((await withTimeout(rest, 5_000, "EOF")).length, 0);
  });

  test("data arriving keeps it open until it stops", async () => {
    const { protocol } = connectedForShutdown();
    protocol.shutdownRequested();
    const got: string[] = [];
    const reading = (async () => {
      for (;;) {
        const chunk = await protocol.reader.read(100);
        if (chunk.length === 0) return;
        got.push(chunk.toString());
      }
    })();
    for (let i = 0; i < 6; i++) {
      protocol.dataReceived(Buffer.from(String(i)));
      await sleep(SHUTDOWN_SETTLE_MS / 5);
    }
    await withTimeout(reading, 5_000, "EOF after the last chunk");
    assert.deepEqual(got, ["0", "1", "2", "3", "4", "5"]);
  });

  test("paused writing (a handler awaiting drain) is not quiet", async () => {
    const { protocol } = connectedForShutdown();
    protocol.pauseWriting();
    protocol.shutdownRequested();
    const eof = protocol.reader.read(100);
    assert.equal(await isPending(eof, PAST_SETTLE), true);
    protocol.resumeWriting();
    assert.equal((await withTimeout(eof, 5_000, "EOF")).length, 0);
  });

  test("paused reading (flow control) is not quiet", async () => {
    const { protocol, state } = connectedForShutdown();
    protocol.dataReceived(Buffer.alloc(64)); // above 2 × limit: the reader pauses
    assert.equal(state.reading, false);
    protocol.shutdownRequested();
    await sleep(PAST_SETTLE);
    assert.equal(protocol.reader.atEof(), false);
    assert.equal((await protocol.reader.read(64)).length, 64); // resumes: empty, reading
    const eof = protocol.reader.read(100);
    assert.equal((await withTimeout(eof, 5_000, "EOF")).length, 0);
  });

  test("data after the shutdown's EOF is dropped, not an error", async () => {
    const { protocol } = connectedForShutdown();
    protocol.shutdownRequested();
    assert.equal((await withTimeout(protocol.reader.read(), 5_000, "EOF")).length, 0);
    protocol.dataReceived(Buffer.from("late"));
    assert.equal(protocol.reader.bufferedSize, 0);
    assert.equal(protocol.eofReceived(), true);
  });

  test("connectionLost cancels the settle timer of a stop in progress", () => {
    const live = new Set<object>();
    const clock = {
      now: () => 0,
      schedule: () => {
        const timer = {};
        live.add(timer);
        return timer;
      },
      cancel: (timer: object) => live.delete(timer),
    };
    const protocol = new StreamProtocol();
    protocol.connectionMade({ ...fakeTransport().transport, clock } as unknown as Transport);
    protocol.dataReceived(Buffer.from("x"));
    protocol.shutdownRequested();
    assert.equal(live.size, 1, "a connection that just received settles on a timer");
    protocol.connectionLost(new ConnectionResetError());
    assert.equal(live.size, 0);
  });

  test("after the peer's EOF it does nothing; after connectionLost its timer is gone", async () => {
    const { protocol } = connectedForShutdown();
    protocol.dataReceived(Buffer.from("x"));
    protocol.eofReceived();
    protocol.shutdownRequested();
    assert.equal((await protocol.reader.read()).toString(), "x");
    const other = connectedForShutdown().protocol;
    other.dataReceived(Buffer.from("y"));
    other.shutdownRequested();
    other.connectionLost();
    assert.equal((await other.reader.read()).toString(), "y");
    assert.equal((await other.reader.read()).length, 0);
  });
});
