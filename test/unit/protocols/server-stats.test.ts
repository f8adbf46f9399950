import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConnectionClosedError,
  ConnectionResetError,
  InvalidStateError,
  TimeoutError,
} from "../../../src/errors.js";
import {
  CLOSE_CAUSES,
  closeCauseOf,
  errorCause,
  StatCounters,
} from "../../../src/protocols/server-stats.js";

describe("errorCause and closeCauseOf", () => {
  const cases = [
    [
      new TimeoutError("Connection closed: line not completed within 1 s"),
      "timeout",
      "lineTimeout",
    ],
    [
      new ConnectionClosedError("Cannot read: closed", { cause: new TimeoutError("idle") }),
      "timeout",
      "lineTimeout",
    ],
    [new ConnectionResetError("Connection reset by peer: ECONNRESET"), "reset", "reset"],
    [
      new ConnectionClosedError("Cannot read: reset", { cause: new ConnectionResetError("x") }),
      "reset",
      "reset",
    ],
    [new ConnectionClosedError("Cannot read: the connection is closed"), undefined, "aborted"],
    [new Error("boom"), "error", "error"],
    [new InvalidStateError("Cannot x: y"), "error", "error"],
  ] as const;
  for (const [error, cause, closeCause] of cases) {
    test(`${error.name} (${error.message}) is ${cause} and closes as ${closeCause}`, () => {
      assert.equal(errorCause(error), cause);
      assert.equal(closeCauseOf(error), closeCause);
    });
  }
});

describe("StatCounters", () => {
  test("a snapshot copies the counts and the two gauges, and does not follow later counts", () => {
    const counters = new StatCounters();
    counters.accepted = 3;
    counters.refused.maxConnections = 1;
    counters.closed.idle = 2;
    counters.bytesSent = 10;
    const snapshot = counters.snapshot(4, 5);
    counters.refused.maxConnections = 9;
    counters.closed.idle = 9;
    assert.equal(snapshot.connectionsOpen, 4);
    assert.equal(snapshot.connectionsWaiting, 5);
    assert.equal(snapshot.accepted, 3);
    assert.equal(snapshot.refused.maxConnections, 1);
    assert.equal(snapshot.closed.idle, 2);
    assert.equal(snapshot.bytesSent, 10);
    assert.deepEqual(Object.keys(snapshot.closed), [...CLOSE_CAUSES]);
  });
});
