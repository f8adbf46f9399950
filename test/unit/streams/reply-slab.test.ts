import assert from "node:assert/strict";
import { test } from "node:test";
import { ReplyBytes } from "../../../src/streams/reply-slab.js";

const latin1 = (text: string) => Buffer.from(text, "latin1");

test("pieces come out as one Buffer, in the order they were added", () => {
  const bytes = new ReplyBytes();
  const line = latin1("xx hello yy");
  bytes.add(latin1("Echoed: '"), 0, 9);
  bytes.add(line, 3, 8);
  bytes.addText("'\r\n");
  assert.equal(bytes.size, 17);
  assert.equal(bytes.take().toString("latin1"), "Echoed: 'hello'\r\n");
  assert.equal(bytes.size, 0);
  assert.equal(bytes.take().length, 0, "an empty take is empty");
});

test("every way a piece is copied gives its bytes: whole or a range, short or long, Buffer or Uint8Array", () => {
  // add copies a short range byte by byte, a whole piece of 16 bytes or more with one
  // set, and a long range with set of a view: each length crosses those lines.
  const bytes = new ReplyBytes();
  const expected: number[] = [];
  const source = Uint8Array.from({ length: 200 }, (_, i) => (i * 7 + 1) & 0xff);
  for (let n = 1; n <= 70; n++) {
    const whole = Buffer.from(source.subarray(0, n));
    bytes.add(whole, 0, n);
    bytes.add(source.subarray(5, 5 + n), 0, n);
    bytes.add(source, 3, 3 + n);
    bytes.add(whole, 1, n);
    expected.push(...source.subarray(0, n), ...source.subarray(5, 5 + n));
    expected.push(...source.subarray(3, 3 + n), ...source.subarray(1, n));
  }
  assert.deepEqual([...bytes.take()], expected);
});

test("a range from a buffer's start is copied as a range, also where the slab runs out", () => {
  // [0, n) of a longer buffer is not the whole buffer: copying all of it would write
  // past the piece, and past the slab's end once the slab is nearly full.
  const source = Uint8Array.from({ length: 200 }, (_, i) => (i * 13 + 5) & 0xff);
  const bytes = new ReplyBytes();
  const expected: number[] = [];
  // About 300 KiB in takes of about 19 KiB: several slabs filled up to their last bytes
  // (a take starts a new slab only when less than 4 KiB is left).
  for (let round = 0; round < 16; round++) {
    for (let sweep = 0; sweep < 8; sweep++) {
      for (let n = 16; n <= 180; n += 7) {
        bytes.add(source, 0, n);
        expected.push(...source.subarray(0, n));
      }
    }
    assert.deepEqual([...bytes.take()], expected.splice(0));
  }
});

test("text is encoded as UTF-8", () => {
  const bytes = new ReplyBytes();
  bytes.addText("é€😀");
  assert.deepEqual(bytes.take(), Buffer.from("é€😀", "utf8"));
});

test("two connections adding in turn each get only their own bytes, in order", () => {
  const a = new ReplyBytes();
  const b = new ReplyBytes();
  for (let i = 0; i < 100; i++) {
    a.addText(`a${i},`);
    b.addText(`b${i},`);
  }
  const expect = (tag: string) => Array.from({ length: 100 }, (_, i) => `${tag}${i},`).join("");
  assert.equal(a.take().toString(), expect("a"));
  assert.equal(b.take().toString(), expect("b"));
});

test("a Buffer handed out is never written again, across many slabs", () => {
  const bytes = new ReplyBytes();
  const taken: [Buffer, string][] = [];
  // 300 KiB in all: several slabs used up and replaced.
  for (let i = 0; i < 3000; i++) {
    const piece = `${i}:${"x".repeat(i % 97)};`;
    bytes.addText(piece);
    if (i % 7 === 0) {
      const out = bytes.take();
      taken.push([out, out.toString("latin1")]);
    }
  }
  const other = new ReplyBytes();
  for (let i = 0; i < 2000; i++) other.add(latin1("ZZZZZZZZZZ"), 0, 10);
  other.take();
  for (const [out, was] of taken) assert.equal(out.toString("latin1"), was);
});

test("a piece larger than a slab, and one added whole, keep their place", () => {
  const bytes = new ReplyBytes();
  const big = Buffer.alloc(100_000, 0x61);
  bytes.addText("<");
  bytes.add(big, 0, big.length);
  bytes.addText("|");
  const whole = Buffer.alloc(20_000, 0x62);
  bytes.push(whole);
  bytes.push(latin1("small"));
  bytes.addText(">");
  const out = bytes.take().toString("latin1");
  assert.equal(out, `<${"a".repeat(100_000)}|${"b".repeat(20_000)}small>`);
});

test("a large reply added whole is kept by reference, not copied", () => {
  const bytes = new ReplyBytes();
  const whole = Buffer.alloc(20_000, 0x62);
  bytes.push(whole);
  assert.equal(bytes.take(), whole);
});
