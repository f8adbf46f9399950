import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ProxyHeaderParser,
  type ProxyHeaderResult,
} from "../../../src/framing/proxy-header-parser.js";
import {
  SIG,
  hex,
  latin1,
  v2,
  withCrc,
  feed,
  header,
  inet,
  SSL_BODY,
} from "../../helpers/proxy-header-bytes.js";

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
