import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chunkingName, cutter } from "../../../src/testing/chunking.js";

describe("cutter", () => {
  test("whole takes the head write, byte one byte, size at most size", () => {
    assert.equal(cutter("whole")(7, 20), 7);
    assert.equal(cutter()(7, 20), 7);
    assert.equal(cutter("byte")(7, 20), 1);
    assert.equal(cutter({ size: 4 })(7, 20), 4);
    assert.equal(cutter({ size: 4 })(2, 2), 2);
  });

  test("seed cuts between 1 and everything queued, the same for the same seed", () => {
    const one = cutter({ seed: 3 });
    const two = cutter({ seed: 3 });
    const cuts = Array.from({ length: 200 }, () => one(1, 10));
    assert.deepEqual(
      Array.from({ length: 200 }, () => two(1, 10)),
      cuts,
    );
    assert.ok(cuts.every((n) => n >= 1 && n <= 10));
    assert.ok(new Set(cuts).size > 5, "the cuts vary");
  });

  test("refuses bad forms", () => {
    assert.throws(() => cutter({ size: 0 }), RangeError);
    assert.throws(() => cutter({ seed: 1.5 }), RangeError);
    assert.throws(() => cutter("lines" as never), TypeError);
  });

  test("names each form for test titles", () => {
    assert.deepEqual(
      ["whole", "byte", { size: 3 }, { seed: 9 }].map((c) => chunkingName(c as never)),
      ["whole", "byte", "size=3", "seed=9"],
    );
  });
});
