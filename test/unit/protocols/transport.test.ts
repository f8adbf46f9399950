import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Protocol } from "../../../src/protocols/protocol.js";
import { Transport } from "../../../src/protocols/transport.js";
import { duplexPair, type MemoryEnd } from "../../helpers/duplex-pair.js";
import { WAIT_MS } from "../../helpers/net.js";
import { deferred } from "../../helpers/servers.js";
import { withTimeout } from "../../helpers/with-timeout.js";

/** A protocol that records its callbacks, and the transport it was given. */
function recorder(options: { keepOpen?: boolean } = {}) {
  const calls: string[] = [];
  const data: Buffer[] = [];
  const lost = deferred<Error | undefined>();
  const protocol: Protocol = {
    connectionMade: () => calls.push("connectionMade"),
    dataReceived(chunk) {
      calls.push("dataReceived");
      data.push(chunk);
    },
    eofReceived() {
      calls.push("eofReceived");
      return options.keepOpen === true;
    },
    connectionLost(error) {
      calls.push("connectionLost");
      lost.resolve(error);
    },
    pauseWriting: () => calls.push("pauseWriting"),
    resumeWriting: () => calls.push("resumeWriting"),
  };
  return { protocol, calls, data, lost: lost.promise };
}

/** Collects what `end` receives until its EOF. */
function collect(end: MemoryEnd): Promise<string> {
  const chunks: Buffer[] = [];
  end.on("data", (chunk: Buffer) => chunks.push(chunk));
  return withTimeout(
    new Promise((resolve) => end.once("end", () => resolve(Buffer.concat(chunks).toString()))),
    WAIT_MS,
    "EOF on the other end",
  );
}

/** Collapses runs of one call into one entry: the number of dataReceived calls is the stream's business. */
function collapse(calls: string[]): string[] {
  return calls.filter((call, i) => call !== calls[i - 1]);
}

describe("Transport over an in-memory stream", () => {
  test("adds no property to the stream it drives, and still finds itself from its events", async () => {
    // A property on a socket gives Node's sockets a hidden class more, which made Node's
    // own `_handle` getter megamorphic for every socket in the process (node --log-ic).
    const [near, far] = duplexPair();
    // EventEmitter adds its listener count at the first listener: make it here, as a
    // socket has it from its construction.
    near.on("unused", () => {});
    const before = Reflect.ownKeys(near);
    const { protocol, calls, data, lost } = recorder();
    new Transport(near, protocol);
    assert.deepEqual(Reflect.ownKeys(near), before);
    far.write("x");
    far.end();
    assert.equal(await withTimeout(lost, WAIT_MS, "connectionLost"), undefined);
    assert.equal(Buffer.concat(data).toString(), "x");
    assert.deepEqual(collapse(calls), [
      "connectionMade",
      "dataReceived",
      "eofReceived",
      "connectionLost",
    ]);
  });

  test("runs connectionMade → dataReceived* → eofReceived → connectionLost with no socket", async () => {
    const [near, far] = duplexPair();
    const { protocol, calls, data, lost } = recorder();
    const transport = new Transport(near, protocol);
    assert.deepEqual(calls, ["connectionMade"]);
    const received = collect(far);
    far.write("hello ");
    far.write("world");
    far.end();
    // No keepOpen: the transport closes itself after the EOF, so the far end sees EOF too.
    assert.equal(await received, "");
    assert.equal(await withTimeout(lost, WAIT_MS, "connectionLost"), undefined);
    assert.deepEqual(collapse(calls), [
      "connectionMade",
      "dataReceived",
      "eofReceived",
      "connectionLost",
    ]);
    assert.equal(Buffer.concat(data).toString(), "hello world");
    assert.equal(transport.isClosing(), true);
  });

  test("has no addresses, and answers socket with the stream", () => {
    const [near] = duplexPair();
    const transport = new Transport(near, recorder().protocol);
    const { peername, sockname, tls } = transport.info;
    assert.deepEqual(
      { peername, sockname, tls },
      { peername: undefined, sockname: undefined, tls: undefined },
    );
    assert.equal(transport.getExtraInfo("peername", "none"), "none");
    assert.equal(transport.getExtraInfo("socket"), near);
    assert.equal(transport.getExtraInfo("cipher"), undefined);
    assert.equal(transport.canWriteEof(), true);
    transport.abort();
  });

  test("reports the ConnectionInfo it was given, not the stream's", () => {
    const [near] = duplexPair();
    const info = Object.freeze({
      peername: Object.freeze({ address: "192.0.2.7", port: 4242, family: "IPv4" }),
      sockname: "/run/app.sock",
    });
    const transport = new Transport(near, recorder().protocol, {}, info);
    assert.equal(transport.info, info);
    assert.deepEqual(transport.getExtraInfo("peername"), info.peername);
    assert.equal(transport.getExtraInfo("sockname"), "/run/app.sock");
    transport.abort();
  });

  test("writes reach the other end, writeEof half-closes, and a write after it throws", async () => {
    const [near, far] = duplexPair();
    const { protocol, calls, lost } = recorder({ keepOpen: true });
    const transport = new Transport(near, protocol);
    const received = collect(far);
    transport.write("one ");
    transport.writeLines(["two ", Buffer.from("three")]);
    transport.write("");
    transport.writeEof();
    assert.equal(await received, "one two three");
    assert.throws(() => transport.write("late"), {
      name: "ConnectionClosedError",
      message: "Cannot write: the transport is half-closed",
    });
    // Still reading after its own EOF: the far end can answer, then end its side.
    far.write("reply");
    far.end();
    await withTimeout(lost, WAIT_MS, "connectionLost");
    assert.deepEqual(collapse(calls), [
      "connectionMade",
      "dataReceived",
      "eofReceived",
      "connectionLost",
    ]);
  });

  test("pauses writing while the other end does not read and resumes once it does", async () => {
    const [near, far] = duplexPair();
    const { protocol, calls, lost } = recorder();
    const transport = new Transport(near, protocol, { writeBufferLimits: { high: 1024 } });
    // The far end reads nothing yet (no data listener): its buffer fills, then ours.
    const chunk = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 16; i++) transport.write(chunk);
    assert.deepEqual(calls, ["connectionMade", "pauseWriting"]);
    assert.ok(transport.getWriteBufferSize() > 1024, "the buffer is above the high mark");
    const resumed = new Promise<void>((resolve) => {
      protocol.resumeWriting = () => {
        calls.push("resumeWriting");
        resolve();
      };
    });
    let bytes = 0;
    far.on("data", (data: Buffer) => {
      bytes += data.length;
    });
    await withTimeout(resumed, WAIT_MS, "resumeWriting");
    assert.ok(transport.getWriteBufferSize() <= 256, "resumed at or below the low mark");
    transport.close();
    await withTimeout(
      new Promise((resolve) => far.once("end", resolve)),
      WAIT_MS,
      "the far end's EOF",
    );
    assert.equal(bytes, 16 * 4096, "close() flushed every byte first");
    far.end();
    assert.equal(await withTimeout(lost, WAIT_MS, "connectionLost"), undefined);
  });

  test("abort() drops the buffer, and connectionLost gets the reason", async () => {
    const [near, far] = duplexPair();
    const { protocol, lost } = recorder();
    const transport = new Transport(near, protocol, { writeBufferLimits: { high: 0 } });
    transport.write(Buffer.alloc(1 << 20));
    const reason = new Error("stop");
    transport.abort(reason);
    assert.equal(transport.isClosing(), true);
    assert.equal(await withTimeout(lost, WAIT_MS, "connectionLost"), reason);
    assert.equal(near.destroyed, true);
    far.destroy();
  });
});
