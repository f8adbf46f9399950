/**
 * Raw `Bun.listen` servers, echo and calculator, the floor for any design on Bun:
 * Bun's own socket API, no `node:net` compatibility layer. Bun's `write` takes what
 * the kernel takes and says how much; the rest waits here until `drain`.
 *
 * Usage: bun dist/bench/peers/bun-raw.js echo|calc [--host 127.0.0.1] [--port 0]
 * Prints `listening on HOST PORT` once bound.
 */
import { CalcSession, WELCOME } from "./calc-session.js";
import { parsePeerArgs } from "./peer-args.js";

/** The part of Bun's socket API used here (Bun's types are not a dependency). */
interface BunSocket {
  data: Conn;
  write(data: Uint8Array): number;
  end(): void;
  setNoDelay?(noDelay: boolean): boolean;
}

interface BunListener {
  hostname: string;
  port: number;
}

declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, data: Uint8Array): void;
      drain(socket: BunSocket): void;
      end(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
    };
  }): BunListener;
};

class Conn {
  /** Bytes the kernel did not take yet, oldest first. */
  pending: Uint8Array[] = [];
  /** End once `pending` is written. */
  ending = false;
  session: CalcSession | null = null;
}

function send(socket: BunSocket, bytes: Uint8Array): void {
  const conn = socket.data;
  if (conn.pending.length > 0) {
    // Copied: Bun may reuse the buffer it handed to `data`.
    conn.pending.push(bytes.slice());
    return;
  }
  const n = socket.write(bytes);
  if (n < bytes.length) conn.pending.push(bytes.slice(Math.max(0, n)));
}

function finish(socket: BunSocket): void {
  const conn = socket.data;
  conn.ending = true;
  if (conn.pending.length === 0) socket.end();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode !== "echo" && mode !== "calc") throw new RangeError(`Unknown app: ${mode}`);
const { host, port } = parsePeerArgs(rest);
const calc = mode === "calc";

const listener = Bun.listen({
  hostname: host,
  port,
  allowHalfOpen: true,
  socket: {
    open(socket) {
      socket.data = new Conn();
      socket.setNoDelay?.(true);
      if (calc) {
        socket.data.session = new CalcSession();
        send(socket, WELCOME);
      }
    },
    data(socket, data) {
      const session = socket.data.session;
      if (session === null) return send(socket, data);
      const out = session.feed(data);
      if (out !== null) send(socket, out);
      if (session.closed) finish(socket);
    },
    drain(socket) {
      const conn = socket.data;
      while (conn.pending.length > 0) {
        const bytes = conn.pending[0] as Uint8Array;
        const n = socket.write(bytes);
        if (n < bytes.length) {
          conn.pending[0] = bytes.subarray(Math.max(0, n));
          return;
        }
        conn.pending.shift();
      }
      if (conn.ending) socket.end();
    },
    end(socket) {
      const session = socket.data.session;
      if (session !== null && !session.closed) {
        const out = session.end();
        if (out !== null) send(socket, out);
      }
      finish(socket);
    },
    error() {
      // The socket closes; nothing to keep.
    },
  },
});
process.stdout.write(`listening on ${listener.hostname} ${listener.port}\n`);
