import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConcurrentReadError } from "../../../src/errors.js";
import { type ChunkVisitor, StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, state } from "../../helpers/fake-transport.js";

interface Recorder extends ChunkVisitor {
  /** The chunks handed over, as latin1 text. */
  chunks: string[];
}

/** Records chunks; `goOn` decides what onChunk answers. */
function recorder(goOn: (chunks: string[]) => boolean = () => true): Recorder {
  return {
    chunks: [],
    onChunk(data) {
      this.chunks.push(data.toString("latin1"));
      return goOn(this.chunks);
    },
  };
}

describe("StreamReader.waitChunks", () => {
  test("hands each arrival over inside feedData, at most size bytes at a time, and keeps waiting", async () => {
    const reader = new StreamReader();
    const visitor = recorder();
    const wait = reader.waitChunks(visitor, 4);
    feed(reader, "abc");
    // Synchronously: no microtask ran between the feed and this check.
    assert.deepEqual(visitor.chunks, ["abc"]);
    feed(reader, "defghijklm");
    assert.deepEqual(visitor.chunks, ["abc", "defg", "hijk", "lm"]);
    assert.equal(reader.bufferedSize, 0);
    assert.deepEqual(await state(wait), ["pending"]);
  });

  test("onChunk returning false ends the wait; the rest of that chunk stays for the next read", async () => {
    const reader = new StreamReader();
    const visitor = recorder((chunks) => chunks.length < 2);
    const wait = reader.waitChunks(visitor, 3);
    feed(reader, "abcdefgh");
    assert.deepEqual(visitor.chunks, ["abc", "def"]);
    assert.deepEqual(await state(wait), ["resolved", undefined]);
    assert.equal(reader.bufferedSize, 2);
    // A new wait with data buffered is a read(size) of it.
    assert.equal((await reader.waitChunks(recorder(), 3))?.toString(), "gh");
  });

  test("onChunk returning false on the last piece ends the wait with nothing buffered", async () => {
    const reader = new StreamReader();
    const wait = reader.waitChunks(
      recorder(() => false),
      8,
    );
    feed(reader, "abc");
    assert.deepEqual(await state(wait), ["resolved", undefined]);
    assert.equal(reader.bufferedSize, 0);
  });

  test("what onChunk throws rejects the wait", async () => {
    const reader = new StreamReader();
    const boom = new Error("boom");
    const wait = reader.waitChunks(
      {
        onChunk() {
          throw boom;
        },
      },
      8,
    );
    feed(reader, "x");
    assert.deepEqual(await state(wait), ["rejected", boom]);
  });

  test("EOF ends the wait with an empty buffer, and a wait at EOF returns one at once", async () => {
    const reader = new StreamReader();
    const wait = reader.waitChunks(recorder(), 8);
    reader.feedEof();
    const result = await wait;
    assert.equal(result?.length, 0);
    assert.equal((await reader.waitChunks(recorder(), 8))?.length, 0);
  });

  test("setException and the signal end the wait with their error", async () => {
    const reader = new StreamReader();
    const error = new Error("gone");
    const wait = reader.waitChunks(recorder(), 8);
    reader.setException(error);
    assert.deepEqual(await state(wait), ["rejected", error]);

    const other = new StreamReader();
    const controller = new AbortController();
    const aborted = other.waitChunks(recorder(), 8, { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    assert.deepEqual(await state(aborted), ["rejected", reason]);
  });

  test("a read while it waits is refused, and the wait goes on", async () => {
    const reader = new StreamReader();
    const visitor = recorder();
    const wait = reader.waitChunks(visitor, 8);
    await assert.rejects(reader.read(8), ConcurrentReadError);
    feed(reader, "ok");
    assert.deepEqual(visitor.chunks, ["ok"]);
    assert.deepEqual(await state(wait), ["pending"]);
  });
});
