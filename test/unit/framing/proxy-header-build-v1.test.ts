import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildProxyHeaderV1 } from "../../../src/framing/proxy-header-build-v1.js";
import { formatIp } from "../../../src/framing/proxy-header-ip-format.js";
import { ProxyHeaderParser } from "../../../src/framing/proxy-header-parser.js";

test("buildProxyHeaderV1 writes the spec's TCP4 example byte for byte", () => {
  const line = buildProxyHeaderV1({
    source: { address: "192.168.0.1", port: 56324 },
    destination: { address: "192.168.0.11", port: 443 },
  });
  assert.equal(line.toString("latin1"), "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
});

test("buildProxyHeaderV1 writes TCP6 in canonical form, and UNKNOWN", () => {
  const line = buildProxyHeaderV1({
    source: { address: "2001:DB8:0:0:0:0:0:1", port: 0 },
    destination: { address: "::ffff:127.0.0.1", port: 65535 },
  });
  assert.equal(line.toString("latin1"), "PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 0 65535\r\n");
  assert.equal(buildProxyHeaderV1("unknown").toString("latin1"), "PROXY UNKNOWN\r\n");
});

test("buildProxyHeaderV1 output parses back to the same endpoints", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 65535 }),
      fc.integer({ min: 0, max: 65535 }),
      (six, bytes, sport, dport) => {
        const size = six ? 16 : 4;
        const source = { address: formatIp(bytes, 0, size), port: sport };
        const destination = { address: formatIp(bytes, 16, size), port: dport };
        const line = buildProxyHeaderV1({ source, destination });
        const r = new ProxyHeaderParser().push(line);
        assert.equal(r.status, "complete");
        assert.deepEqual([r.header.source, r.header.destination], [source, destination]);
        assert.equal(r.header.headerLength, line.length);
      },
    ),
  );
});

test("buildProxyHeaderV1 rejects bad endpoints with TypeError or RangeError", () => {
  const ok = { address: "1.2.3.4", port: 1 };
  const cases: [unknown, string, string][] = [
    [null, "TypeError", `Invalid endpoints: expected { source, destination } or "unknown"`],
    [{ source: ok }, "TypeError", "Invalid endpoints: expected source and destination objects"],
    [
      { source: { address: 1, port: 1 }, destination: ok },
      "TypeError",
      "Invalid source address: expected a string, got number",
    ],
    [
      { source: ok, destination: { address: "1.2.3.4", port: "1" } },
      "TypeError",
      "Invalid destination port: expected a number, got string",
    ],
    [
      { source: { address: "host", port: 1 }, destination: ok },
      "RangeError",
      'Invalid source address: "host" is not an IPv4 or IPv6 address',
    ],
    [
      { source: { address: "fe80::1%lo", port: 1 }, destination: ok },
      "RangeError",
      'Invalid source address: "fe80::1%lo" is not an IPv4 or IPv6 address',
    ],
    [
      { source: ok, destination: { address: "::1", port: 1 } },
      "RangeError",
      "Invalid endpoints: source and destination addresses are of different families",
    ],
    [
      { source: { address: "1.2.3.4", port: 65536 }, destination: ok },
      "RangeError",
      "Invalid source port: expected an integer from 0 to 65535, got 65536",
    ],
    [
      { source: ok, destination: { address: "1.2.3.4", port: -1 } },
      "RangeError",
      "Invalid destination port: expected an integer from 0 to 65535, got -1",
    ],
  ];
  for (const [input, name, message] of cases) {
    assert.throws(() => buildProxyHeaderV1(input as "unknown"), { name, message });
  }
});
