import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../../../src/cli/command.js";
import { parseMetricsAddress } from "../../../src/cli/metrics-flags.js";

describe("parseMetricsAddress", () => {
  test("is undefined when --metrics is not given", () => {
    assert.equal(parseMetricsAddress(undefined), undefined);
  });

  for (const [text, expected] of [
    ["127.0.0.1:9100", { host: "127.0.0.1", port: 9100 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::1]:9100", { host: "::1", port: 9100 }],
    ["0.0.0.0:65535", { host: "0.0.0.0", port: 65535 }],
  ] as const) {
    test(`parses ${text}`, () => {
      assert.deepEqual(parseMetricsAddress(text), expected);
    });
  }

  for (const text of [
    "9100",
    ":9100",
    "localhost:",
    "::1:9100",
    "[::1]",
    "[]:9100",
    "a b:1",
    "h:65536",
    "h:-1",
    "h:9x",
  ]) {
    test(`refuses '${text}' with a UsageError`, () => {
      assert.throws(
        () => parseMetricsAddress(text),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, /^Invalid --metrics/);
          return true;
        },
      );
    });
  }
});
