import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AbortError,
  ConcurrentReadError,
  ConnectionClosedError,
  ConnectionResetError,
  IncompleteReadError,
  InvalidStateError,
  isConnectionLost,
  LimitOverrunError,
  lossReason,
  normalizeSocketError,
  TimeoutError,
  withPeer,
} from "../../src/errors.js";

const PEER = Object.freeze({ address: "127.0.0.1", port: 5000, family: "IPv4" });
const systemReset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
const reset = new ConnectionResetError("Connection reset by peer: ECONNRESET", {
  cause: systemReset,
  peer: PEER,
});
const idle = new TimeoutError("Connection closed: idle timeout", {
  closedConnection: true,
  peer: PEER,
});

// name, code, message, whether it means a lost peer, its peer
const rows: [Error, string, string, string, boolean, unknown][] = [
  [
    reset,
    "ConnectionResetError",
    "ERR_CONNECTION_RESET",
    "Connection reset by peer: ECONNRESET",
    true,
    PEER,
  ],
  [
    new ConnectionResetError(),
    "ConnectionResetError",
    "ERR_CONNECTION_RESET",
    "Connection reset by peer",
    true,
    undefined,
  ],
  [
    new ConnectionClosedError("Cannot drain: connection lost", { cause: reset, peer: PEER }),
    "ConnectionClosedError",
    "ERR_CONNECTION_CLOSED",
    "Cannot drain: connection lost",
    true,
    PEER,
  ],
  [
    new IncompleteReadError(Buffer.from("abc"), 10, { peer: "/tmp/s.sock" }),
    "IncompleteReadError",
    "ERR_INCOMPLETE_READ",
    "Cannot complete read: EOF after 3 bytes, expected 10 bytes",
    true,
    "/tmp/s.sock",
  ],
  [idle, "TimeoutError", "ERR_TIMEOUT", "Connection closed: idle timeout", true, PEER],
  [
    new TimeoutError("Cannot connect: timed out after 5 ms"),
    "TimeoutError",
    "ERR_TIMEOUT",
    "Cannot connect: timed out after 5 ms",
    false,
    undefined,
  ],
  [new AbortError(), "AbortError", "ABORT_ERR", "The operation was aborted", false, undefined],
  [
    new ConcurrentReadError("readLine"),
    "ConcurrentReadError",
    "ERR_CONCURRENT_READ",
    "Cannot readLine: another read is already waiting for data",
    false,
    undefined,
  ],
  [
    new InvalidStateError("Cannot listen: the server is closed"),
    "InvalidStateError",
    "ERR_INVALID_STATE",
    "Cannot listen: the server is closed",
    false,
    undefined,
  ],
  [
    new LimitOverrunError("Cannot read line: exceeded limit of 16 bytes", 17),
    "LimitOverrunError",
    "ERR_LIMIT_OVERRUN",
    "Cannot read line: exceeded limit of 16 bytes",
    false,
    undefined,
  ],
];

describe("error classes", () => {
  for (const [error, name, code, message, lost, peer] of rows) {
    test(`${name} "${message}": code ${code}, ${lost ? "a lost peer" : "not a loss"}`, () => {
      assert.equal(error.name, name);
      assert.equal((error as { code?: string }).code, code);
      assert.equal(error.message, message);
      assert.equal(isConnectionLost(error), lost);
      assert.equal((error as { peer?: unknown }).peer, peer);
    });
  }

  test("isConnectionLost is false for a bug, a non-Error and a look-alike", () => {
    assert.equal(isConnectionLost(new TypeError("x is not a function")), false);
    assert.equal(isConnectionLost("boom"), false);
    assert.equal(isConnectionLost(undefined), false);
    assert.equal(
      isConnectionLost({ name: "ConnectionResetError", code: "ERR_CONNECTION_RESET" }),
      false,
    );
  });

  test("the cause is kept", () => {
    assert.equal(reset.cause, systemReset);
    const drain = new ConnectionClosedError("Cannot drain: connection lost", { cause: idle });
    assert.equal(drain.cause, idle);
  });
});

describe("normalizeSocketError", () => {
  test("wraps a reset-like system error with the peer, keeps others as they are", () => {
    for (const code of ["ECONNRESET", "EPIPE", "ECONNABORTED"]) {
      const system = Object.assign(new Error(`write ${code}`), { code });
      const error = normalizeSocketError(system, PEER);
      assert.ok(error instanceof ConnectionResetError);
      assert.equal(error.message, `Connection reset by peer: ${code}`);
      assert.equal(error.cause, system);
      assert.equal(error.peer, PEER);
    }
    const other = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(normalizeSocketError(other, PEER), other);
  });
});

describe("lossReason and withPeer", () => {
  test("lossReason follows a drain's cause to what ended the connection", () => {
    assert.equal(
      lossReason(new ConnectionClosedError("Cannot drain: connection lost", { cause: reset })),
      "Connection reset by peer: ECONNRESET",
    );
    assert.equal(
      lossReason(new ConnectionClosedError("Cannot drain: connection lost")),
      "Cannot drain: connection lost",
    );
    assert.equal(lossReason(idle), "Connection closed: idle timeout");
  });

  test("withPeer fills in a missing peer of a loss only", () => {
    const eof = new IncompleteReadError(Buffer.alloc(0), 4);
    assert.equal(withPeer(eof, PEER).peer, PEER);
    const other = { address: "10.0.0.1", port: 1, family: "IPv4" };
    assert.equal(withPeer(reset, other).peer, PEER, "a known peer is kept");
    const bug = new TypeError("x");
    withPeer(bug, PEER);
    assert.equal((bug as { peer?: unknown }).peer, undefined);
  });
});
