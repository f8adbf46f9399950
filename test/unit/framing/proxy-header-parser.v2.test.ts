import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32c } from "../../../src/framing/proxy-header-crc32c.js";
import { DEFAULT_PROXY_HEADER_MAX_BYTES } from "../../../src/framing/proxy-header-parser.js";
import {
  hex,
  latin1,
  v2,
  withCrc,
  feed,
  header,
  inet,
  SSL_BODY,
} from "../../helpers/proxy-header-bytes.js";

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
