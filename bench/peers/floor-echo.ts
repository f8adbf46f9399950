/**
 * Promise-per-message echo on `node:net`: the floor of any coroutine design.
 *
 * The smallest thing a user would write to get `await read()` on a raw socket: one
 * async loop per connection awaiting a promise that the `data` event resolves, chunks
 * that arrive while nothing waits queued, each written back, and backpressure as a
 * naive user honours it (`if (!socket.write(chunk)) await once(socket, 'drain')`).
 * No validation, no timers, no abort signals, no error classes: whatever a streams
 * design adds on top of this costs its ratio to this peer; what this peer loses to
 * raw `node:net` is the price of one promise and one microtask per message.
 *
 * Usage: node dist/bench/peers/floor-echo.js [--host 127.0.0.1] [--port 0]
 * Prints `listening on HOST PORT` once bound.
 */
import { once } from "node:events";
import net from "node:net";
import { parsePeerArgs } from "./peer-args.js";

/** `null` is the end of the stream. */
type Chunk = Buffer | null;

async function echo(socket: net.Socket): Promise<void> {
  const queue: Chunk[] = [];
  let wake: ((chunk: Chunk) => void) | null = null;
  const push = (chunk: Chunk) => {
    if (wake === null) {
      queue.push(chunk);
    } else {
      const resolve = wake;
      wake = null;
      resolve(chunk);
    }
  };
  socket.on("data", (chunk: Buffer) => push(chunk));
  socket.on("end", () => push(null));
  // A reset ends the loop as EOF would; the socket is destroyed either way.
  socket.on("error", () => push(null));
  const read = (): Promise<Chunk> | Chunk =>
    queue.length > 0
      ? (queue.shift() as Chunk)
      : new Promise<Chunk>((resolve) => {
          wake = resolve;
        });
  for (;;) {
    const chunk = await read();
    if (chunk === null || socket.destroyed) break;
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  socket.end();
}

const { host, port } = parsePeerArgs(process.argv.slice(2));

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
  echo(socket).catch(() => socket.destroy());
});

server.listen({ host, port }, () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening on ${address.address} ${address.port}\n`);
});
