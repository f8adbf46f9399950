import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIp } from "../../../src/framing/proxy-header-ip-format.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ""), "hex");

test("formatIp writes IPv4 as a dotted quad from the offset", () => {
  assert.equal(formatIp(hex("ff 7f 00 00 01"), 1, 4), "127.0.0.1");
});

test("formatIp writes IPv6 the RFC 5952 way", () => {
  const cases: [string, string][] = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    // The longest zero run is compressed, the first one on a tie, and a single zero group never.
    ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
    ["20010000000012340000000000005678", "2001:0:0:1234::5678"],
    ["20010000000012340000000056780001", "2001::1234:0:0:5678:1"],
    ["20010db8000100010001000100010001", "2001:db8:1:1:1:1:1:1"],
    ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"],
    ["fe800000000000000000000000000000", "fe80::"],
    ["00000000000000000000ffff7f000001", "::ffff:127.0.0.1"],
    ["ABCDEF0123456789ABCDEF0123456789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIp(hex(bytes), 0, 16), text, bytes);
});
