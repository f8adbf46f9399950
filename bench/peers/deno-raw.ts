/**
 * Raw `Deno.listen` servers, echo and calculator, the floor for any design on Deno:
 * Deno's own socket API, no `node:net` compatibility layer. Deno's API is
 * promise-based (`await conn.read(buffer)`), so each connection is one async loop
 * with a 64 KiB read buffer of its own, as that API needs; the idle rows count it.
 *
 * Usage: deno run -A dist/bench/peers/deno-raw.js echo|calc [--host 127.0.0.1] [--port 0]
 * Prints `listening on HOST PORT` once bound.
 */
import { CalcSession, WELCOME } from "./calc-session.js";
import { parsePeerArgs } from "./peer-args.js";

/** The part of Deno's API used here (Deno's types are not a dependency). */
interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(noDelay?: boolean): void;
}

interface DenoListener extends AsyncIterable<DenoConn> {
  addr: { hostname: string; port: number };
}

declare const Deno: {
  listen(options: { hostname: string; port: number; transport: "tcp" }): DenoListener;
};

async function writeAll(conn: DenoConn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

async function serve(conn: DenoConn, calc: boolean): Promise<void> {
  conn.setNoDelay(true);
  const session = calc ? new CalcSession() : null;
  if (session !== null) await writeAll(conn, WELCOME);
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) {
      const out = session?.end() ?? null;
      if (out !== null) await writeAll(conn, out);
      break;
    }
    if (session === null) {
      await writeAll(conn, buffer.subarray(0, n));
      continue;
    }
    const out = session.feed(buffer.subarray(0, n));
    if (out !== null) await writeAll(conn, out);
    if (session.closed) break;
  }
  await conn.closeWrite();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode !== "echo" && mode !== "calc") throw new RangeError(`Unknown app: ${mode}`);
const { host, port } = parsePeerArgs(rest);
const listener = Deno.listen({ hostname: host, port, transport: "tcp" });
process.stdout.write(`listening on ${listener.addr.hostname} ${listener.addr.port}\n`);
for await (const conn of listener) {
  serve(conn, mode === "calc")
    .catch(() => undefined)
    .finally(() => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    });
}
