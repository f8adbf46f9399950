/**
 * The `node:net` side of the hand-tuned raw peers: each connection gets its own
 * session (bytes in, reply bytes out, no socket), whose replies to a chunk go out
 * in one write; reading pauses while the socket's write buffer is full, and the
 * session's last bytes go out with the FIN once it closes or the input ends.
 */
import net from "node:net";
import { parsePeerArgs } from "./peer-args.js";

/** What a raw peer's per-connection session does (`CalcSession`, `LineEchoSession`). */
export interface RawSession {
  /** Whether the session ended (`quit`, or the input ended): the socket is to be ended. */
  readonly closed: boolean;
  /** The replies to the lines `chunk` completed, or null for none. */
  feed(chunk: Buffer): Buffer | null;
  /** The input ended: the last replies, or null. */
  end(): Buffer | null;
}

/**
 * Serves `makeSession()` per connection on `--host`/`--port` from the command
 * line, sending `welcome` first when given, and prints `listening on HOST PORT`.
 */
export function serveSessions(makeSession: () => RawSession, welcome?: Uint8Array): void {
  const { host, port } = parsePeerArgs(process.argv.slice(2));
  const finish = (socket: net.Socket, out: Buffer | null) => {
    if (out === null) socket.end();
    else socket.end(out);
  };
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const session = makeSession();
    if (welcome !== undefined) socket.write(welcome);
    socket.on("data", (chunk: Buffer) => {
      const out = session.feed(chunk);
      if (session.closed) finish(socket, out);
      else if (out !== null && !socket.write(out)) socket.pause();
    });
    socket.on("drain", () => socket.resume());
    socket.on("end", () => {
      if (!session.closed) finish(socket, session.end());
    });
    socket.on("error", () => socket.destroy());
  });
  server.listen({ host, port }, () => {
    const address = server.address() as net.AddressInfo;
    process.stdout.write(`listening on ${address.address} ${address.port}\n`);
  });
}
