import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { TimeoutError } from "../../../src/errors.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { withTimeout } from "../../helpers/with-timeout.js";
import { bracketSession, FakeWriter, fedReader } from "../apps/fakes.js";

/** serveLines' outcome: its end, or the error it rejected with. */
function outcome(promise: Promise<string>): Promise<string | Error> {
  return withTimeout(
    promise.catch((error: Error) => error),
    5000,
    "serveLines to settle",
  );
}

function assertLineTimeout(result: string | Error, seconds: string): void {
  assert.ok(result instanceof TimeoutError, `expected a TimeoutError, got ${String(result)}`);
  assert.equal(result.code, "ERR_TIMEOUT");
  assert.equal(result.message, `Connection closed: line not completed within ${seconds} s`);
}

describe("serveLines with lineTimeout", () => {
  test("rejects with a TimeoutError when a line stays unfinished, after answering the lines before it", async () => {
    const reader = fedReader(["one\ntwo\npar"], false);
    const writer = new FakeWriter();
    const result = await outcome(serveLines(bracketSession, { lineTimeout: 100 })(reader, writer));
    assertLineTimeout(result, "0.1");
    assert.equal(writer.text(), "<one><two>ERR line not completed within 0.1 s\r\n");
  });

  test("a line that begins while the loop waits is timed too", async () => {
    const reader = fedReader([], false);
    const writer = new FakeWriter();
    const loop = outcome(serveLines(bracketSession, { lineTimeout: 100 })(reader, writer));
    await sleep(30);
    reader.feedData(Buffer.from("x"));
    assertLineTimeout(await loop, "0.1");
    assert.equal(writer.text(), "ERR line not completed within 0.1 s\r\n");
  });

  test("counts the rest of an over-long line being discarded as a line begun", async () => {
    const reader = fedReader(["x".repeat(20)], false, 8);
    const writer = new FakeWriter();
    const result = await outcome(serveLines(bracketSession, { lineTimeout: 100 })(reader, writer));
    assertLineTimeout(result, "0.1");
    assert.equal(
      writer.text(),
      "ERR line too long (more than 8 bytes)\r\nERR line not completed within 0.1 s\r\n",
    );
  });

  test("does not time the silence after an over-long line whose newline was the last byte", async () => {
    const reader = fedReader(["x".repeat(20) + "\n"], false, 8);
    const writer = new FakeWriter();
    const loop = outcome(serveLines(bracketSession, { lineTimeout: 50 })(reader, writer));
    await sleep(300); // six timeouts without a byte, after a line that ended
    reader.feedData(Buffer.from("b\n"));
    reader.feedEof();
    assert.equal(await loop, "eof");
    assert.equal(writer.text(), "ERR line too long (more than 8 bytes)\r\n<b>");
  });

  test("does not time the silence between lines", async () => {
    const reader = fedReader(["a\n"], false);
    const writer = new FakeWriter();
    const loop = outcome(serveLines(bracketSession, { lineTimeout: 50 })(reader, writer));
    await sleep(300); // six timeouts without a byte
    reader.feedData(Buffer.from("b\n"));
    reader.feedEof();
    assert.equal(await loop, "eof");
    assert.equal(writer.text(), "<a><b>");
  });

  test("answers a line that ends in time and times the next one afresh", async () => {
    const reader = fedReader(["he"], false);
    const writer = new FakeWriter();
    const loop = outcome(serveLines(bracketSession, { lineTimeout: 1000 })(reader, writer));
    await sleep(50);
    reader.feedData(Buffer.from("llo\nwor"));
    await sleep(50);
    reader.feedData(Buffer.from("ld\n"));
    reader.feedEof();
    assert.equal(await loop, "eof");
    assert.equal(writer.text(), "<hello><world>");
  });

  test("lineTimeout 0 (the default) never times a line", async () => {
    const reader = new StreamReader();
    reader.feedData(Buffer.from("slow"));
    const writer = new FakeWriter();
    const loop = outcome(serveLines(bracketSession, { lineTimeout: 0 })(reader, writer));
    await sleep(100);
    reader.feedEof();
    assert.equal(await loop, "eof");
    assert.equal(writer.text(), "<slow>");
  });

  test("refuses a lineTimeout that is not an integer >= 0", async () => {
    for (const lineTimeout of [-1, 0.5, Number.NaN, 2 ** 31]) {
      assert.throws(
        () => serveLines(bracketSession, { lineTimeout }),
        (error) => error instanceof RangeError && /Invalid lineTimeout/.test(error.message),
      );
    }
  });
});
