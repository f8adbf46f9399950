import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChunkQueue } from "../../../src/streams/chunk-queue.js";

const b = (text: string) => Buffer.from(text, "latin1");

describe("ChunkQueue take: views", () => {
  test("views of one chunk, then of the next, each share their own chunk's memory", () => {
    const first = Buffer.alloc(2048, 0x61);
    const second = Buffer.alloc(2048, 0x62);
    const queue = new ChunkQueue();
    queue.append(first);
    queue.append(second);
    const a1 = queue.take(10);
    const a2 = queue.take(2000);
    queue.skip(38);
    const b1 = queue.take(5);
    assert.equal(a1.buffer, first.buffer);
    assert.equal(a2.byteOffset, first.byteOffset + 10);
    assert.equal(b1.buffer, second.buffer);
    assert.equal(b1.byteOffset, second.byteOffset);
    assert.deepEqual([a1.length, a2.length, b1.length], [10, 2000, 5]);
    assert.equal(a2.toString("latin1"), "a".repeat(2000));
    assert.equal(b1.toString("latin1"), "bbbbb");
  });

  test("views of a tail as it grows and after it is replaced hold the bytes taken", () => {
    const queue = new ChunkQueue();
    // Four small chunks kept as they are, then a tail that small chunks are copied into.
    for (const part of ["0", "1", "2", "3"]) queue.append(b(part));
    queue.skip(4);
    const taken: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 400; i++) {
      const part = `<${i}>`;
      queue.append(b(part));
      expected.push(part);
      // Take one token in three, so that views are cut from many tails and offsets.
      if (i % 3 === 2) taken.push(queue.take(queue.size).toString("latin1"));
    }
    taken.push(queue.take(queue.size).toString("latin1"));
    assert.equal(taken.join(""), expected.join(""));
  });

  test("views taken from the same Buffer fed twice are right", () => {
    const chunk = b("abcdef");
    const queue = new ChunkQueue();
    queue.append(chunk);
    queue.append(chunk);
    const views = [queue.take(2), queue.take(5), queue.take(5)];
    assert.deepEqual(
      views.map((view) => view.toString("latin1")),
      ["ab", "cdefa", "bcdef"],
    );
  });
});
