import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isConnectionLoss, isShutdown, timeoutOf } from "../../../src/apps/app-options.js";
import {
  AbortError,
  ConnectionClosedError,
  ConnectionResetError,
  IncompleteReadError,
  TimeoutError,
} from "../../../src/errors.js";

const idle = new TimeoutError("Connection closed: idle timeout", { closedConnection: true });
const cases: [name: string, error: unknown, loss: boolean, timeout: TimeoutError | undefined][] = [
  ["a reset", new ConnectionResetError("Connection reset by peer: ECONNRESET"), true, undefined],
  ["a drain on a lost connection", new ConnectionClosedError("Cannot drain"), true, undefined],
  ["the idle timeout", idle, false, idle],
  [
    "a drain cut short by the idle timeout",
    new ConnectionClosedError("Cannot drain: connection lost", { cause: idle }),
    false,
    idle,
  ],
  ["EOF in mid-read", new IncompleteReadError(Buffer.from("ab"), 4), true, undefined],
  ["a bug", new TypeError("x is not a function"), false, undefined],
  ["a thrown string", "boom", false, undefined],
];

describe("isConnectionLoss and timeoutOf", () => {
  for (const [name, error, loss, timeout] of cases) {
    test(`${name}: ${loss ? "a quiet loss" : "not a loss"}, ${timeout ? "a timeout" : "no timeout"}`, () => {
      assert.equal(isConnectionLoss(error), loss);
      assert.equal(timeoutOf(error), timeout);
    });
  }
});

describe("isShutdown", () => {
  test("is the signal's abort only once the signal aborted", () => {
    const controller = new AbortController();
    const reason = new AbortError("Stopped by SIGTERM");
    assert.equal(isShutdown(reason, controller.signal), false);
    controller.abort(reason);
    assert.equal(isShutdown(reason, controller.signal), true);
    assert.equal(isShutdown(new Error("other"), controller.signal), false);
    assert.equal(isShutdown(reason, undefined), false);
  });
});
