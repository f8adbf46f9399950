import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitOverrunError } from "../../../src/errors.js";
import { type LineBurstVisitor, StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, state } from "../../helpers/fake-transport.js";

const LIMIT = 8;

interface Recorder extends LineBurstVisitor {
  /** Lines as latin1 text, and "|" after each linesTaken call. */
  events: string[];
}

/** Records lines and bursts; `goOn` decides what linesTaken answers. */
function recorder(goOn: (events: string[]) => boolean = () => true): Recorder {
  return {
    events: [],
    onLine(bytes, start, end) {
      this.events.push(bytes.toString("latin1", start, end));
      return true;
    },
    linesTaken() {
      this.events.push("|");
      return goOn(this.events);
    },
  };
}

describe("StreamReader.waitLines", () => {
  test("hands each arrival's whole lines over inside feedData, then calls linesTaken, and keeps waiting", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const visitor = recorder();
    const wait = reader.waitLines(visitor);
    feed(reader, "a\nb");
    // Synchronously: no microtask ran between the feed and this check.
    assert.deepEqual(visitor.events, ["a\n", "|"]);
    feed(reader, "c\r\nd\n");
    assert.deepEqual(visitor.events, ["a\n", "|", "bc\r\n", "d\n", "|"]);
    assert.equal(reader.bufferedSize, 0);
    assert.deepEqual(await state(wait), ["pending"]);
  });

  test("a chunk without a whole line does not call linesTaken", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const visitor = recorder();
    const wait = reader.waitLines(visitor);
    for (const byte of "abc") feed(reader, byte);
    assert.deepEqual(visitor.events, []);
    assert.equal(reader.bufferedSize, 3);
    assert.deepEqual(await state(wait), ["pending"]);
  });

  test("resolves undefined when linesTaken returns false, leaving later lines buffered", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const visitor = recorder(() => false);
    const wait = reader.waitLines(visitor);
    feed(reader, "a\n");
    assert.deepEqual(await state(wait), ["resolved", undefined]);
    feed(reader, "b\n");
    assert.deepEqual(visitor.events, ["a\n", "|"]);
    assert.equal(reader.readLineNow()?.toString(), "b\n");
  });

  test("is readLine when a whole line is already buffered, at EOF, or with a line over the limit", async () => {
    const buffered = new StreamReader({ limit: LIMIT });
    feed(buffered, "x\ny");
    assert.equal((await buffered.waitLines(recorder()))?.toString(), "x\n");

    const atEof = new StreamReader({ limit: LIMIT });
    feed(atEof, "part");
    atEof.feedEof();
    assert.equal((await atEof.waitLines(recorder()))?.toString(), "part");

    const long = new StreamReader({ limit: LIMIT });
    feed(long, "x".repeat(LIMIT + 1));
    await assert.rejects(long.waitLines(recorder()), LimitOverrunError);
  });

  test("ends as readLine does when EOF or an over-long line arrives during the wait", async () => {
    const eof = new StreamReader({ limit: LIMIT });
    const visitor = recorder();
    const wait = eof.waitLines(visitor);
    feed(eof, "a\npart");
    eof.feedEof();
    assert.equal((await wait)?.toString(), "part");
    assert.deepEqual(visitor.events, ["a\n", "|"]);

    const long = new StreamReader({ limit: LIMIT });
    const tooLong = long.waitLines(recorder());
    feed(long, "xxxx", "xxxxx");
    await assert.rejects(tooLong, LimitOverrunError);
    // Discarded whole: the rest up to its newline is dropped, the next line reads.
    feed(long, "yy\nok\n");
    assert.equal((await long.readLine()).toString(), "ok\n");
  });

  test("rejects with what onLine throws and hands over no later line", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const bug = new Error("handler bug");
    const seen: string[] = [];
    const wait = reader.waitLines({
      onLine(bytes, start, end) {
        seen.push(bytes.toString("latin1", start, end));
        throw bug;
      },
      linesTaken: () => true,
    });
    feed(reader, "a\nb\n");
    await assert.rejects(wait, (error) => error === bug);
    assert.deepEqual(seen, ["a\n"]);
    assert.equal(reader.readLineNow()?.toString(), "b\n");
  });

  test("wakeLines resolves the wait with undefined; setException rejects it", async () => {
    const reader = new StreamReader();
    const wait = reader.waitLines(recorder());
    assert.equal(reader.wakeLines(), true);
    assert.deepEqual(await state(wait), ["resolved", undefined]);
    assert.equal(reader.wakeLines(), false);

    const failing = reader.waitLines(recorder());
    const reset = new Error("reset");
    reader.setException(reset);
    await assert.rejects(failing, (error) => error === reset);
  });

  test("a signal's abort rejects the wait and consumes nothing", async () => {
    const reader = new StreamReader();
    const controller = new AbortController();
    const wait = reader.waitLines(recorder(), { signal: controller.signal });
    feed(reader, "pa");
    controller.abort(new Error("stop"));
    await assert.rejects(wait, /stop/);
    assert.equal(reader.bufferedSize, 2);
  });
});
