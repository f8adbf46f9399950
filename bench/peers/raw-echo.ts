/**
 * Raw `node:net` echo server: the floor for any Node design. Each chunk is written
 * back as the same Buffer, with no per-line work and no promises; reading pauses
 * while the socket's write buffer is full, so a fast sender cannot grow it without bound.
 *
 * Usage: node dist/bench/peers/raw-echo.js [--host 127.0.0.1] [--port 0]
 * Prints `listening on HOST PORT` once bound.
 */
import net from "node:net";
import { parsePeerArgs } from "./peer-args.js";

const { host, port } = parsePeerArgs(process.argv.slice(2));

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
  socket.on("data", (chunk: Buffer) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
  // The client's EOF is answered with ours once everything it sent was echoed.
  socket.on("end", () => socket.end());
  socket.on("error", () => socket.destroy());
});

server.listen({ host, port }, () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening on ${address.address} ${address.port}\n`);
});
