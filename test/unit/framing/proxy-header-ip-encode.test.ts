import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeIp } from "../../../src/framing/proxy-header-ip-encode.js";
import { formatIp } from "../../../src/framing/proxy-header-ip-format.js";

test("encodeIp gives the bytes of IPv4 and IPv6 text", () => {
  assert.deepEqual(encodeIp("192.168.0.1"), Buffer.from([192, 168, 0, 1]));
  assert.equal(encodeIp("::1")?.toString("hex"), "00000000000000000000000000000001");
  assert.equal(encodeIp("::")?.toString("hex"), "0".repeat(32));
  assert.equal(
    encodeIp("2001:DB8::8:800:200C:417A")?.toString("hex"),
    "20010db8000000000008080020 0c417a".replace(" ", ""),
  );
  assert.equal(encodeIp("fe80::")?.toString("hex"), `fe80${"0".repeat(28)}`);
  assert.equal(encodeIp("::ffff:1.2.3.4")?.toString("hex"), "00000000000000000000ffff01020304");
  assert.equal(encodeIp("1:2:3:4:5:6:7:8")?.toString("hex"), "00010002000300040005000600070008");
});

test("encodeIp refuses what is not an address, zone indexes and leading zeros included", () => {
  for (const text of [
    "",
    "localhost",
    "1.2.3",
    "01.2.3.4",
    "256.0.0.1",
    "fe80::1%eth0",
    "1::2::3",
    "[::1]",
  ]) {
    assert.equal(encodeIp(text), undefined, text);
  }
});

test("encodeIp reads back every address formatIp writes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      assert.deepEqual(encodeIp(formatIp(bytes, 0, 16)), Buffer.from(bytes));
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
      assert.deepEqual(encodeIp(formatIp(bytes, 0, 4)), Buffer.from(bytes));
    }),
  );
});
