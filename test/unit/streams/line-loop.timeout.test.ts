import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { TimeoutError } from "../../../src/errors.js";
import { timeoutSlack } from "../../../src/protocols/sweeper.js";
import { VirtualClock } from "../../helpers/virtual-clock.js";
import { withTimeout } from "../../helpers/with-timeout.js";
import { bracketSession, FakeWriter, fedReader } from "../apps/fakes.js";

/** serveLines' outcome so far: "pending", its end, or the error it rejected with. */
function track(promise: Promise<string>) {
  const state = { outcome: "pending" as string | Error };
  const settled = promise.then(
    (end) => {
      state.outcome = end;
    },
    (error: Error) => {
      state.outcome = error;
    },
  );
  return { state, settled: withTimeout(settled, 5000, "serveLines to settle") };
}

describe("serveLines lineTimeout on a virtual clock", () => {
  for (const lineTimeout of [300, 30_000]) {
    const slack = timeoutSlack(lineTimeout);
    test(`a ${lineTimeout} ms line: not timed out at T − 10 %, timed out by T + ${slack} ms`, async () => {
      const clock = new VirtualClock();
      const reader = fedReader(["one\n"], false);
      const writer = new FakeWriter();
      const { state, settled } = track(
        serveLines(bracketSession, { lineTimeout, clock })(reader, writer),
      );
      // Silence between lines is not timed: ten timeouts of it.
      await clock.advance(10 * lineTimeout);
      assert.equal(state.outcome, "pending");
      reader.feedData(Buffer.from("par"));
      await clock.advance(0.9 * lineTimeout);
      assert.equal(state.outcome, "pending", "still waiting for the line's end at T − 10 %");
      await clock.advance(0.1 * lineTimeout + slack);
      await settled;
      const error: unknown = state.outcome;
      assert.ok(error instanceof TimeoutError, `expected a TimeoutError, got ${String(error)}`);
      assert.equal(
        error.message,
        `Connection closed: line not completed within ${lineTimeout / 1000} s`,
      );
      assert.equal(writer.text(), `<one>ERR line not completed within ${lineTimeout / 1000} s\r\n`);
    });
  }

  test("a line that ends just before its deadline is answered, and the next one is timed afresh", async () => {
    const clock = new VirtualClock();
    const reader = fedReader(["he"], false);
    const writer = new FakeWriter();
    const { state, settled } = track(
      serveLines(bracketSession, { lineTimeout: 1000, clock })(reader, writer),
    );
    await clock.advance(890);
    reader.feedData(Buffer.from("llo\nwor"));
    await clock.advance(890);
    reader.feedData(Buffer.from("ld\n"));
    await clock.advance(5000);
    assert.equal(state.outcome, "pending");
    reader.feedEof();
    await settled;
    assert.equal(state.outcome, "eof");
    assert.equal(writer.text(), "<hello><world>");
  });
});
