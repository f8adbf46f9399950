#!/usr/bin/env node
/**
 * A chat server: every line a client sends goes to every other client.
 *
 *     node dist/examples/chat-server.js --host 127.0.0.1 --port 7000
 *     nc 127.0.0.1 7000      # in two or more terminals
 *
 * Built on `serveLines`; the broadcast is `conn.write`. A client that stops
 * reading is dropped, never buffered without bound: once its write buffer is
 * over the high-water mark (`conn.needsDrain`), what is broadcast to it is
 * counted, and past `--max-backlog` bytes it gets a notice and is closed (and
 * aborted if the close has not finished `DROP_GRACE_MS` later).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type LineConnection,
  type LineSession,
  serveLines,
  startServer,
  type StreamReader,
  type StreamWriter,
} from "asyncnet";

/** How long a dropped client's close may take to flush before the connection is aborted. */
const DROP_GRACE_MS = 5_000;

interface Member {
  readonly name: string;
  readonly conn: LineConnection;
  readonly writer: StreamWriter;
  /** Bytes written to it since its buffer went over the high-water mark. */
  backlog: number;
}

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "7000" },
    "max-backlog": { type: "string", default: String(256 * 1024) },
  },
});
const port = Number(values.port);
const maxBacklog = Number(values["max-backlog"]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`chat-server: invalid --port: ${values.port}`);
  process.exit(2);
}
if (!Number.isInteger(maxBacklog) || maxBacklog < 0) {
  console.error(`chat-server: invalid --max-backlog: ${values["max-backlog"]}`);
  process.exit(2);
}

const members = new Set<Member>();
const shutdown = new AbortController();

function nameOf(conn: LineConnection): string {
  const peer = conn.peer;
  if (peer === undefined) return "?";
  return typeof peer === "string" ? peer : `${peer.address}:${peer.port}`;
}

/** Sends `text` to every member but `from`, dropping those that do not keep up. */
function broadcast(text: string, from?: Member): void {
  const bytes = Buffer.from(text);
  for (const member of members) {
    if (member === from) continue;
    if (!member.conn.needsDrain) member.backlog = 0;
    else if ((member.backlog += bytes.length) > maxBacklog) {
      drop(member);
      continue;
    }
    member.conn.write(bytes);
  }
}

function drop(member: Member): void {
  members.delete(member);
  // The notice queues behind what is buffered: a client that reads again sees it last.
  member.conn.write("* you are not reading: disconnected\n");
  member.conn.close();
  const timer = setTimeout(() => member.writer.transport.abort(), DROP_GRACE_MS);
  void member.writer.waitClosed().then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  broadcast(`* ${member.name} dropped (not reading)\n`);
}

function session(conn: LineConnection, writer: StreamWriter): LineSession {
  const member: Member = { name: nameOf(conn), conn, writer, backlog: 0 };
  broadcast(`* ${member.name} joined\n`);
  members.add(member);
  return {
    welcome: `* welcome ${member.name}, ${members.size - 1} other(s) here\n`,
    onLine(line) {
      const text = line.toString("utf8").replace(/\r$/, "");
      if (text.length > 0) broadcast(`[${member.name}] ${text}\n`, member);
      return undefined;
    },
    onEnd() {
      if (members.delete(member)) broadcast(`* ${member.name} left\n`);
    },
  };
}

const options = { maxLine: 4096, signal: shutdown.signal };
const handler = (reader: StreamReader, writer: StreamWriter) =>
  serveLines((conn) => session(conn, writer), options)(reader, writer);

const server = await startServer(handler, values.host, port);
const address = server.address();
const shown = typeof address === "object" && address !== null ? address : undefined;
console.log(`listening on ${shown?.address ?? values.host}:${shown?.port ?? port}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    shutdown.abort();
    void server.shutdown({ grace: 1_000 }).then(() => process.exit(0));
  });
}
