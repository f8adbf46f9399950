import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamReader } from "asyncnet";
import { RespChunkParser } from "../../../examples/bench/resp-chunk-parser.js";
import { RespProtocolError, RespReader } from "../../../examples/kv-server/resp-reader.js";

const PIPELINE = Buffer.from(
  "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\nv\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
    "PING  hi\t \r\n" +
    "\r\n" +
    "*1\r\n$0\r\n\r\n" +
    "*0\r\n*-1\r\n",
);
// Empty commands (a blank line, `*0`, `*-1`) are skipped: kv-server answers them with nothing.
const COMMANDS = [["SET", "k", "v\r\nv"], ["GET", "k"], ["PING", "hi"], [""]];

function parse(pieces: readonly Buffer[]): { commands: string[][]; error: string | null } {
  const parser = new RespChunkParser();
  const commands: string[][] = [];
  for (const piece of pieces) {
    parser.feed(piece, (args) => {
      commands.push(args.map((arg) => arg.toString("latin1")));
      return false;
    });
    if (parser.error !== null) break;
  }
  return { commands, error: parser.error };
}

test("RespChunkParser parses the same commands from a pipeline split at every offset", () => {
  for (let at = 0; at <= PIPELINE.length; at++) {
    const result = parse([PIPELINE.subarray(0, at), PIPELINE.subarray(at)]);
    assert.deepEqual(result, { commands: COMMANDS, error: null }, `split at ${at}`);
  }
  const bytes = parse([...PIPELINE].map((byte) => Buffer.of(byte)));
  assert.deepEqual(bytes, { commands: COMMANDS, error: null });
});

test("RespChunkParser stops at QUIT-like requests when onCommand returns true", () => {
  const parser = new RespChunkParser();
  const seen: string[] = [];
  const stopped = parser.feed(Buffer.from("PING\r\nQUIT\r\nPING\r\n"), (args) => {
    seen.push(args[0]?.toString("latin1") ?? "");
    return seen.length === 2;
  });
  assert.equal(stopped, true);
  assert.deepEqual(seen, ["PING", "QUIT"]);
});

/** The message RespReader (kv-server's framing) throws for `input`, or null. */
async function readerError(input: Buffer): Promise<string | null> {
  const reader = new StreamReader();
  reader.feedData(input);
  reader.feedEof();
  const resp = new RespReader(reader);
  try {
    while ((await resp.next()) !== null);
    return null;
  } catch (error) {
    return error instanceof RespProtocolError ? error.message : `other: ${String(error)}`;
  }
}

const MALFORMED = [
  "*1\r\n:1\r\n",
  "*x\r\n",
  "*12345678901\r\n",
  "*2000000\r\n",
  "*1\r\n$-2\r\n",
  "*1\r\n$1048577\r\n",
  "*1\r\n$1\r\nab\r\n",
  "*1\r\n$\r\n",
  "*-\r\n",
  "*1\r\n\r\n",
  "x".repeat(64 * 1024 + 2),
  `*1\r\n$${"1".repeat(64 * 1024 + 1)}\r\n`,
];

test("RespChunkParser refuses malformed input with kv-server's RespReader's messages", async () => {
  for (const text of MALFORMED) {
    const input = Buffer.from(text, "latin1");
    const expected = await readerError(input);
    assert.notEqual(expected, null, `RespReader accepts ${JSON.stringify(text.slice(0, 20))}`);
    assert.equal(parse([input]).error, expected, JSON.stringify(text.slice(0, 20)));
  }
});
