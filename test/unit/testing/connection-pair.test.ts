import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectionResetError } from "../../../src/errors.js";
import type { Protocol } from "../../../src/protocols/protocol.js";
import type { Transport } from "../../../src/protocols/transport.js";
import { ALL_CHUNKINGS, chunkingName } from "../../../src/testing/chunking.js";
import { createConnectionPair, socketAddress } from "../../../src/testing/connection-pair.js";
import { WAIT_MS } from "../../helpers/net.js";
import { waitFor, withTimeout } from "../../helpers/with-timeout.js";

/** A protocol that records its calls and the chunks it got. */
function recorder(keepOpen = false) {
  const calls: string[] = [];
  const chunks: Buffer[] = [];
  let resolveLost!: (error: Error | undefined) => void;
  const lost = new Promise<Error | undefined>((resolve) => (resolveLost = resolve));
  const state = { transport: undefined as Transport | undefined };
  const protocol: Protocol = {
    connectionMade: (t) => {
      state.transport = t;
      calls.push("connectionMade");
    },
    dataReceived: (data) => chunks.push(data),
    eofReceived: () => {
      calls.push("eofReceived");
      return keepOpen;
    },
    connectionLost: (error) => {
      calls.push("connectionLost");
      resolveLost(error);
    },
    pauseWriting: () => calls.push("pauseWriting"),
    resumeWriting: () => calls.push("resumeWriting"),
  };
  return { protocol, calls, chunks, lost, state };
}

describe("createConnectionPair", () => {
  for (const chunking of ALL_CHUNKINGS) {
    test(`carries every byte in order, cut ${chunkingName(chunking)}`, async () => {
      const [a, b] = createConnectionPair({ chunking });
      const far = recorder();
      b.protocol(far.protocol);
      const { writer } = a.streams();
      const payload = Buffer.from("the quick brown fox\njumps over\n");
      writer.write(payload.subarray(0, 10));
      writer.write(payload.subarray(10));
      await a.flush();
      assert.deepEqual(Buffer.concat(far.chunks), payload);
      const sizes = far.chunks.map((c) => c.length);
      if (chunking === "whole") assert.deepEqual(sizes, [10, payload.length - 10]);
      if (chunking === "byte") assert.ok(sizes.every((n) => n === 1));
      if (typeof chunking === "object" && "size" in chunking) {
        assert.ok(sizes.every((n) => n <= chunking.size) && sizes.length > 2);
      }
      writer.close();
    });
  }

  test("seeded chunking cuts the same way every time, and another seed cuts otherwise", async () => {
    const cuts = async (seed: number) => {
      const [a, b] = createConnectionPair({ chunking: { seed }, delivery: "manual" });
      const far = recorder();
      b.protocol(far.protocol);
      a.stream.write(Buffer.alloc(500, 1));
      await a.flush();
      return far.chunks.map((c) => c.length);
    };
    const first = await cuts(7);
    assert.deepEqual(await cuts(7), first);
    assert.notDeepEqual(await cuts(8), first);
    assert.equal(
      first.reduce((x, y) => x + y, 0),
      500,
    );
  });

  test("gives each end the other's address, default and given", () => {
    const [a, b] = createConnectionPair();
    assert.deepEqual(a.info.peername, b.info.sockname);
    assert.deepEqual(a.info.sockname, b.info.peername);
    const info = { peername: socketAddress("::1", 25), sockname: socketAddress("::1", 4000) };
    const [c, d] = createConnectionPair({ info });
    assert.equal(c.protocol(recorder().protocol).getExtraInfo("peername"), info.peername);
    assert.deepEqual(d.protocol(recorder().protocol).getExtraInfo("peername"), info.sockname);
    assert.equal(info.peername.family, "IPv6");
    c.transport?.abort();
    a.stream.destroy();
  });

  test("attaches one transport per end", () => {
    const [a] = createConnectionPair();
    a.streams();
    assert.throws(() => a.protocol(recorder().protocol), { name: "InvalidStateError" });
    a.transport?.abort();
  });

  test("manual delivery: nothing moves until pump(), which moves one chunk", async () => {
    const [a, b] = createConnectionPair({ delivery: "manual", chunking: { size: 2 } });
    const far = recorder();
    b.protocol(far.protocol);
    a.stream.write("abcdef");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(far.chunks.length, 0);
    assert.equal(b.pendingBytes, 6);
    assert.equal(a.pump(), true);
    assert.deepEqual(far.chunks.map(String), ["ab"]);
    await a.flush();
    assert.equal(Buffer.concat(far.chunks).toString(), "abcdef");
    assert.equal(a.pump(), false, "nothing left to move");
  });

  test("flush() fails loudly on two protocols that answer each other forever", async () => {
    const [a, b] = createConnectionPair({ delivery: "manual" });
    const echo = (): Protocol => {
      let t: Transport | undefined;
      return {
        connectionMade: (transport) => (t = transport),
        dataReceived: (data) => t?.write(data),
        connectionLost: () => {},
      };
    };
    a.protocol(echo()).write("ping");
    b.protocol(echo());
    await assert.rejects(a.flush(1000), /Cannot flush: still delivering after 1000 chunks/);
    a.transport?.abort();
  });

  test("window: a paused reader holds `window` bytes, then its peer pauses writing, and both resume", async () => {
    const [a, b] = createConnectionPair({ window: 1024 });
    const near = recorder();
    const far = recorder();
    const sender = a.protocol(near.protocol, { writeBufferLimits: { high: 4096 } });
    const receiver = b.protocol(far.protocol);
    receiver.pauseReading();
    assert.equal(b.readingPaused, true);
    for (let i = 0; i < 8; i++) sender.write(Buffer.alloc(1024, 0x62));
    await a.flush();
    assert.deepEqual(near.calls, ["connectionMade", "pauseWriting"]);
    assert.equal(far.chunks.length, 0, "a paused reader gets nothing");
    assert.equal(b.pendingBytes, 8 * 1024);
    assert.equal(a.unsentBytes, 7 * 1024, "one window's worth was taken");
    receiver.resumeReading();
    await a.flush();
    assert.deepEqual(near.calls, ["connectionMade", "pauseWriting", "resumeWriting"]);
    assert.equal(Buffer.concat(far.chunks).length, 8 * 1024);
    assert.ok(
      far.chunks.every((c) => c.length <= 1024),
      "no chunk is larger than the window",
    );
    sender.abort();
  });

  test("a reader's flow control pauses its transport, and drain() waits for the peer", async () => {
    const [a, b] = createConnectionPair({ window: 4096 });
    const { reader } = b.streams({ limit: 1024 });
    const { writer } = a.streams();
    writer.transport.setWriteBufferLimits({ high: 8192 });
    writer.write(Buffer.alloc(64 * 1024, 0x63));
    const drained = writer.drain();
    await waitFor(() => b.readingPaused, WAIT_MS, "the reader to pause its transport");
    let done = false;
    void drained.then(() => (done = true));
    await a.flush();
    assert.equal(done, false, "drain waits while the reader holds back");
    assert.equal((await reader.readExactly(64 * 1024)).length, 64 * 1024);
    await withTimeout(drained, WAIT_MS, "drain");
    writer.close();
  });

  test("eof() is a half-close: the protocol gets eofReceived and can still write", async () => {
    const [a, b] = createConnectionPair();
    const far = recorder(true);
    const t = b.protocol(far.protocol);
    const got: Buffer[] = [];
    a.stream.on("data", (d: Buffer) => got.push(d));
    a.eof();
    await a.flush();
    assert.deepEqual(far.calls, ["connectionMade", "eofReceived"]);
    t.write("still here");
    t.close();
    await withTimeout(far.lost, WAIT_MS, "connectionLost");
    assert.equal(Buffer.concat(got).toString(), "still here");
    assert.equal(a.closed, true);
  });

  test("reset(): the other end loses the connection with a ConnectionResetError", async () => {
    const [a, b] = createConnectionPair();
    const far = recorder();
    b.protocol(far.protocol);
    a.stream.write("dropped?");
    a.reset();
    const error = await withTimeout(far.lost, WAIT_MS, "connectionLost");
    assert.ok(error instanceof ConnectionResetError, String(error));
    assert.equal(a.closed, true);
  });

  test("failWrite(n): the n-th write fails, and the transport is lost with its error", async () => {
    const [a, b] = createConnectionPair();
    const near = recorder();
    const t = a.protocol(near.protocol);
    const far = recorder();
    b.protocol(far.protocol);
    a.failWrite(2);
    t.write("one");
    t.write("two");
    t.write("three");
    const error = await withTimeout(near.lost, WAIT_MS, "connectionLost");
    // As over a socket, the transport reports a broken pipe as a reset.
    assert.ok(error instanceof ConnectionResetError, String(error));
    assert.equal((error.cause as NodeJS.ErrnoException).code, "EPIPE");
    await withTimeout(far.lost, WAIT_MS, "the far end's close");
    assert.equal(Buffer.concat(far.chunks).toString(), "one");
    assert.throws(() => a.failWrite(0), RangeError);
  });
});
