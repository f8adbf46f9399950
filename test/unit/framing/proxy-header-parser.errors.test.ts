import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidStateError, ProxyHeaderError } from "../../../src/errors.js";
import { crc32c } from "../../../src/framing/proxy-header-crc32c.js";
import { ProxyHeaderParser } from "../../../src/framing/proxy-header-parser.js";
import { errorOf, hex, latin1, SIG, v2 } from "../../helpers/proxy-header-bytes.js";

const P = "Cannot parse PROXY header: ";
const ADDR4 = "7f000001 7f000002 0050 01bb";

/** [what, bytes, message]; each input is also checked to fail the same way when fed byte by byte. */
const ERRORS: [string, Buffer, string][] = [
  [
    "an HTTP request",
    latin1("GET / HTTP/1.1\r\n"),
    `${P}first byte 0x47 starts neither "PROXY " (v1) nor the v2 signature`,
  ],
  [
    "a TLS ClientHello",
    hex("160301"),
    `${P}first byte 0x16 starts neither "PROXY " (v1) nor the v2 signature`,
  ],
  [
    "lower-case proxy",
    latin1("proxy TCP4"),
    `${P}first byte 0x70 starts neither "PROXY " (v1) nor the v2 signature`,
  ],
  ["PROXY without its space", latin1("PROXY\r\n"), `${P}byte 5 is 0x0d, not the v1 "PROXY "`],
  [
    "a CRLF CRLF that is not the signature",
    latin1("\r\n\r\nGET"),
    `${P}byte 4 is 0x47, not the v2 signature`,
  ],
  [
    "an unknown v1 protocol",
    latin1("PROXY UDP4 1.2.3.4"),
    `${P}v1 protocol "UD" is not TCP4, TCP6 or UNKNOWN`,
  ],
  ["TCP5", latin1("PROXY TCP5 "), `${P}v1 protocol "TCP5" is not TCP4, TCP6 or UNKNOWN`],
  [
    "UNKNOWNX",
    latin1("PROXY UNKNOWNX\r\n"),
    `${P}v1 protocol "UNKNOWNX" is not TCP4, TCP6 or UNKNOWN`,
  ],
  ["a bare LF", latin1("PROXY UNKNOWN\n"), `${P}v1 line has an LF without CR at byte 13`],
  [
    "a CR without LF",
    latin1("PROXY UNKNOWN\rx\r\n"),
    `${P}v1 line has a CR not followed by LF at byte 13`,
  ],
  [
    "a line of 107 bytes without CRLF",
    latin1(`PROXY UNKNOWN ${"x".repeat(93)}`),
    `${P}v1 line has no CRLF within 107 bytes`,
  ],
  [
    "a 108-byte line",
    latin1(`PROXY UNKNOWN ${"x".repeat(92)}\r\n`),
    `${P}v1 line has no CRLF within 107 bytes`,
  ],
  [
    "a missing port",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
    `${P}v1 line 'PROXY TCP4 1.2.3.4 5.6.7.8 1' is not "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>" or "PROXY UNKNOWN"`,
  ],
  [
    "two spaces",
    latin1("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
    `${P}v1 line 'PROXY TCP4 1.2.3.4  5.6.7.8 1 2' is not "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>" or "PROXY UNKNOWN"`,
  ],
  [
    "a trailing space",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
    `${P}v1 line 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ' is not "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>" or "PROXY UNKNOWN"`,
  ],
  [
    "a leading zero in an IPv4 part",
    latin1("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),
    `${P}v1 source address '01.2.3.4' is not a valid TCP4 address`,
  ],
  [
    "an IPv4 part over 255",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n"),
    `${P}v1 destination address '5.6.7.256' is not a valid TCP4 address`,
  ],
  [
    "IPv6 in TCP4",
    latin1("PROXY TCP4 ::1 ::1 1 2\r\n"),
    `${P}v1 source address '::1' is not a valid TCP4 address`,
  ],
  [
    "IPv4 in TCP6",
    latin1("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"),
    `${P}v1 source address '1.2.3.4' is not a valid TCP6 address`,
  ],
  [
    "an IPv6 zone",
    latin1("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"),
    `${P}v1 source address 'fe80::1%eth0' is not a valid TCP6 address`,
  ],
  [
    "a bad IPv6",
    latin1("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
    `${P}v1 source address '1::2::3' is not a valid TCP6 address`,
  ],
  [
    "a port over 65535",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
    `${P}v1 source port '65536' is not a decimal 0..65535 without leading zeros`,
  ],
  [
    "a port with a leading zero",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n"),
    `${P}v1 destination port '080' is not a decimal 0..65535 without leading zeros`,
  ],
  [
    "a signed port",
    latin1("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
    `${P}v1 source port '+1' is not a decimal 0..65535 without leading zeros`,
  ],
  ["v2 version 1", hex(`${SIG}11`), `${P}v2 version is 1, not 2`],
  ["v2 version 3", hex(`${SIG}31`), `${P}v2 version is 3, not 2`],
  ["v2 command 2", hex(`${SIG}22`), `${P}v2 command is 2, neither LOCAL (0) nor PROXY (1)`],
  ["v2 family 4", hex(`${SIG}2141`), `${P}v2 address family is 4, not 0..3`],
  ["v2 transport 3", hex(`${SIG}2113`), `${P}v2 transport is 3, not 0..2`],
  [
    "v2 over the cap",
    hex(`${SIG}2111 0ff1`),
    `${P}v2 header of 4097 bytes exceeds the limit of 4096`,
  ],
  [
    "v2 IPv4 block too short",
    v2("21", "11", "7f000001 7f000002 0050"),
    `${P}v2 length 10 is shorter than the 12-byte inet address block`,
  ],
  [
    "v2 IPv6 block too short",
    v2("21", "21", ADDR4),
    `${P}v2 length 12 is shorter than the 36-byte inet6 address block`,
  ],
  [
    "v2 UNIX block too short",
    v2("21", "31", "00".repeat(215)),
    `${P}v2 length 215 is shorter than the 216-byte unix address block`,
  ],
  [
    "a UNIX path not UTF-8",
    v2("21", "31", `ff${"00".repeat(215)}`),
    `${P}v2 AF_UNIX source path is not valid UTF-8`,
  ],
  [
    "a TLV past the end",
    v2("21", "11", `${ADDR4} 01 0003 6832`),
    `${P}TLV 0x01 at offset 28 declares 3 bytes, only 2 left`,
  ],
  [
    "a truncated TLV head",
    v2("21", "11", `${ADDR4} 01 00`),
    `${P}TLV at offset 28 is truncated: 2 of its 3 type and length bytes`,
  ],
  [
    "a CRC32C of 3 bytes",
    v2("21", "11", `${ADDR4} 03 0003 000000`),
    `${P}CRC32C TLV has 3 bytes instead of 4`,
  ],
  [
    "a wrong CRC32C",
    v2("20", "00", "03 0004 00000000"),
    `${P}CRC32C mismatch: header says 0x00000000, bytes give 0x${crc32c(
      v2("20", "00", "03 0004 00000000"),
    )
      .toString(16)
      .padStart(8, "0")}`,
  ],
  [
    "two CRC32C TLVs",
    v2("20", "00", "03 0004 00000000 03 0004 00000000"),
    `${P}TLV 0x03 appears twice`,
  ],
  ["two AUTHORITY TLVs", v2("20", "00", "02 0001 61 02 0001 62"), `${P}TLV 0x02 appears twice`],
  [
    "a UNIQUE_ID of 129 bytes",
    v2("20", "00", `05 0081 ${"00".repeat(129)}`),
    `${P}UNIQUE_ID TLV has 129 bytes, more than 128`,
  ],
  ["an AUTHORITY not UTF-8", v2("20", "00", "02 0001 ff"), `${P}AUTHORITY TLV is not valid UTF-8`],
  ["a NETNS not UTF-8", v2("20", "00", "30 0002 c328"), `${P}NETNS TLV is not valid UTF-8`],
  [
    "an SSL TLV under 5 bytes",
    v2("20", "00", "20 0004 01000000"),
    `${P}SSL TLV has 4 bytes, fewer than its 5 client and verify bytes`,
  ],
  [
    "an SSL sub-TLV past the end",
    v2("20", "00", "20 0008 01 00000000 21 0001"),
    `${P}SSL sub-TLV 0x21 at offset 24 declares 1 bytes, only 0 left`,
  ],
  [
    "two SSL versions",
    v2("20", "00", "20 000b 01 00000000 21 0000 21 0000"),
    `${P}SSL sub-TLV 0x21 appears twice`,
  ],
  [
    "an SSL CN not UTF-8",
    v2("20", "00", "20 0009 01 00000000 22 0001 80"),
    `${P}SSL sub-TLV 0x22 is not valid UTF-8`,
  ],
];

describe("errors", () => {
  for (const [what, bytes, message] of ERRORS) {
    test(`${what} is a ProxyHeaderError`, () => {
      for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
        const error = errorOf(chunks);
        assert.ok(error instanceof ProxyHeaderError);
        assert.ok(error instanceof SyntaxError);
        assert.equal(error.name, "ProxyHeaderError");
        assert.equal(error.code, "ERR_PROXY_HEADER");
        assert.equal(error.message, message);
      }
    });
  }

  test("a wrong first byte fails at once, without waiting for more", () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.push(latin1("G")).status, "error");
    assert.equal(parser.state, "failed");
  });

  test("the signature is checked byte by byte as it arrives", () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.push(hex("0d0a0d0a00")).status, "incomplete");
    assert.equal(parser.state, "signature");
    assert.equal(parser.push(hex("0d0a")).status, "incomplete");
    assert.equal(parser.push(hex("52")).status, "error");
  });

  test("a v2 length over the cap fails on byte 16, before the body", () => {
    const parser = new ProxyHeaderParser({ maxHeaderBytes: 100 });
    assert.equal(parser.push(hex(`${SIG}2111 00`)).status, "incomplete");
    const r = parser.push(hex("55"));
    assert.equal(r.status, "error");
    assert.equal(r.error.message, `${P}v2 header of 101 bytes exceeds the limit of 100`);
    assert.equal(parser.bytesReceived, 16);
  });

  test("after an error every push and end return the same error", () => {
    const parser = new ProxyHeaderParser();
    const first = parser.push(latin1("X"));
    assert.equal(parser.push(latin1("PROXY UNKNOWN\r\n")), first);
    assert.equal(parser.end(), first);
  });

  test("end before the header is complete is an error that says how far it got", () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.push(latin1("PROXY TCP4 1.2")).status, "incomplete");
    assert.equal(parser.state, "v1-line");
    const r = parser.end();
    assert.equal(r.status, "error");
    assert.equal(
      r.error.message,
      `${P}connection ended after 14 bytes, before the header was complete`,
    );
    const empty = new ProxyHeaderParser().end();
    assert.equal(
      empty.status === "error" && empty.error.message,
      `${P}connection ended after 0 bytes, before the header was complete`,
    );
  });

  test("push after the header is complete throws InvalidStateError; end returns the header", () => {
    const parser = new ProxyHeaderParser();
    const done = parser.push(latin1("PROXY UNKNOWN\r\nrest"));
    assert.equal(done.status, "complete");
    assert.equal(parser.state, "complete");
    assert.equal(parser.end(), done);
    assert.throws(() => parser.push(latin1("more")), {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot push: the PROXY header is already complete",
    });
    assert.ok(InvalidStateError);
  });

  test("maxHeaderBytes is validated", () => {
    assert.throws(() => new ProxyHeaderParser({ maxHeaderBytes: "1" as unknown as number }), {
      name: "TypeError",
      message: "Invalid maxHeaderBytes: expected a number, got string",
    });
    for (const bad of [15, 65552, 100.5, Number.NaN]) {
      assert.throws(() => new ProxyHeaderParser({ maxHeaderBytes: bad }), {
        name: "RangeError",
        message: `Invalid maxHeaderBytes: expected an integer from 16 to 65551, got ${bad}`,
      });
    }
    assert.equal(
      new ProxyHeaderParser({ maxHeaderBytes: 16 }).push(v2("20", "00", "")).status,
      "complete",
    );
  });
});
