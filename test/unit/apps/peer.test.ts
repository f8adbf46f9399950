import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { peerLoggerName, peerOf, pythonAddress } from "../../../src/apps/peer.js";

describe("peer names", () => {
  const table: [peername: unknown, logger: string, python: string][] = [
    [
      { address: "127.0.0.1", port: 59778, family: "IPv4" },
      "echo_127.0.0.1_59778",
      "('127.0.0.1', 59778)",
    ],
    [{ address: "::1", port: 64624, family: "IPv6" }, "echo_::1_64624", "('::1', 64624, 0, 0)"],
    ["/tmp/echo.sock", "echo_/tmp/echo.sock", "'/tmp/echo.sock'"],
    [undefined, "echo_?", "'?'"],
  ];
  for (const [peername, logger, python] of table) {
    test(`names ${JSON.stringify(peername)} as ${logger} and ${python}`, () => {
      const peer = peerOf({ getExtraInfo: (name) => (name === "peername" ? peername : undefined) });
      assert.equal(peerLoggerName("echo", peer), logger);
      assert.equal(pythonAddress(peer), python);
    });
  }
});
