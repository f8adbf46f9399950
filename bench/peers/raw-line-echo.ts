/**
 * Raw `node:net` line echo (seed 002): the floor for any Node line server. {@link LineEchoSession} does
 * the work; each chunk's replies go out in one write, and reading pauses while the
 * socket's write buffer is full.
 *
 * Usage: node dist/bench/peers/raw-line-echo.js [--host 127.0.0.1] [--port 0]
 */
import net from "node:net";
import { LineEchoSession } from "./line-echo-session.js";
import { parsePeerArgs } from "./peer-args.js";

const { host, port } = parsePeerArgs(process.argv.slice(2));

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
  const session = new LineEchoSession();
  socket.on("data", (chunk: Buffer) => {
    const out = session.feed(chunk);
    if (session.closed) {
      if (out === null) socket.end();
      else socket.end(out);
    } else if (out !== null && !socket.write(out)) {
      socket.pause();
    }
  });
  socket.on("drain", () => socket.resume());
  socket.on("end", () => {
    if (session.closed) return;
    const out = session.end();
    if (out === null) socket.end();
    else socket.end(out);
  });
  socket.on("error", () => socket.destroy());
});

server.listen({ host, port }, () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening on ${address.address} ${address.port}\n`);
});
