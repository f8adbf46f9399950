import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HttpParseError } from "../../../src/errors.js";
import { bodyFraming } from "../../../src/framing/http-body.js";

function head(status: number, headers: [string, string][] = []) {
  return { status, headers };
}

describe("bodyFraming", () => {
  test("no body for HEAD, 1xx, 204 and 304, whatever the headers say", () => {
    const cl: [string, string][] = [["Content-Length", "5"]];
    assert.deepEqual(bodyFraming(head(200, cl), "HEAD"), { kind: "none" });
    for (const status of [100, 103, 204, 304]) {
      assert.deepEqual(bodyFraming(head(status, cl), "GET"), { kind: "none" }, String(status));
    }
  });

  test("Content-Length, repeated with the same value as fields or as a list", () => {
    assert.deepEqual(bodyFraming(head(200, [["Content-Length", "5"]]), "GET"), {
      kind: "length",
      length: 5,
    });
    assert.deepEqual(bodyFraming(head(200, [["content-length", "5, 5"]]), "GET"), {
      kind: "length",
      length: 5,
    });
    assert.deepEqual(
      bodyFraming(
        head(200, [
          ["Content-Length", "5"],
          ["CONTENT-LENGTH", "005"],
        ]),
        "GET",
      ),
      { kind: "length", length: 5 },
    );
    assert.deepEqual(bodyFraming(head(200, [["Content-Length", "0"]]), "GET"), {
      kind: "length",
      length: 0,
    });
  });

  test("differing Content-Length values are a framing error", () => {
    for (const headers of [
      [
        ["Content-Length", "5"],
        ["Content-Length", "11"],
      ],
      [["Content-Length", "5, 11"]],
    ] as [string, string][][]) {
      assert.throws(
        () => bodyFraming(head(200, headers), "GET"),
        (error: unknown) =>
          error instanceof HttpParseError &&
          error.code === "ERR_HTTP_PARSE" &&
          error.message ===
            "Cannot frame response body: conflicting Content-Length values 5 and 11" &&
          error.line === "5, 11",
      );
    }
  });

  test("a Content-Length that is not a number is a framing error", () => {
    for (const value of ["abc", "-1", "1e3", "0x10", "5 5", "99999999999999999", ","]) {
      assert.throws(
        () => bodyFraming(head(200, [["Content-Length", value]]), "GET"),
        /^HttpParseError: Cannot frame response body: (invalid|empty) Content-Length/,
        value,
      );
    }
  });

  test("Transfer-Encoding overrides Content-Length; chunked only when it is the final coding", () => {
    const both: [string, string][] = [
      ["Content-Length", "5"],
      ["Transfer-Encoding", "chunked"],
    ];
    assert.deepEqual(bodyFraming(head(200, both), "GET"), { kind: "chunked" });
    assert.deepEqual(bodyFraming(head(200, [["Transfer-Encoding", "gzip, Chunked"]]), "GET"), {
      kind: "chunked",
    });
    assert.deepEqual(
      bodyFraming(
        head(200, [
          ["Transfer-Encoding", "gzip"],
          ["Transfer-Encoding", "chunked"],
        ]),
        "GET",
      ),
      { kind: "chunked" },
    );
    assert.deepEqual(bodyFraming(head(200, [["Transfer-Encoding", "chunked, gzip"]]), "GET"), {
      kind: "close",
    });
    // Conflicting lengths do not matter once Transfer-Encoding decides.
    assert.deepEqual(bodyFraming(head(200, [...both, ["Content-Length", "11"]]), "GET"), {
      kind: "chunked",
    });
  });

  test("neither header: the body runs to the close", () => {
    assert.deepEqual(bodyFraming(head(200, [["X-Other", "1"]]), "GET"), { kind: "close" });
    assert.deepEqual(bodyFraming(head(404), "GET"), { kind: "close" });
  });
});
