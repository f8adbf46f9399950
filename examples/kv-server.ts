#!/usr/bin/env node
/**
 * A key-value server that speaks enough of RESP (Redis's protocol) for
 * `redis-cli` and `redis-benchmark -t set,get`: `PING`, `GET`, `SET`, `DEL`,
 * `INCR`, `COMMAND`, `QUIT`, as RESP arrays or inline commands.
 *
 *     node dist/examples/kv-server.js --host 127.0.0.1 --port 6380
 *     redis-cli -p 6380 SET greeting hello
 *     redis-cli -p 6380 GET greeting
 *
 * The framing (kv-server/resp-reader.ts) uses the reader's synchronous
 * `readTokensNow` / `readUntilNow` / `readExactlyNow`, so a pipelined burst is
 * parsed and answered without a promise per command (kv-server/serve-resp.ts).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServer } from "asyncnet";
import { KvStore } from "./kv-server/kv-store.js";
import { serveResp } from "./kv-server/serve-resp.js";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "6380" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`kv-server: invalid --port: ${values.port}`);
  process.exit(2);
}

const server = await startServer(serveResp(new KvStore()), values.host, port, { noDelay: true });
const address = server.address();
const shown = typeof address === "object" && address !== null ? address : undefined;
console.log(`listening on ${shown?.address ?? values.host}:${shown?.port ?? port}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.shutdown({ grace: 1_000 }).then(() => process.exit(0));
  });
}
