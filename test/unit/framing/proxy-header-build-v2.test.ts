import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildProxyHeaderV2,
  type ProxyHeaderV2Options,
} from "../../../src/framing/proxy-header-build-v2.js";
import { crc32c } from "../../../src/framing/proxy-header-crc32c.js";
import { ProxyHeaderParser } from "../../../src/framing/proxy-header-parser.js";
import type { ProxyHeader } from "../../../src/framing/proxy-header.js";

function parse(bytes: Buffer): ProxyHeader {
  const r = new ProxyHeaderParser({ maxHeaderBytes: 65551 }).push(bytes);
  if (r.status !== "complete") assert.fail(r.status === "error" ? r.error.message : "incomplete");
  assert.equal(r.consumed, bytes.length);
  return r.header;
}

test("buildProxyHeaderV2 writes TCP over IPv4 byte for byte", () => {
  const bytes = buildProxyHeaderV2({
    source: { address: "192.168.0.1", port: 56324 },
    destination: { address: "192.168.0.11", port: 443 },
  });
  assert.equal(
    bytes.toString("hex"),
    "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "c0a80001c0a8000bdc0401bb",
  );
});

test("buildProxyHeaderV2 LOCAL without options is the 16-byte health check header", () => {
  const bytes = buildProxyHeaderV2({ command: "local" });
  assert.equal(bytes.toString("hex"), "0d0a0d0a000d0a515549540a" + "20" + "00" + "0000");
  assert.deepEqual(parse(bytes), {
    version: 2,
    command: "local",
    family: "unspec",
    transport: "unspec",
    tlvs: { raw: [] },
    headerLength: 16,
  });
});

test("buildProxyHeaderV2 output parses back: IPv6 UDP, UNIX, every TLV and a checksum", () => {
  const h = parse(
    buildProxyHeaderV2({
      transport: "dgram",
      source: { address: "2001:db8::1", port: 53 },
      destination: { address: "::1", port: 5353 },
      tlvs: {
        alpn: "h2",
        authority: "exämple.com",
        uniqueId: Buffer.from("0123456789abcdef"),
        netns: "blue",
        noop: 5,
        ssl: {
          client: 3,
          verify: 0,
          version: "TLSv1.2",
          cn: "client",
          cipher: "AES",
          sigAlg: "RSA-SHA256",
          keyAlg: "RSA2048",
          group: "x25519",
          sigScheme: "ed25519",
          clientCert: Buffer.from([0x30, 0]),
        },
        raw: [{ type: 0xe1, value: Buffer.from("custom") }],
      },
      crc32c: true,
    }),
  );
  assert.deepEqual(
    [h.family, h.transport, h.source, h.destination],
    ["inet6", "dgram", { address: "2001:db8::1", port: 53 }, { address: "::1", port: 5353 }],
  );
  assert.deepEqual(h.tlvs.alpn, Buffer.from("h2"));
  assert.equal(h.tlvs.authority, "exämple.com");
  assert.equal(h.tlvs.uniqueId?.toString(), "0123456789abcdef");
  assert.equal(h.tlvs.netns, "blue");
  assert.equal(h.tlvs.noop, 1);
  assert.deepEqual(
    { ...h.tlvs.ssl, raw: undefined },
    {
      client: 3,
      ssl: true,
      certConn: true,
      certSess: false,
      verify: 0,
      version: "TLSv1.2",
      cn: "client",
      cipher: "AES",
      sigAlg: "RSA-SHA256",
      keyAlg: "RSA2048",
      group: "x25519",
      sigScheme: "ed25519",
      clientCert: Buffer.from([0x30, 0]),
      raw: undefined,
    },
  );
  assert.deepEqual(
    h.tlvs.raw.map((t) => t.type),
    [0x01, 0x02, 0x05, 0x20, 0x30, 0x04, 0xe1, 0x03],
  );
  assert.equal(typeof h.tlvs.crc32c, "number");

  const u = parse(
    buildProxyHeaderV2({ source: { path: "/tmp/s" }, destination: { path: "\0abstract" } }),
  );
  assert.deepEqual(
    [u.family, u.transport, u.source, u.destination, u.headerLength],
    ["unix", "stream", { path: "/tmp/s" }, { path: "\0abstract" }, 232],
  );
});

test("crc32c: true fills a CRC32C TLV given in raw, in place", () => {
  const bytes = buildProxyHeaderV2({
    command: "local",
    tlvs: {
      raw: [
        { type: 0x03, value: Buffer.alloc(4) },
        { type: 0x04, value: Buffer.alloc(0) },
      ],
    },
    crc32c: true,
  });
  assert.equal(bytes[16], 0x03);
  const zeroed = Buffer.from(bytes);
  zeroed.fill(0, 19, 23);
  assert.equal(bytes.readUInt32BE(19), crc32c(zeroed));
  assert.equal(parse(bytes).tlvs.crc32c, crc32c(zeroed));
});

test("LOCAL with a family and no endpoints writes a zeroed address block", () => {
  const bytes = buildProxyHeaderV2({ command: "local", family: "inet6", transport: "stream" });
  assert.equal(bytes.length, 16 + 36);
  assert.deepEqual([parse(bytes).family, parse(bytes).source], ["inet6", undefined]);
});

test("buildProxyHeaderV2 rejects bad options with TypeError or RangeError", () => {
  const a = { address: "1.2.3.4", port: 1 };
  const cases: [ProxyHeaderV2Options, string, string][] = [
    [{ command: "x" as "local" }, "RangeError", "Invalid command: x"],
    [{ source: a }, "TypeError", "Invalid endpoints: give both source and destination, or neither"],
    [
      { family: "inet" },
      "TypeError",
      "Invalid endpoints: PROXY with family inet needs source and destination",
    ],
    [{ family: "ipx" as "inet" }, "RangeError", "Invalid family: ipx"],
    [{ transport: "sctp" as "stream" }, "RangeError", "Invalid transport: sctp"],
    [
      { source: a, destination: { address: "::1", port: 1 } },
      "RangeError",
      'Invalid destination address: "::1" is not an inet address',
    ],
    [
      { source: a, destination: { address: "1.2.3.4", port: 70000 } },
      "RangeError",
      "Invalid destination port: expected an integer from 0 to 65535, got 70000",
    ],
    [
      { source: { address: "nope", port: 1 }, destination: a },
      "RangeError",
      'Invalid source address: "nope" is not an IPv4 or IPv6 address',
    ],
    [
      { source: { path: "x".repeat(109) }, destination: { path: "" } },
      "RangeError",
      "Invalid AF_UNIX path: 109 bytes exceed 108",
    ],
    [
      { family: "unix", source: a, destination: a },
      "TypeError",
      "Invalid AF_UNIX address: expected { path }",
    ],
    [
      { tlvs: { uniqueId: Buffer.alloc(129) } },
      "RangeError",
      "Invalid uniqueId: 129 bytes exceed 128",
    ],
    [
      { tlvs: { raw: [{ type: 256, value: Buffer.alloc(0) }] } },
      "RangeError",
      "Invalid TLV type: expected an integer from 0 to 255, got 256",
    ],
    [
      { tlvs: { raw: [{ type: 3, value: Buffer.alloc(3) }] }, crc32c: true },
      "RangeError",
      "Invalid CRC32C TLV: 3 bytes instead of 4",
    ],
    [
      { tlvs: { ssl: { client: 256, verify: 0 } } },
      "RangeError",
      "Invalid SSL client field: expected an integer from 0 to 255, got 256",
    ],
    [
      { tlvs: { ssl: { client: 1, verify: -1 } } },
      "RangeError",
      "Invalid SSL verify field: expected an unsigned 32-bit integer, got -1",
    ],
    [
      { tlvs: { raw: [{ type: 0xe0, value: Buffer.alloc(65535) }] } },
      "RangeError",
      "Invalid header: 65538 bytes after the fixed 16 exceed 65535",
    ],
    [
      { tlvs: { raw: [{ type: 0xe0, value: Buffer.alloc(65536) }] } },
      "RangeError",
      "Invalid TLV 0xe0: 65536 bytes exceed 65535",
    ],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(() => buildProxyHeaderV2(options), { name, message }, message);
  }
});
