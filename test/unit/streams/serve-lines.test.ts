import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectionResetError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/streams/connection-logger.js";
import type { LineConnection, LineSession } from "../../../src/streams/line-session.js";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { bracketSession, FakeWriter, fedReader } from "../apps/fakes.js";

describe("serveLines options and sessions", () => {
  const badOptions: [name: string, call: () => unknown, type: typeof Error, message: RegExp][] = [
    [
      "a factory that is not a function",
      () => serveLines(42 as never),
      TypeError,
      /Invalid factory/,
    ],
    ["maxLine 0", () => serveLines(bracketSession, { maxLine: 0 }), RangeError, /Invalid maxLine/],
    ["maxLine 1.5", () => serveLines(bracketSession, { maxLine: 1.5 }), RangeError, /maxLine/],
    [
      "a maxLine string",
      () => serveLines(bracketSession, { maxLine: "9" as never }),
      TypeError,
      /Invalid maxLine: expected a number/,
    ],
    [
      "a lineTimeout string",
      () => serveLines(bracketSession, { lineTimeout: "9" as never }),
      TypeError,
      /Invalid lineTimeout: expected a number/,
    ],
    [
      "a signal that is not an AbortSignal",
      () => serveLines(bracketSession, { signal: {} as never }),
      TypeError,
      /Invalid signal/,
    ],
    [
      "a logger without warn",
      () => serveLines(bracketSession, { logger: { debug() {}, info() {}, error() {} } as never }),
      TypeError,
      /Invalid logger: expected a warn method/,
    ],
  ];
  for (const [name, call, type, message] of badOptions) {
    test(`refuses ${name} when called, before any connection`, () => {
      assert.throws(call, (error) => error instanceof type && message.test(error.message));
    });
  }

  for (const [name, session] of [
    ["neither onLine nor onLineBytes", {}],
    ["both onLine and onLineBytes", { onLine: () => "", onLineBytes: () => "" }],
  ] as const) {
    test(`rejects a session with ${name}, sending nothing`, async () => {
      const writer = new FakeWriter();
      const done = serveLines(() => ({ welcome: "hi\n", ...session }))(fedReader(["a\n"]), writer);
      await assert.rejects(done, (error) => error instanceof TypeError);
      assert.equal(writer.text(), "");
    });
  }

  test("onLine gets its own copy of the line, safe to keep past the call", async () => {
    const kept: Buffer[] = [];
    const writer = new FakeWriter();
    const end = await serveLines(() => ({
      onLine(line) {
        kept.push(line);
        return undefined;
      },
    }))(fedReader(["one\r\ntwo\n", "three"]), writer);
    assert.equal(end, "eof");
    assert.deepEqual(
      kept.map((line) => line.toString()),
      ["one\r", "two", "three"],
    );
    assert.equal(writer.writes, 0);
  });

  test("conn.append builds a reply from pieces, before what the hook returns, in line order", async () => {
    const writer = new FakeWriter();
    const end = await serveLines((conn) => ({
      onLineBytes(bytes, start, stop) {
        conn.append(Buffer.from("[", "latin1"));
        conn.append(bytes, start, stop);
        // The reader's bytes are copied at once: changing them later changes no reply.
        bytes.fill(0x3f, start, stop);
        return "]\n";
      },
    }))(fedReader(["one\ntwo\nthree\n", "four\n"]), writer);
    assert.equal(end, "eof");
    assert.equal(writer.text(), "[one]\n[two]\n[three]\n[four]\n");
    // The lines were all buffered: one burst, one write, pieces and returned strings together.
    assert.equal(writer.writes, 1);
  });

  test("conn.append between string and byte replies keeps their order", async () => {
    const writer = new FakeWriter();
    let n = 0;
    await serveLines((conn) => ({
      onLine(line) {
        n++;
        if (n % 3 === 0) return Buffer.from(`b${line}\n`);
        if (n % 3 === 1) return `s${line}\n`;
        conn.append(Buffer.from(`a${line}`));
        return "\n";
      },
    }))(fedReader(["1\n2\n3\n4\n5\n6\n7\n"]), writer);
    assert.equal(writer.text(), "s1\na2\nb3\ns4\na5\nb6\ns7\n");
  });

  test("conn.append while no line is being answered writes a copy at once", async () => {
    const writer = new FakeWriter();
    let saved: LineConnection | undefined;
    const reader = fedReader(["hi\n"], false);
    const done = serveLines((conn) => {
      saved = conn;
      return { onLine: (line) => `${line}\n` };
    })(reader, writer);
    await new Promise((resolve) => setImmediate(resolve));
    const bytes = Buffer.from("xnewsx");
    saved?.append(bytes, 1, 5);
    bytes.fill(0x21);
    assert.equal(writer.text(), "hi\nnews");
    reader.feedEof();
    assert.equal(await done, "eof");
  });

  for (const reject of [false, true]) {
    test(`a too-long hook that closes and returns a ${reject ? "rejected" : "pending"} promise while the loop waits: ${reject ? "the handler rejects" : "the reply is sent, then close"}`, async () => {
      const reader = new StreamReader({ limit: 8 });
      const writer = new FakeWriter();
      const ends: string[] = [];
      const done = serveLines(
        (conn) => ({
          onLine: (line) => `<${line}>`,
          onLineTooLong() {
            conn.close();
            return reject ? Promise.reject(new Error("late")) : Promise.resolve("TOO LONG\n");
          },
          onEnd: (end) => ends.push(end),
        }),
        { maxLine: 4 },
      )(reader, writer);
      reader.feedData(Buffer.from("a\n"));
      await new Promise((resolve) => setImmediate(resolve));
      // Over the limit while the loop waits.
      reader.feedData(Buffer.from("0123456789abcdef"));
      if (reject) {
        await assert.rejects(done, { message: "late" });
        assert.deepEqual(ends, ["error"]);
        assert.equal(writer.text(), "<a>");
      } else {
        assert.equal(await done, "close");
        assert.deepEqual(ends, ["close"]);
        assert.equal(writer.text(), "<a>TOO LONG\n");
      }
    });
  }

  test("appended replies behind queued bytes are written as a Buffer of their own size, not a view of the shared slab", async () => {
    const written: Buffer[] = [];
    let queued = 0;
    const writer = Object.assign(new FakeWriter(), {
      transport: { getWriteBufferSize: () => queued },
    });
    const original = writer.write.bind(writer);
    writer.write = (data: Uint8Array | string) => {
      if (typeof data !== "string") written.push(data as Buffer);
      original(data);
    };
    const reader = new StreamReader();
    const done = serveLines((conn) => ({
      onLineBytes(bytes, start, end) {
        conn.append(bytes, start, end);
        return "\n";
      },
    }))(reader, writer);
    reader.feedData(Buffer.from("free\n"));
    await new Promise((resolve) => setImmediate(resolve));
    queued = 100;
    reader.feedData(Buffer.from("behind\n"));
    await new Promise((resolve) => setImmediate(resolve));
    reader.feedEof();
    await done;
    assert.equal(writer.text(), "free\nbehind\n");
    const [free, behind] = written as [Buffer, Buffer];
    assert.ok(
      free.buffer.byteLength > free.length,
      "with nothing queued the view is written as is",
    );
    assert.equal(behind.buffer.byteLength, behind.length);
  });

  for (const [name, args, type] of [
    ["a string", ["text"], TypeError],
    ["a start past the end", [Buffer.from("ab"), 3], RangeError],
    ["an end before the start", [Buffer.from("ab"), 1, 0], RangeError],
    ["an end past the bytes", [Buffer.from("ab"), 0, 3], RangeError],
    ["a fractional start", [Buffer.from("ab"), 0.5], RangeError],
  ] as const) {
    test(`conn.append refuses ${name}, failing only that connection`, async () => {
      const writer = new FakeWriter();
      const done = serveLines((conn) => ({
        onLine() {
          (conn.append as (...a: unknown[]) => void)(...args);
          return "not sent\n";
        },
      }))(fedReader(["x\n"]), writer);
      await assert.rejects(done, (error) => error instanceof type);
      assert.equal(writer.text(), "");
    });
  }

  test("conn.logger is the logger option, or a silent one", async () => {
    const loggers: unknown[] = [];
    const factory = (conn: LineConnection): LineSession => {
      loggers.push(conn.logger);
      return bracketSession(conn);
    };
    await serveLines(factory)(fedReader([]), new FakeWriter());
    await serveLines(factory, { logger: console })(fedReader([]), new FakeWriter());
    assert.deepEqual(loggers, [silentLogger, console]);
  });

  test("a reply that is neither bytes, undefined nor a promise rejects with a TypeError", async () => {
    const done = serveLines(() => ({ onLine: () => 42 as never }))(
      fedReader(["a\n"]),
      new FakeWriter(),
    );
    await assert.rejects(
      done,
      (error) => error instanceof TypeError && /Invalid line reply/.test(error.message),
    );
  });

  test("a session that throws fails the connection after the replies before it, and onEnd hears of it", async () => {
    const ends: unknown[] = [];
    const writer = new FakeWriter();
    const done = serveLines(() => ({
      onLine(line) {
        if (line.toString() === "boom") throw new Error("boom");
        return `<${line}>`;
      },
      onEnd: (end, error) => ends.push(end, error?.message),
    }))(fedReader(["a\nboom\nb\n"]), writer);
    await assert.rejects(done, /boom/);
    assert.equal(writer.text(), "<a>");
    assert.deepEqual(ends, ["error", "boom"]);
  });

  test("a rejected reply fails the connection after the replies before it", async () => {
    const writer = new FakeWriter();
    const done = serveLines(() => ({
      onLine: (line) =>
        line.toString() === "no" ? Promise.reject(new Error("refused")) : `<${line}>`,
    }))(fedReader(["a\nno\nb\n"]), writer);
    await assert.rejects(done, /refused/);
    assert.equal(writer.text(), "<a>");
  });

  test("a reply of undefined from onLineTooLong sends nothing for that line", async () => {
    const writer = new FakeWriter();
    const end = await serveLines(
      (conn) => ({ ...bracketSession(conn), onLineTooLong: () => undefined }),
      { maxLine: 3 },
    )(fedReader(["toolong\nok\n"]), writer);
    assert.equal(end, "eof");
    assert.equal(writer.text(), "<ok>");
  });

  test("a peer that resets ends the session quietly: it resolves with lost and onEnd hears why", async () => {
    const ends: unknown[] = [];
    const reader = fedReader(["a\n"], false);
    const writer = new FakeWriter();
    const done = serveLines((conn) => ({
      ...bracketSession(conn),
      onEnd: (end, error) => ends.push(end, error?.name),
    }))(reader, writer);
    await new Promise((resolve) => setImmediate(resolve));
    reader.setException(new ConnectionResetError());
    assert.equal(await done, "lost");
    assert.equal(writer.text(), "<a>");
    assert.deepEqual(ends, ["lost", "ConnectionResetError"]);
  });

  test("a shutdown while a reply is pending sends it, answers what is buffered, then stops", async () => {
    const shutdown = new AbortController();
    const reader = fedReader(["slow\nb\npart"], false);
    const writer = new FakeWriter();
    const done = serveLines(
      () => ({
        onLine(line) {
          if (line.toString() !== "slow") return `<${line}>`;
          shutdown.abort();
          return new Promise((resolve) => setImmediate(resolve, "<slow>"));
        },
      }),
      { signal: shutdown.signal },
    )(reader, writer);
    assert.equal(await done, "shutdown");
    assert.equal(writer.text(), "<slow><b>");
  });
});
