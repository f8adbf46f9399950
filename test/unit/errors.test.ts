import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as errors from "../../src/errors.js";
import {
  AbortError,
  abortReason,
  ConcurrentReadError,
  ConnectionClosedError,
  ConnectionResetError,
  HttpBodyTruncatedError,
  HttpParseError,
  HttpRedirectError,
  HttpStatusError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  normalizeSocketError,
  ProxyHeaderError,
  ProxyRefusedError,
  TimeoutError,
  TlsHandshakeError,
} from "../../src/errors.js";

type ErrorClass = new (...args: never[]) => Error;

interface Row {
  /** The class, and a constructor call that passes `{ cause }` as the last argument. */
  type: ErrorClass;
  make: (options: { cause: unknown }) => Error;
  name: string;
  code: string;
  message: string;
  /** The built-in it extends. */
  base: ErrorConstructor | RangeErrorConstructor | SyntaxErrorConstructor;
  /** Its data fields. */
  fields?: Record<string, unknown>;
}

const partial = Buffer.from("abc");
const rows: Row[] = [
  {
    type: IncompleteReadError,
    make: (o) => new IncompleteReadError(partial, 5, o),
    name: "IncompleteReadError",
    code: "ERR_INCOMPLETE_READ",
    message: "Cannot complete read: EOF after 3 bytes, expected 5 bytes",
    base: Error,
    fields: { partial, expected: 5 },
  },
  {
    type: LimitOverrunError,
    make: (o) => new LimitOverrunError("Cannot read line: exceeded limit of 4 bytes", 7, o),
    name: "LimitOverrunError",
    code: "ERR_LIMIT_OVERRUN",
    message: "Cannot read line: exceeded limit of 4 bytes",
    base: RangeError,
    fields: { consumed: 7 },
  },
  {
    type: ConnectionClosedError,
    make: (o) => new ConnectionClosedError(undefined, o),
    name: "ConnectionClosedError",
    code: "ERR_CONNECTION_CLOSED",
    message: "Connection lost",
    base: Error,
  },
  {
    type: ConnectionResetError,
    make: (o) => new ConnectionResetError(undefined, o),
    name: "ConnectionResetError",
    code: "ERR_CONNECTION_RESET",
    message: "Connection reset by peer",
    base: Error,
  },
  {
    type: ConcurrentReadError,
    make: (o) => new ConcurrentReadError("readLine", o),
    name: "ConcurrentReadError",
    code: "ERR_CONCURRENT_READ",
    message: "Cannot readLine: another read is already waiting for data",
    base: Error,
  },
  {
    type: InvalidStateError,
    make: (o) => new InvalidStateError("Cannot feed data: EOF was already fed", o),
    name: "InvalidStateError",
    code: "ERR_INVALID_STATE",
    message: "Cannot feed data: EOF was already fed",
    base: Error,
  },
  {
    type: TimeoutError,
    make: (o) => new TimeoutError("Cannot connect: timed out after 5 s", o),
    name: "TimeoutError",
    code: "ERR_TIMEOUT",
    message: "Cannot connect: timed out after 5 s",
    base: Error,
  },
  {
    type: AbortError,
    make: (o) => new AbortError(undefined, o),
    name: "AbortError",
    code: "ABORT_ERR",
    message: "The operation was aborted",
    base: Error,
  },
  {
    type: HttpStatusError,
    make: (o) => new HttpStatusError(404, "Not Found", o),
    name: "HttpStatusError",
    code: "ERR_HTTP_STATUS",
    message: "Server answered 404 Not Found",
    base: Error,
    fields: { status: 404, reason: "Not Found" },
  },
  {
    type: HttpRedirectError,
    make: (o) => new HttpRedirectError("Cannot follow redirect: no Location", o),
    name: "HttpRedirectError",
    code: "ERR_HTTP_REDIRECT",
    message: "Cannot follow redirect: no Location",
    base: Error,
  },
  {
    type: HttpBodyTruncatedError,
    make: (o) => new HttpBodyTruncatedError(10, 20, o),
    name: "HttpBodyTruncatedError",
    code: "ERR_HTTP_BODY_TRUNCATED",
    message: "Connection closed at byte 10 of 20",
    base: Error,
    fields: { received: 10, expected: 20 },
  },
  {
    type: HttpParseError,
    make: (o) => new HttpParseError("Cannot parse status line: no status code", "HTTP/1.1", o),
    name: "HttpParseError",
    code: "ERR_HTTP_PARSE",
    message: "Cannot parse status line: no status code",
    base: SyntaxError,
    fields: { line: "HTTP/1.1" },
  },
  {
    type: ProxyHeaderError,
    make: (o) => new ProxyHeaderError("Cannot parse PROXY header: bad signature", o),
    name: "ProxyHeaderError",
    code: "ERR_PROXY_HEADER",
    message: "Cannot parse PROXY header: bad signature",
    base: SyntaxError,
  },
  {
    type: ProxyRefusedError,
    make: (o) =>
      new ProxyRefusedError("Cannot serve connection: not a trusted proxy", "untrusted", o),
    name: "ProxyRefusedError",
    code: "ERR_PROXY_REFUSED",
    message: "Cannot serve connection: not a trusted proxy",
    base: Error,
    fields: { reason: "untrusted" },
  },
  {
    type: TlsHandshakeError,
    make: (o) => new TlsHandshakeError("Cannot start TLS: handshake failed", o),
    name: "TlsHandshakeError",
    code: "ERR_TLS_HANDSHAKE",
    message: "Cannot start TLS: handshake failed",
    base: Error,
  },
];

describe("errors", () => {
  for (const row of rows) {
    test(`${row.name} has its name, code, message, cause, fields and base class`, () => {
      const cause = new Error("underlying");
      const error = row.make({ cause });
      assert.ok(error instanceof row.type);
      assert.ok(error instanceof row.base);
      assert.equal(error.name, row.name);
      assert.equal((error as Error & { code: string }).code, row.code);
      assert.equal(error.message, row.message);
      assert.equal(error.cause, cause);
      for (const [field, value] of Object.entries(row.fields ?? {})) {
        assert.deepEqual((error as unknown as Record<string, unknown>)[field], value, field);
      }
      assert.match(String(error.stack), new RegExp(`^${row.name}: `));
    });
  }

  test("the table covers every error class src/errors.ts exports", () => {
    const exported = Object.entries(errors)
      .filter(([, value]) => typeof value === "function" && value.prototype instanceof Error)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(exported, rows.map((row) => row.name).sort());
  });

  test("every code is distinct", () => {
    assert.equal(new Set(rows.map((row) => row.code)).size, rows.length);
  });

  test("abortReason returns an Error reason as it is and wraps any other in an AbortError", () => {
    const stop = new Error("stop");
    assert.equal(abortReason(AbortSignal.abort(stop)), stop);
    const wrapped = abortReason(AbortSignal.abort("shutting down"));
    assert.ok(wrapped instanceof AbortError);
    assert.equal(wrapped.cause, "shutting down");
  });

  for (const code of ["ECONNRESET", "EPIPE", "ECONNABORTED"]) {
    test(`normalizeSocketError wraps ${code} in a ConnectionResetError with it as cause`, () => {
      const system = Object.assign(new Error(`read ${code}`), { code });
      const error = normalizeSocketError(system);
      assert.ok(error instanceof ConnectionResetError);
      assert.equal(error.message, `Connection reset by peer: ${code}`);
      assert.equal(error.cause, system);
    });
  }

  test("normalizeSocketError returns other errors as they are", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(normalizeSocketError(refused), refused);
  });
});
