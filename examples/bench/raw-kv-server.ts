#!/usr/bin/env node
/**
 * The kv-server example written on `node:net` alone, as the yardstick for
 * `resp-bench`: the same store (kv-server/kv-store.ts) and the same answers
 * byte for byte, framed by hand, the way a tuned raw server is written. Each
 * `data` chunk is parsed with `indexOf` over the chunk, a half-arrived command
 * is kept as the tail for the next chunk, and the replies to one chunk go out
 * in one `write`.
 *
 *     node dist/examples/bench/raw-kv-server.js --host 127.0.0.1 --port 6381
 *
 * @module
 */

import net from "node:net";
import { parseArgs } from "node:util";
import { KvStore } from "../kv-server/kv-store.js";
import { RespChunkParser } from "./resp-chunk-parser.js";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "6381" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`raw-kv-server: invalid --port: ${values.port}`);
  process.exit(2);
}

const store = new KvStore();
const FLUSH_BYTES = 64 * 1024;

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  const parser = new RespChunkParser();
  const replies: Buffer[] = [];
  let gathered = 0;
  socket.on("data", (chunk: Buffer) => {
    const close = parser.feed(chunk, (args) => {
      const reply = store.execute(args);
      replies.push(reply.bytes);
      gathered += reply.bytes.length;
      // As kv-server: past 64 KiB gathered, write, so large values are not copied into one.
      if (gathered >= FLUSH_BYTES) {
        socket.write(Buffer.concat(replies, gathered));
        replies.length = 0;
        gathered = 0;
      }
      return reply.close === true;
    });
    if (parser.error !== null) {
      replies.push(Buffer.from(`-ERR Protocol error: ${parser.error}\r\n`, "latin1"));
    }
    const out = replies.length === 1 ? (replies[0] as Buffer) : Buffer.concat(replies);
    replies.length = 0;
    gathered = 0;
    if (close || parser.error !== null) {
      socket.removeAllListeners("data");
      socket.end(out);
      return;
    }
    if (out.length > 0 && !socket.write(out)) {
      // A client that pipelines without reading stalls only its own connection.
      socket.pause();
      socket.once("drain", () => socket.resume());
    }
  });
  // A reset or a peer gone mid-command ends only this connection.
  socket.on("error", () => socket.destroy());
}

const server = net.createServer(serve);
server.listen(port, values.host, () => {
  const address = server.address();
  const shown = typeof address === "object" && address !== null ? address : undefined;
  console.log(`listening on ${shown?.address ?? values.host}:${shown?.port ?? port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(0));
}
