import assert from "node:assert/strict";
import { test } from "node:test";
import { lineEcho } from "../../../src/apps/line-echo.js";
import { lineEchoReply } from "../../../src/framing/line-echo.js";
import { FakeWriter, fedReader, recordingLogger } from "./fakes.js";

// The app answers printable ASCII lines on a fast path of its own: every one of these
// must get lineEchoReply's bytes, and the same debug line, whichever path answers it.
const LINES: readonly (string | Buffer)[] = [
  "hello world 0123456789",
  "",
  "   ",
  " leading and trailing \t\v\f\r\x1c\x1d\x1e\x1f ",
  "it's",
  'say "hi"',
  `both ' and "`,
  "back\\slash",
  "tab\tinside",
  "\x00\x7f",
  "~!@#$%^&*()_+`-=[]{}|;:,./<>?",
  "quit",
  "quit ",
  " quit",
  "Quit",
  "caf\u00e9",
  "nbsp\u00a0",
  "\ufeffbom",
  Buffer.from([0x61, 0x85]),
  Buffer.from([0xc3, 0x28]),
];

const bytesOf = (line: string | Buffer) => (typeof line === "string" ? Buffer.from(line) : line);

for (const line of LINES) {
  const shown = JSON.stringify(bytesOf(line).toString("latin1"));
  test(`lineEcho answers ${shown} as lineEchoReply does`, async () => {
    const bytes = bytesOf(line);
    const expected = lineEchoReply(bytes);
    const { logger, lines } = recordingLogger("debug", "line_echo");
    const writer = new FakeWriter();
    await lineEcho(fedReader([Buffer.concat([bytes, Buffer.from("\n")])]), writer, { logger });
    assert.equal(writer.text(), expected.reply.toString("latin1"));
    // What the trace logged for the line, as the seed's `(HOST, PORT) --> LINE`.
    const logged = lines.filter((l) => l.includes(") -->")).map((l) => l.slice(l.indexOf("-->")));
    assert.deepEqual(logged, expected.text === undefined ? [] : [`--> ${expected.text}`.trimEnd()]);
  });
}
