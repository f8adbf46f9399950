import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { InvalidStateError, ProxyHeaderError } from "../../../src/errors.js";
import type { ProxyHeader } from "../../../src/framing/proxy-header.js";
import { crc32c } from "../../../src/framing/proxy-header-crc32c.js";
import {
  DEFAULT_PROXY_HEADER_MAX_BYTES,
  ProxyHeaderParser,
  type ProxyHeaderParserOptions,
  type ProxyHeaderResult,
} from "../../../src/framing/proxy-header-parser.js";

const SIG = "0d0a0d0a000d0a515549540a";
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

/** A v2 header from its parts in hex: the length field is filled in. */
function v2(verCmd: string, famProto: string, body: string): Buffer {
  const b = hex(body);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([hex(SIG + verCmd + famProto), len, b]);
}

/** Writes the CRC32C into the 4 bytes at `at` (zero there already), as a sender does. */
function withCrc(header: Buffer, at: number): Buffer {
  const out = Buffer.from(header);
  out.writeUInt32BE(crc32c(out), at);
  return out;
}

interface Fed {
  result: ProxyHeaderResult;
  /** Every byte after the header: `rest` of the completing push plus the chunks not pushed. */
  after: Buffer;
  /** Bytes consumed over all pushes. */
  consumed: number;
}

/** Pushes chunks until a result other than incomplete; then `end()` if all were pushed. */
function feed(chunks: Buffer[], options?: ProxyHeaderParserOptions): Fed {
  const parser = new ProxyHeaderParser(options);
  let consumed = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Buffer;
    const result = parser.push(chunk);
    if (result.status === "incomplete") {
      consumed += chunk.length;
      continue;
    }
    if (result.status === "error") return { result, after: Buffer.alloc(0), consumed };
    const after = Buffer.concat([result.rest, ...chunks.slice(i + 1)]);
    return { result, after, consumed: consumed + result.consumed };
  }
  return { result: parser.end(), after: Buffer.alloc(0), consumed };
}

function header(bytes: Buffer, options?: ProxyHeaderParserOptions): ProxyHeader {
  const { result } = feed([bytes], options);
  if (result.status !== "complete") {
    assert.fail(
      `expected a header, got ${result.status === "error" ? result.error.message : "incomplete"}`,
    );
  }
  return result.header;
}

function errorOf(chunks: Buffer[], options?: ProxyHeaderParserOptions): ProxyHeaderError {
  const { result } = feed(chunks, options);
  assert.equal(result.status, "error", "expected an error");
  return (result as { error: ProxyHeaderError }).error;
}

const inet = (address: string, port: number) => ({ address, port });

describe("v1", () => {
  test("the spec's TCP4 example parses and the HTTP request after it is left intact", () => {
    const wire = latin1(
      "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n",
    );
    const { result, after, consumed } = feed([wire]);
    assert.equal(result.status, "complete");
    assert.deepEqual(result.header, {
      version: 1,
      command: "proxy",
      family: "inet",
      transport: "stream",
      source: inet("192.168.0.1", 56324),
      destination: inet("192.168.0.11", 443),
      tlvs: { raw: [] },
      headerLength: 47,
    });
    assert.equal(consumed, 47);
    assert.equal(after.toString("latin1"), "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n");
  });

  test("the spec's longest lines parse: 56-byte TCP4, 104-byte TCP6, 107-byte UNKNOWN", () => {
    const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const tcp4 = latin1("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
    const tcp6 = latin1(`PROXY TCP6 ${f} ${f} 65535 65535\r\n`);
    const unknown = latin1(`PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`);
    assert.deepEqual([tcp4.length, tcp6.length, unknown.length], [56, 104, 107]);
    assert.deepEqual(header(tcp4).source, inet("255.255.255.255", 65535));
    const h6 = header(tcp6);
    assert.equal(h6.family, "inet6");
    assert.deepEqual(h6.destination, inet(f, 65535));
    assert.equal(header(unknown).headerLength, 107);
  });

  test("TCP6 takes compressed, upper-case and IPv4-mapped addresses and ports 0", () => {
    const h = header(latin1("PROXY TCP6 2001:DB8::1 ::ffff:10.0.0.1 0 65535\r\n"));
    assert.deepEqual(h.source, inet("2001:DB8::1", 0));
    assert.deepEqual(h.destination, inet("::ffff:10.0.0.1", 65535));
  });

  test("UNKNOWN gives no addresses and ignores the rest of its line", () => {
    for (const line of ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN anything \x01 at all\r\n"]) {
      assert.deepEqual(header(latin1(line)), {
        version: 1,
        command: "proxy",
        family: "unspec",
        tlvs: { raw: [] },
        headerLength: line.length,
      });
    }
  });
});

/** One TLV in hex, written by hand here so the tests do not lean on the builder. */
function tlvHex(type: number, value: Buffer | string): string {
  const v = typeof value === "string" ? latin1(value) : value;
  return (
    type.toString(16).padStart(2, "0") + v.length.toString(16).padStart(4, "0") + v.toString("hex")
  );
}

const SSL_BODY =
  "07 00000000" + // client: SSL | CERT_CONN | CERT_SESS; verify 0
  tlvHex(0x21, "TLSv1.3") +
  tlvHex(0x22, "example.com") +
  tlvHex(0x23, "TLS_AES_128_GCM_SHA256") +
  tlvHex(0x24, "RSA-SHA256") +
  tlvHex(0x25, "RSA2048") +
  tlvHex(0x26, "secp256r1") +
  tlvHex(0x28, hex("308100")) +
  tlvHex(0x2f, hex("aa"));

describe("v2", () => {
  test("TCP over IPv4 parses with the data after it intact", () => {
    const wire = Buffer.concat([v2("21", "11", "c0a80001 c0a8000b dc04 01bb"), latin1("hello")]);
    const { result, after, consumed } = feed([wire]);
    assert.equal(result.status, "complete");
    assert.deepEqual(result.header, {
      version: 2,
      command: "proxy",
      family: "inet",
      transport: "stream",
      source: inet("192.168.0.1", 56324),
      destination: inet("192.168.0.11", 443),
      tlvs: { raw: [] },
      headerLength: 28,
    });
    assert.equal(consumed, 28);
    assert.equal(after.toString(), "hello");
  });

  test("UDP over IPv6 parses to formatted addresses", () => {
    const h = header(v2("21", "22", `20010db8${"0".repeat(23)}1 ${"0".repeat(31)}1 0035 ffff`));
    assert.equal(h.transport, "dgram");
    assert.deepEqual(h.source, inet("2001:db8::1", 53));
    assert.deepEqual(h.destination, inet("::1", 65535));
  });

  test("AF_UNIX paths stop at the first NUL; an abstract name keeps its leading NUL", () => {
    const path = Buffer.alloc(108);
    path.write("/run/app.sock");
    const abstract = Buffer.alloc(108);
    abstract.write("\0name");
    const h = header(v2("21", "31", path.toString("hex") + abstract.toString("hex")));
    assert.equal(h.family, "unix");
    assert.deepEqual(h.source, { path: "/run/app.sock" });
    assert.deepEqual(h.destination, { path: "\0name" });
    const h2 = header(v2("21", "32", "00".repeat(216)));
    assert.equal(h2.transport, "dgram");
    assert.deepEqual(h2.source, { path: "" });
  });

  test("LOCAL gives no addresses but consumes the declared length", () => {
    const wire = Buffer.concat([v2("20", "11", "7f000001 7f000001 0001 0002"), latin1("app")]);
    const { result, after } = feed([wire]);
    assert.equal(result.status, "complete");
    assert.equal(result.header.command, "local");
    assert.equal(result.header.family, "inet");
    assert.equal(result.header.source, undefined);
    assert.equal(result.header.headerLength, 28);
    assert.equal(after.toString(), "app");
  });

  test("LOCAL with a block too short for its family is skipped whole", () => {
    const h = header(v2("20", "11", "0102"));
    assert.deepEqual(h.tlvs, { raw: [] });
    assert.equal(h.headerLength, 18);
    assert.equal(header(v2("20", "00", "")).headerLength, 16);
  });

  test("PROXY with AF_UNSPEC gives no addresses and reads TLVs right after the 16 bytes", () => {
    const h = header(v2("21", "00", "01 0002 6832"));
    assert.equal(h.family, "unspec");
    assert.equal(h.source, undefined);
    assert.deepEqual(h.tlvs.alpn, latin1("h2"));
  });

  test("registered TLVs are decoded and every TLV is kept raw in order", () => {
    const body =
      "7f000001 7f000002 0050 01bb" +
      "01 0008 687474702f312e31" + // ALPN "http/1.1"
      "02 000b 6578616d706c652e636f6d" + // AUTHORITY "example.com"
      "04 0002 0000 04 0000" + // two NOOPs
      "05 0004 deadbeef" + // UNIQUE_ID
      "30 0003 6e7331" + // NETNS "ns1"
      "e0 0002 cafe 00 0000"; // custom and unassigned types: raw only
    const h = header(v2("21", "11", body));
    assert.deepEqual(h.tlvs.alpn, latin1("http/1.1"));
    assert.equal(h.tlvs.authority, "example.com");
    assert.equal(h.tlvs.noop, 2);
    assert.deepEqual(h.tlvs.uniqueId, hex("deadbeef"));
    assert.equal(h.tlvs.netns, "ns1");
    assert.equal(h.tlvs.crc32c, undefined);
    assert.deepEqual(
      h.tlvs.raw.map((t) => [t.type, t.value.toString("hex")]),
      [
        [0x01, "687474702f312e31"],
        [0x02, "6578616d706c652e636f6d"],
        [0x04, "0000"],
        [0x04, ""],
        [0x05, "deadbeef"],
        [0x30, "6e7331"],
        [0xe0, "cafe"],
        [0x00, ""],
      ],
    );
  });

  test("the SSL TLV decodes its client bits, verify and sub-TLVs", () => {
    const ssl = hex(SSL_BODY);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(ssl.length);
    const h = header(
      v2("21", "11", `7f000001 7f000002 0050 01bb 20 ${len.toString("hex")} ${SSL_BODY}`),
    );
    const s = h.tlvs.ssl;
    assert.ok(s !== undefined);
    assert.deepEqual(
      { ...s, raw: s.raw.map((t) => t.type) },
      {
        client: 7,
        ssl: true,
        certConn: true,
        certSess: true,
        verify: 0,
        version: "TLSv1.3",
        cn: "example.com",
        cipher: "TLS_AES_128_GCM_SHA256",
        sigAlg: "RSA-SHA256",
        keyAlg: "RSA2048",
        group: "secp256r1",
        clientCert: hex("308100"),
        raw: [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x28, 0x2f],
      },
    );
    const bare = header(v2("21", "00", "20 0005 00 00000001"));
    assert.deepEqual(bare.tlvs.ssl, {
      client: 0,
      ssl: false,
      certConn: false,
      certSess: false,
      verify: 1,
      raw: [],
    });
  });

  test("a CRC32C TLV is verified over the header with its value zeroed", () => {
    const good = withCrc(
      v2("21", "11", "7f000001 7f000002 0050 01bb 03 0004 00000000 01 0002 6832"),
      31,
    );
    const h = header(good);
    assert.equal(h.tlvs.crc32c, good.readUInt32BE(31));
    // LOCAL headers carry TLVs after their (UNSPEC, empty) address block too.
    assert.equal(
      header(withCrc(v2("20", "00", "03 0004 00000000"), 19)).tlvs.crc32c,
      crc32c(v2("20", "00", "03 0004 00000000")),
    );
  });

  test("the cap is maxHeaderBytes: a header of exactly the cap parses", () => {
    const body = `7f000001 7f000002 0050 01bb 04 ${(4096 - 16 - 12 - 3).toString(16).padStart(4, "0")} ${"00".repeat(4096 - 16 - 12 - 3)}`;
    assert.equal(DEFAULT_PROXY_HEADER_MAX_BYTES, 4096);
    assert.equal(header(v2("21", "11", body)).headerLength, 4096);
    const max = v2("21", "00", `04 fffc ${"00".repeat(0xfffc)}`);
    assert.equal(max.length, 16 + 65535);
    assert.equal(header(max, { maxHeaderBytes: 65551 }).headerLength, 65551);
  });
});

/** Headers with bytes after them, for the split tests. */
const SAMPLES: [string, Buffer][] = [
  ["v1 TCP4", latin1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /\r\n")],
  ["v1 TCP6", latin1("PROXY TCP6 2001:db8::1 ::1 1 2\r\n\r\n\r\n")],
  ["v1 UNKNOWN", latin1("PROXY UNKNOWN x\r\nPROXY TCP4 1.1.1.1 1.1.1.1 1 1\r\n")],
  ["v2 TCP4", Buffer.concat([v2("21", "11", "c0a80001 c0a8000b dc04 01bb"), hex(SIG)])],
  [
    "v2 TLVs and CRC",
    Buffer.concat([
      withCrc(
        v2(
          "21",
          "11",
          `7f000001 7f000002 0050 01bb 03 0004 00000000 20 ${hex(SSL_BODY).length.toString(16).padStart(4, "0")} ${SSL_BODY}`,
        ),
        31,
      ),
      latin1("data"),
    ]),
  ],
  ["v2 LOCAL", Buffer.concat([v2("20", "00", ""), latin1("x")])],
];

describe("splits", () => {
  for (const [name, wire] of SAMPLES) {
    test(`${name}: every two-piece split and one byte at a time give the same header and rest`, () => {
      const whole = feed([wire]);
      assert.equal(whole.result.status, "complete");
      const expected = {
        header: whole.result.header,
        after: whole.after,
        consumed: whole.consumed,
      };
      assert.ok(whole.after.length > 0);
      const check = (chunks: Buffer[]) => {
        const fed = feed(chunks);
        assert.equal(fed.result.status, "complete");
        assert.deepEqual(
          { header: fed.result.header, after: fed.after, consumed: fed.consumed },
          expected,
        );
      };
      for (let cut = 0; cut <= wire.length; cut++)
        check([wire.subarray(0, cut), wire.subarray(cut)]);
      check([...wire].map((b) => Buffer.from([b])));
      check([Buffer.alloc(0), ...[...wire].map((b) => Buffer.from([b])), Buffer.alloc(0)]);
    });
  }

  test("any chunking of a header and its data gives the same header and data", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES),
        fc.array(fc.nat(), { maxLength: 8 }),
        ([, wire], cuts) => {
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let start = 0;
          for (const p of [...points, wire.length]) {
            chunks.push(wire.subarray(start, p));
            start = p;
          }
          const fed = feed(chunks);
          const whole = feed([wire]);
          assert.ok(fed.result.status === "complete" && whole.result.status === "complete");
          assert.deepEqual(
            [fed.result.header, fed.after, fed.consumed],
            [whole.result.header, whole.after, whole.consumed],
          );
        },
      ),
    );
  });

  test("the parser copies what it keeps, so the caller may reuse a chunk", () => {
    const wire = SAMPLES[4]?.[1] as Buffer;
    const parser = new ProxyHeaderParser();
    const scratch = Buffer.alloc(1);
    let result: ProxyHeaderResult = { status: "incomplete" };
    for (const b of wire) {
      scratch[0] = b;
      result = parser.push(scratch);
      if (result.status !== "incomplete") break;
    }
    assert.equal(result.status, "complete");
    assert.deepEqual(result.header, header(wire));
  });
});

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
