import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TlsHandshakeError } from "../../../src/errors.js";
import { type StartTlsOptions, validateStartTlsOptions } from "../../../src/protocols/start-tls.js";
import { Transport } from "../../../src/protocols/transport.js";
import { duplexPair } from "../../helpers/duplex-pair.js";

describe("validateStartTlsOptions", () => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ["no object", null, TypeError, /^Invalid STARTTLS options: expected an object$/],
    ["no side", {}, TypeError, /side must be "server" or "client", got undefined$/],
    ["an unknown side", { side: "both" }, TypeError, /got both$/],
    [
      "an unknown policy",
      { side: "server", bufferedPlaintext: "drop" },
      TypeError,
      /bufferedPlaintext must be "feed" or "reject", got drop$/,
    ],
    [
      "a zero timeout",
      { side: "client", handshakeTimeout: 0 },
      RangeError,
      /handshakeTimeout must be a number in 1\.\.2147483647 ms, got 0$/,
    ],
    ["a NaN timeout", { side: "client", handshakeTimeout: Number.NaN }, RangeError, /got NaN$/],
    ["a string timeout", { side: "client", handshakeTimeout: "5" }, RangeError, /got 5$/],
    [
      "a signal that is not one",
      { side: "client", signal: {} },
      TypeError,
      /signal must be an AbortSignal$/,
    ],
    [
      "leftover that is not bytes",
      { side: "server", leftover: "RSET" },
      TypeError,
      /leftover must be a Uint8Array$/,
    ],
  ];
  for (const [what, options, type, message] of bad) {
    test(`rejects ${what}`, () => {
      assert.throws(
        () => validateStartTlsOptions(options as StartTlsOptions),
        (error: Error) => {
          assert.ok(error instanceof type, `${error.name}`);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test("accepts both sides with every option of its own", () => {
    validateStartTlsOptions({ side: "server", bufferedPlaintext: "reject", handshakeTimeout: 1 });
    validateStartTlsOptions({
      side: "client",
      bufferedPlaintext: "feed",
      signal: new AbortController().signal,
      leftover: Buffer.from("x"),
    });
  });
});

describe("TlsHandshakeError", () => {
  test("has its name, code and cause", () => {
    const cause = new Error("wrong version number");
    const error = new TlsHandshakeError("Cannot complete TLS handshake: wrong version number", {
      cause,
    });
    assert.equal(error.name, "TlsHandshakeError");
    assert.equal(error.code, "ERR_TLS_HANDSHAKE");
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
  });
});

describe("Transport.startTls", () => {
  test("refuses a stream that is not a socket and leaves the connection as it was", async () => {
    const [a] = duplexPair();
    let lost = false;
    const transport = new Transport(a, {
      connectionMade() {},
      dataReceived() {},
      connectionLost() {
        lost = true;
      },
    });
    await assert.rejects(transport.startTls({ side: "server" }), {
      name: "InvalidStateError",
      message: "Cannot start TLS: the stream is not a socket",
    });
    assert.equal(transport.isClosing(), false);
    assert.equal(transport.isReading(), true);
    assert.equal(lost, false);
    transport.abort();
  });
});
