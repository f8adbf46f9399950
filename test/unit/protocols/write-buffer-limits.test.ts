import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveWriteBufferLimits } from "../../../src/protocols/write-buffer-limits.js";

describe("resolveWriteBufferLimits", () => {
  const valid: [string, object, { high: number; low: number }][] = [
    ["nothing given", {}, { high: 65536, low: 16384 }],
    ["only high", { high: 1000 }, { high: 1000, low: 250 }],
    ["only an odd high", { high: 1001 }, { high: 1001, low: 250 }],
    ["only low", { low: 100 }, { high: 400, low: 100 }],
    ["both", { high: 10, low: 10 }, { high: 10, low: 10 }],
    ["zeros", { high: 0, low: 0 }, { high: 0, low: 0 }],
    ["only high 0", { high: 0 }, { high: 0, low: 0 }],
  ];
  for (const [what, limits, expected] of valid) {
    test(`${what} resolves to high ${expected.high} and low ${expected.low}`, () => {
      assert.deepEqual(resolveWriteBufferLimits(limits), expected);
    });
  }

  const invalid: [object, string][] = [
    [{ high: 10, low: 11 }, "Invalid write buffer limits: low (11) is above high (10)"],
    [{ high: -1 }, "Invalid write buffer limit: high must be an integer >= 0, got -1"],
    [{ low: -1 }, "Invalid write buffer limit: low must be an integer >= 0, got -1"],
    [{ high: 2.5 }, "Invalid write buffer limit: high must be an integer >= 0, got 2.5"],
    [{ low: Number.NaN }, "Invalid write buffer limit: low must be an integer >= 0, got NaN"],
    [
      { high: Number.POSITIVE_INFINITY },
      "Invalid write buffer limit: high must be an integer >= 0, got Infinity",
    ],
  ];
  for (const [limits, message] of invalid) {
    test(`${JSON.stringify(limits)} is a RangeError: ${message}`, () => {
      assert.throws(() => resolveWriteBufferLimits(limits), { name: "RangeError", message });
    });
  }
});
