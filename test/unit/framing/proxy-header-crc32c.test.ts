import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { crc32c } from "../../../src/framing/proxy-header-crc32c.js";

test("crc32c matches the check value and the RFC 3720 B.4 vectors", () => {
  assert.equal(crc32c("123456789"), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test("crc32c of nothing is 0", () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(""), 0);
});

test("crc32c continued with previous equals the crc32c of the concatenation", () => {
  fc.assert(
    fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
      const whole = Buffer.concat([a, b]);
      assert.equal(crc32c(b, crc32c(a)), crc32c(whole));
    }),
  );
});
