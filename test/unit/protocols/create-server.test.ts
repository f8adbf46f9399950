import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { validatePort } from "../../../src/protocols/create-server.js";

describe("validatePort", () => {
  for (const port of [0, 1, 8080, 65535]) {
    test(`port ${port} is accepted`, () => {
      assert.equal(validatePort(port), port);
    });
  }

  const invalid: [unknown, string, string][] = [
    [-1, "RangeError", "Invalid port: must be an integer in 0..65535, got -1"],
    [65536, "RangeError", "Invalid port: must be an integer in 0..65535, got 65536"],
    [80.5, "RangeError", "Invalid port: must be an integer in 0..65535, got 80.5"],
    [Number.NaN, "RangeError", "Invalid port: must be an integer in 0..65535, got NaN"],
    ["80", "TypeError", "Invalid port: expected a number, got string"],
    [undefined, "TypeError", "Invalid port: expected a number, got undefined"],
  ];
  for (const [port, name, message] of invalid) {
    test(`port ${String(port)} is a ${name}`, () => {
      assert.throws(() => validatePort(port), { name, message });
    });
  }
});
