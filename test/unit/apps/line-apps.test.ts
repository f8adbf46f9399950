import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { calculator } from "../../../src/apps/calculator.js";
import { lineEcho } from "../../../src/apps/line-echo.js";
import { startServer } from "../../../src/streams/start-server.js";
import { FakeWriter, fedReader, recordingLogger } from "./fakes.js";

const WELCOME = "<welcome: starting in sum mode>\n";
const ERROR = "ERROR. Enter only integers separated by commas\n";

describe("calculator (app)", () => {
  const table: [name: string, input: string[], output: string][] = [
    ["greets, then answers in sum mode", ["1,2\n"], `${WELCOME}Sum of input numbers: '3'\r\n`],
    [
      "switches mode per line",
      ["product\n2,3\nsum\n2,3\n"],
      `${WELCOME}<switching to product mode>\r\nProduct of input numbers: '6'\r\n<switching to sum mode>\r\nSum of input numbers: '5'\r\n`,
    ],
    ["answers the error line (\\n only) for text", ["hello\r\n"], `${WELCOME}${ERROR}`],
    ["stops reading at quit", ["quit\r\n1,2\n"], `${WELCOME}connection closed\r\n`],
    [
      "answers a number line split across chunks",
      ["1", "2,", "3\r", "\n"],
      `${WELCOME}Sum of input numbers: '15'\r\n`,
    ],
    [
      "refuses an over-long line and goes on",
      [`${"1,".repeat(40)}1\n7\n`],
      `${WELCOME}ERROR. Line too long (more than 64 bytes)\r\nSum of input numbers: '7'\r\n`,
    ],
    ["greets and closes at immediate EOF", [], WELCOME],
  ];
  for (const [name, input, output] of table) {
    test(name, async () => {
      const { logger } = recordingLogger("info");
      const writer = new FakeWriter();
      await calculator(fedReader(input), writer, { logger, limit: 64 });
      assert.equal(writer.text(), output);
    });
  }

  test("logs the seed's story at debug level, nothing at info", async () => {
    const debug = recordingLogger("debug", "calc");
    await calculator(fedReader(["sum\n1,2\nbad\nquit\n"]), new FakeWriter(), {
      logger: debug.logger,
    });
    assert.deepEqual(debug.lines, [
      "calc: Received connection from ('127.0.0.1', 5000)",
      "calc: ('127.0.0.1', 5000) --> 1,2",
      "calc: ('127.0.0.1', 5000) --> bad",
      "calc: ('127.0.0.1', 5000) quit",
    ]);
    const info = recordingLogger("info", "calc");
    await calculator(fedReader(["1,2\n"]), new FakeWriter(), { logger: info.logger });
    assert.deepEqual(info.lines, []);
  });

  test("writes an IPv6 peer as Python's 4-tuple", async () => {
    const { logger, lines } = recordingLogger("debug", "calc");
    const writer = new FakeWriter();
    writer.peer = { address: "::1", port: 64624, family: "IPv6" };
    await calculator(fedReader([]), writer, { logger });
    assert.equal(lines[0], "calc: Received connection from ('::1', 64624, 0, 0)");
  });

  test("answers in bytes as it answers in text: the same replies with debug logging (text) and without (bytes)", async () => {
    const lines = [
      ...["0", "-0", "7", "-7", "9,1", "-9,-1", "99,1", "123456789012345,1", "9007199254740991"],
      ...["-9007199254740991", "4503599627370496,4503599627370495", "1_000,+5", " 3 , 4 "],
      // Results of 16 and 17 characters from terms of 15 digits or fewer: the byte path's longest.
      ...["999999999999999,999999999999999", "-999999999999999,-999999999999999"],
      ...["product", "-1,-1", "0,-5", "99999999,99999999", "-99999999,99999999", "2,-3"],
      ...["-6361,1416003655831", "6361,1416003655831"],
      ...["1e3", "sum", "12,34,56", `${"9".repeat(30)},1`],
    ].join("\n");
    const replies = async (level: "info" | "debug") => {
      const writer = new FakeWriter();
      const { logger } = recordingLogger(level);
      await calculator(fedReader([`${lines}\n`]), writer, { logger });
      return writer.text();
    };
    const text = await replies("debug");
    assert.equal(await replies("info"), text);
    assert.match(text, /Sum of input numbers: '9007199254740991'\r\n/);
    assert.match(text, /Product of input numbers: '-9999999800000001'\r\n/);
    assert.match(text, /\r\nSum of input numbers: '1999999999999998'\r\n/);
    assert.match(text, /\r\nSum of input numbers: '-1999999999999998'\r\n/);
    assert.match(text, /\r\nProduct of input numbers: '-9007199254740991'\r\n/);
    assert.match(text, /\r\nProduct of input numbers: '9007199254740991'\r\n/);
  });

  test("honours maxResultDigits", async () => {
    const { logger } = recordingLogger("info");
    const writer = new FakeWriter();
    await calculator(fedReader(["99,1\n"]), writer, { logger, maxResultDigits: 2 });
    assert.equal(writer.text(), `${WELCOME}ERROR. Result too large (more than 2 digits)\r\n`);
  });

  test("serves two interleaved loopback clients with separate modes", async () => {
    const { logger } = recordingLogger("info");
    const server = await startServer((r, w) => calculator(r, w, { logger }), "127.0.0.1", 0);
    const { port } = server.address() as net.AddressInfo;
    const open = () => {
      const socket = net.connect(port, "127.0.0.1");
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString("latin1");
      });
      const until = (text: string) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no ${JSON.stringify(text)} in ${data}`)),
            5000,
          );
          const check = () => {
            if (data.endsWith(text)) {
              clearTimeout(timer);
              socket.off("data", check);
              resolve();
            }
          };
          socket.on("data", check);
          check();
        });
      return { socket, until, all: () => data };
    };
    try {
      const a = open();
      const b = open();
      await Promise.all([a.until(WELCOME), b.until(WELCOME)]);
      a.socket.write("product\n");
      await a.until("<switching to product mode>\r\n");
      b.socket.write("3,4\n");
      await b.until("Sum of input numbers: '7'\r\n");
      a.socket.write("3,4\n");
      await a.until("Product of input numbers: '12'\r\n");
      a.socket.end();
      b.socket.end();
    } finally {
      server.close();
      server.closeClients();
      await server.waitClosed();
    }
  });
});

describe("lineEcho (app)", () => {
  const table: [name: string, input: (string | Buffer)[], output: string][] = [
    ["echoes lines in ascii() form", ["hello\r\nnice\n"], "Echoed: 'hello'\r\nEchoed: 'nice'\r\n"],
    ["closes on quit", ["quit\nmore\n"], "connection closed\r\n"],
    [
      "answers invalid UTF-8 with an error line and goes on",
      [Buffer.from([0xc3, 0x28, 0x0a]), "ok\n"],
      "ERROR. Input is not valid UTF-8\r\nEchoed: 'ok'\r\n",
    ],
    [
      "decodes UTF-8 split across chunks",
      [Buffer.from([0x63, 0xc3]), Buffer.from([0xa9, 0x0a])],
      "Echoed: 'c\\xe9'\r\n",
    ],
    ["answers the last line at EOF", ["tail"], "Echoed: 'tail'\r\n"],
  ];
  for (const [name, input, output] of table) {
    test(name, async () => {
      const { logger } = recordingLogger("info");
      const writer = new FakeWriter();
      await lineEcho(fedReader(input), writer, { logger });
      assert.equal(writer.text(), output);
    });
  }

  test("logs the seed's story at debug level", async () => {
    const { logger, lines } = recordingLogger("debug", "line_echo");
    await lineEcho(fedReader(["hi\nquit\n"]), new FakeWriter(), { logger });
    assert.deepEqual(lines, [
      "line_echo: Received connection from ('127.0.0.1', 5000)",
      "line_echo: ('127.0.0.1', 5000) --> hi",
      "line_echo: ('127.0.0.1', 5000) quit",
    ]);
  });

  test("ends quietly when the peer resets the connection", async () => {
    const { logger, lines } = recordingLogger("debug", "line_echo");
    const reader = fedReader(["a\n"], false);
    const { ConnectionResetError } = await import("../../../src/errors.js");
    const done = lineEcho(reader, new FakeWriter(), { logger });
    await new Promise((resolve) => setImmediate(resolve));
    reader.setException(new ConnectionResetError());
    await done;
    assert.match(lines.at(-2) ?? "", /connection lost: Connection reset by peer/);
  });
});
