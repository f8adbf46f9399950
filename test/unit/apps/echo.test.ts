import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { echo } from "../../../src/apps/echo.js";
import { echoOnce } from "../../../src/apps/echo-once.js";
import { echoUntil } from "../../../src/apps/echo-until.js";
import { startServer } from "../../../src/streams/start-server.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { FakeWriter, fedReader, recordingLogger } from "./fakes.js";

const quiet = () => recordingLogger("info").logger;

describe("echo (app)", () => {
  const table: [name: string, chunks: string[], options: object, output: string][] = [
    ["writes each chunk back", ["ab", "cd"], {}, "abcd"],
    ["prefixes each chunk", ["one", "two"], { prefix: Buffer.from("Got: ") }, "Got: oneGot: two"],
    [
      "reads at most readSize bytes at a time",
      ["abcdef"],
      { readSize: 4, prefix: Buffer.from("|") },
      "|abcd|ef",
    ],
    ["writes nothing at immediate EOF", [], {}, ""],
  ];
  for (const [name, chunks, options, output] of table) {
    test(name, async () => {
      const reader = new StreamReader();
      const writer = new FakeWriter();
      const done = echo(reader, writer, { logger: quiet(), ...options });
      for (const chunk of chunks) {
        reader.feedData(Buffer.from(chunk));
        await new Promise((resolve) => setImmediate(resolve));
      }
      reader.feedEof();
      await done;
      assert.equal(writer.text(), output);
    });
  }

  // Arrivals queued before the loop resumes are one read: with a prefix or failOn that
  // shows in the bytes, so the loop must read them as the seed's does.
  for (const [name, options, output] of [
    [
      "a prefix before each read, not each arrival",
      { prefix: Buffer.from("Got: ") },
      "Got: aGot: bc",
    ],
    ["plain, every byte once, in order", {}, "abc"],
  ] as const) {
    test(`arrivals in one tick while the loop waits: ${name}`, async () => {
      const reader = new StreamReader();
      const writer = new FakeWriter();
      const done = echo(reader, writer, { logger: quiet(), ...options });
      await new Promise((resolve) => setImmediate(resolve));
      for (const chunk of ["a", "b", "c"]) reader.feedData(Buffer.from(chunk));
      await new Promise((resolve) => setImmediate(resolve));
      reader.feedEof();
      await done;
      assert.equal(writer.text(), output);
    });
  }

  test("a failOn chunk split over arrivals in one tick is one read, and fails", async () => {
    const writer = new FakeWriter();
    const reader = new StreamReader();
    const done = echo(reader, writer, { logger: quiet(), failOn: [Buffer.from("boom\n")] });
    await new Promise((resolve) => setImmediate(resolve));
    for (const chunk of ["x", "bo", "om\n"]) reader.feedData(Buffer.from(chunk));
    await assert.rejects(done, { message: "Boom! (received b'boom\\n')" });
    assert.equal(writer.text(), "x");
  });

  test("throws on a failOn chunk, after echoing the chunks before it", async () => {
    const writer = new FakeWriter();
    const reader = new StreamReader();
    const done = echo(reader, writer, { logger: quiet(), failOn: [Buffer.from("boom\n")] });
    reader.feedData(Buffer.from("fine\n"));
    await new Promise((resolve) => setImmediate(resolve));
    reader.feedData(Buffer.from("boom\n"));
    await assert.rejects(done, { message: "Boom! (received b'boom\\n')" });
    assert.equal(writer.text(), "fine\n");
  });

  test("logs the seed's story on echo_HOST_PORT at debug level", async () => {
    const { logger, lines } = recordingLogger("debug");
    await echo(fedReader(["hi\n"]), new FakeWriter(), { logger });
    assert.deepEqual(lines, [
      "echo_127.0.0.1_5000: connection accepted",
      "echo_127.0.0.1_5000: received b'hi\\n'",
      "echo_127.0.0.1_5000: sent b'hi\\n'",
      "echo_127.0.0.1_5000: closing",
    ]);
  });

  test("returns on shutdown while waiting for data", async () => {
    const shutdown = new AbortController();
    const reader = new StreamReader();
    const writer = new FakeWriter();
    const done = echo(reader, writer, { logger: quiet(), signal: shutdown.signal });
    reader.feedData(Buffer.from("x"));
    await new Promise((resolve) => setImmediate(resolve));
    shutdown.abort();
    await done;
    assert.equal(writer.text(), "x");
  });

  test("rejects a bad readSize before reading", async () => {
    await assert.rejects(
      echo(fedReader([]), new FakeWriter(), { logger: quiet(), readSize: 0 }),
      RangeError,
    );
  });

  test("serves ten loopback clients at once, each its own bytes", async () => {
    const server = await startServer((r, w) => echo(r, w, { logger: quiet() }), "127.0.0.1", 0);
    const { port } = server.address() as net.AddressInfo;
    try {
      const runs = Array.from(
        { length: 10 },
        (_, i) =>
          new Promise<string>((resolve, reject) => {
            const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
            const got: Buffer[] = [];
            socket.on("data", (chunk: Buffer) => got.push(chunk));
            socket.on("end", () => resolve(Buffer.concat(got).toString()));
            socket.on("error", reject);
            socket.end(`payload ${i} ${"z".repeat(i * 5000)}`);
          }),
      );
      const replies = await Promise.all(runs);
      for (const [i, reply] of replies.entries()) {
        assert.equal(reply, `payload ${i} ${"z".repeat(i * 5000)}`);
      }
    } finally {
      server.close();
      await server.waitClosed();
    }
  });
});

describe("echoUntil (app)", () => {
  const table: [name: string, chunks: string[], options: object, output: string][] = [
    [
      "sends everything back once it ends with quit\\n",
      ["a\n", "b\n", "quit\n", "late\n"],
      {},
      "a\nb\nquit\n",
    ],
    ["sees the word split across chunks", ["a\nqu", "it\n"], {}, "a\nquit\n"],
    [
      "goes on when quit\\n is not at the end of the data",
      ["quit\nmore", "\n"],
      {},
      "quit\nmore\n",
    ],
    ["sends everything back at EOF", ["no", " word"], {}, "no word"],
    ["uses another word", ["x\nstop\n"], { until: "stop" }, "x\nstop\n"],
    ["prefixes the reply", ["x\nquit\n"], { prefix: Buffer.from("You Got ") }, "You Got x\nquit\n"],
    [
      "answers an error line past the limit",
      ["12345", "678901"],
      { limit: 10 },
      "ERROR. Message too long (more than 10 bytes)\r\n",
    ],
    ["accepts exactly the limit", ["12345", "quit\n"], { limit: 10 }, "12345quit\n"],
  ];
  for (const [name, chunks, options, output] of table) {
    test(name, async () => {
      const reader = new StreamReader();
      const writer = new FakeWriter();
      const done = echoUntil(reader, writer, { logger: quiet(), ...options });
      for (const chunk of chunks) {
        reader.feedData(Buffer.from(chunk));
        await new Promise((resolve) => setImmediate(resolve));
      }
      reader.feedEof();
      await done;
      assert.equal(writer.text(), output);
    });
  }
});

describe("echoOnce (app)", () => {
  test("reads once, writes it back, logs as the official example", async () => {
    const { logger, lines } = recordingLogger("debug");
    const writer = new FakeWriter();
    await echoOnce(fedReader(["Hello World!"], false), writer, { logger });
    assert.equal(writer.text(), "Hello World!");
    assert.deepEqual(lines, [
      "echo_127.0.0.1_5000: Received 'Hello World!' from ('127.0.0.1', 5000)",
      "echo_127.0.0.1_5000: Send: 'Hello World!'",
      "echo_127.0.0.1_5000: Close the client socket",
    ]);
  });

  test("takes at most 100 bytes by default", async () => {
    const writer = new FakeWriter();
    await echoOnce(fedReader(["a".repeat(150)], false), writer, { logger: quiet() });
    assert.equal(writer.text(), "a".repeat(100));
  });

  test("logs bytes that are not UTF-8 without failing", async () => {
    const { logger, lines } = recordingLogger("debug");
    const writer = new FakeWriter();
    await echoOnce(fedReader([Buffer.from([0x61, 0xff])], false), writer, { logger });
    assert.deepEqual(Buffer.concat(writer.chunks), Buffer.from([0x61, 0xff]));
    assert.match(lines[0] ?? "", /Received 'a\\ufffd'/);
  });
});
