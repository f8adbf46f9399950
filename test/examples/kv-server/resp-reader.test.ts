import assert from "node:assert/strict";
import { test } from "node:test";
import { IncompleteReadError, StreamReader } from "asyncnet";
import { RespProtocolError, RespReader } from "../../../examples/kv-server/resp-reader.js";

const PIPELINE = Buffer.from(
  "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\nv\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
    "PING hi\r\n" +
    "\r\n" +
    "*1\r\n$0\r\n\r\n" +
    "*0\r\n",
);
const COMMANDS = [["SET", "k", "v\r\nv"], ["GET", "k"], ["PING", "hi"], [], [""], []];

function strings(commands: Buffer[][]): string[][] {
  return commands.map((args) => args.map((arg) => arg.toString("latin1")));
}

async function drain(resp: RespReader): Promise<Buffer[][]> {
  const commands: Buffer[][] = [];
  for (let command = await resp.next(); command !== null; command = await resp.next()) {
    commands.push(command);
  }
  return commands;
}

test("RespReader parses the same commands from a pipeline split at every offset", async () => {
  for (let at = 0; at <= PIPELINE.length; at++) {
    const reader = new StreamReader();
    const resp = new RespReader(reader);
    reader.feedData(PIPELINE.subarray(0, at));
    const commands: Buffer[][] = [];
    for (let command = resp.nextNow(); command !== null; command = resp.nextNow()) {
      commands.push(command);
    }
    reader.feedData(PIPELINE.subarray(at));
    reader.feedEof();
    commands.push(...(await drain(resp)));
    assert.deepEqual(strings(commands), COMMANDS, `split at ${at}`);
  }
});

test("RespReader.nextNow answers every buffered command without waiting", () => {
  const reader = new StreamReader();
  reader.feedData(PIPELINE);
  const resp = new RespReader(reader);
  const commands: Buffer[][] = [];
  for (let command = resp.nextNow(); command !== null; command = resp.nextNow()) {
    commands.push(command);
  }
  assert.deepEqual(strings(commands), COMMANDS);
  assert.equal(reader.bufferedSize, 0);
});

test("RespReader throws IncompleteReadError at EOF within a command", async () => {
  const reader = new StreamReader();
  reader.feedData(Buffer.from("*2\r\n$3\r\nGET\r\n$1\r\n"));
  reader.feedEof();
  await assert.rejects(new RespReader(reader).next(), IncompleteReadError);
});

test("RespReader rejects a malformed header with RespProtocolError", async () => {
  for (const bad of ["*x\r\n", "*1\r\n:3\r\n", "*1\r\n$-5\r\n", "*1\r\n$2000000\r\n"]) {
    const reader = new StreamReader();
    reader.feedData(Buffer.from(bad));
    assert.throws(() => new RespReader(reader).nextNow(), RespProtocolError, bad);
  }
  const reader = new StreamReader();
  reader.feedData(Buffer.from("*1\r\n$1\r\nabc\r\n"));
  assert.throws(() => new RespReader(reader).nextNow(), /bulk string not followed by CRLF/);
});
