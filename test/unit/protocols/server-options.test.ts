import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectionResetError, IncompleteReadError, TimeoutError } from "../../../src/errors.js";
import type { ConnectionInfo } from "../../../src/protocols/connection-info.js";
import { defaultOnError } from "../../../src/protocols/server-options.js";
import type { Transport } from "../../../src/protocols/transport.js";

/** What `defaultOnError(error, transport)` writes on stderr. */
function report(error: Error, info?: ConnectionInfo): string {
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    defaultOnError(error, info === undefined ? undefined : ({ info } as unknown as Transport));
  } finally {
    process.stderr.write = original;
  }
  return written.join("");
}

const v6: ConnectionInfo = {
  peername: { address: "::1", port: 6000, family: "IPv6" },
  sockname: undefined,
};

describe("defaultOnError", () => {
  test("a lost peer is one line naming it: IPv6 in brackets, a Unix path, or no peer", () => {
    const reset = new ConnectionResetError("Connection reset by peer: ECONNRESET");
    assert.equal(
      report(reset, v6),
      "asyncnet: connection from [::1]:6000 lost: Connection reset by peer: ECONNRESET\n",
    );
    assert.equal(
      report(new IncompleteReadError(Buffer.alloc(1), 2, { peer: "/run/app.sock" })),
      "asyncnet: connection from /run/app.sock lost: Cannot complete read: EOF after 1 bytes, expected 2 bytes\n",
    );
    // The server's end of a Unix socket names no peer.
    assert.equal(
      report(reset, { peername: "", sockname: "/run/app.sock" }),
      "asyncnet: connection lost: Connection reset by peer: ECONNRESET\n",
    );
  });

  test("the error's own peer wins over the transport's", () => {
    const peer = { address: "10.1.2.3", port: 7, family: "IPv4" };
    const idle = new TimeoutError("Connection closed: idle timeout", {
      closedConnection: true,
      peer,
    });
    assert.equal(
      report(idle, v6),
      "asyncnet: connection from 10.1.2.3:7 lost: Connection closed: idle timeout\n",
    );
  });

  test("anything else, a timeout that closed nothing included, keeps its stack", () => {
    const connect = new TimeoutError("Cannot connect: timed out after 5 ms");
    assert.match(
      report(connect, v6),
      /^asyncnet: error in connection \(peer ::1 port 6000\): TimeoutError: Cannot connect: timed out after 5 ms\n\s+at /,
    );
    assert.match(
      report(new RangeError("bad")),
      /^asyncnet: error in connection: RangeError: bad\n\s+at /,
    );
  });
});
