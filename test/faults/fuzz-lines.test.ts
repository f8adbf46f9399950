import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { itemArbitrary, itemBytes, meets, Oracle } from "../../faults/lib/fuzz-lines.js";

const oracle = () => new Oracle({ app: "calc-server", maxLine: 100, maxDigits: 4300 });

describe("the fuzz corpus and its oracle", () => {
  test("no generated line is quit, and only command items mention sum or product", () => {
    for (const item of fc.sample(itemArbitrary(100), { numRuns: 20_000, seed: 1 })) {
      const text = itemBytes(item).toString("latin1");
      assert.ok(!text.includes("quit"), JSON.stringify(text));
      if (item.t !== "cmd") assert.ok(!/sum|product/.test(text), JSON.stringify(text));
    }
  });

  test("the oracle gives one expectation per line of an item", () => {
    const o = oracle();
    assert.equal(o.expect({ t: "bytes", b: Buffer.from("a\nb\n\nc") }).length, 4);
    assert.equal(o.expect({ t: "ints", text: "1,2", nums: [1n, 2n] }).length, 1);
  });

  test("the oracle follows the calculator's mode and its limits", () => {
    const o = oracle();
    assert.deepEqual(o.expect({ t: "ints", text: "2,3", nums: [2n, 3n] }), [
      { kind: "sum", reply: "Sum of input numbers: '5'\r\n" },
    ]);
    o.expect({ t: "cmd", text: "product \t", mode: "product" });
    assert.deepEqual(o.expect({ t: "pieces", text: "١_٢, 12 ", nums: [12n, 12n] }), [
      { kind: "product", reply: "Product of input numbers: '144'\r\n" },
    ]);
    assert.deepEqual(o.expect({ t: "pieces", text: "1__0", nums: [null] }), [
      { kind: "not-integers" },
    ]);
    assert.deepEqual(o.expect({ t: "long", text: "9".repeat(101) }), [{ kind: "too-long" }]);
    assert.deepEqual(o.expect({ t: "long", text: `${"9".repeat(99)}\r` }), [
      { kind: "product", reply: `Product of input numbers: '${"9".repeat(99)}'\r\n` },
    ]);
    assert.deepEqual(o.expect({ t: "bytes", b: Uint8Array.from([0x31, 0xff]) }), [
      { kind: "not-integers" },
    ]);
  });

  test("an open expectation accepts any sane reply but never a 'Line too long' or a close", () => {
    assert.ok(meets({ kind: "any" }, "sum", "Sum of input numbers: '1'\r\n"));
    assert.ok(!meets({ kind: "any" }, "too-long", "ERROR. Line too long (more than 9 bytes)\r\n"));
    assert.ok(!meets({ kind: "any" }, "closed", "connection closed\r\n"));
  });
});
