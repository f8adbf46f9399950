import assert from "node:assert/strict";
import { test } from "node:test";
import { ProxyHeaderError } from "../../../src/errors.js";
import type { ProxyHeader, ProxyInetAddress } from "../../../src/framing/proxy-header.js";
import { buildProxyHeaderV1 } from "../../../src/framing/proxy-header-build-v1.js";
import { buildProxyHeaderV2 } from "../../../src/framing/proxy-header-build-v2.js";
import { encodeIp } from "../../../src/framing/proxy-header-ip-encode.js";
import { formatIp } from "../../../src/framing/proxy-header-ip-format.js";
import {
  ProxyHeaderParser,
  type ProxyHeaderResult,
} from "../../../src/framing/proxy-header-parser.js";

/**
 * How many fuzzed headers: 100,000 in `npm test` (about 2 s); the full 1,000,000 (about 20 s
 * alone) with `PROXY_FUZZ_COUNT=1000000 node --test dist/test/unit/framing/proxy-header-fuzz.test.js`.
 */
const COUNT = Number(process.env["PROXY_FUZZ_COUNT"] ?? 100_000);
const SEED = Number(process.env["PROXY_FUZZ_SEED"] ?? 0x5eed);

/** xorshift32: a seeded generator, so a failure names the seed and case that reproduce it. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

function bytes(r: (n: number) => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r(256);
  return b;
}

/** A valid header of a random kind, with random endpoints and TLVs. */
function validHeader(r: (n: number) => number): Buffer {
  const kind = r(8);
  const ip = (size: 4 | 16): string => formatIp(bytes(r, size), 0, size);
  if (kind === 0) return buildProxyHeaderV1("unknown");
  if (kind === 1) {
    const size = r(2) === 0 ? 4 : 16;
    return buildProxyHeaderV1({
      source: { address: ip(size), port: r(65536) },
      destination: { address: ip(size), port: r(65536) },
    });
  }
  const raw: { type: number; value: Buffer }[] = [];
  for (let i = r(4); i > 0; i--) {
    const type = [0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xe0, r(256)][r(8)] as number;
    const value =
      type === 0x20
        ? Buffer.concat([bytes(r, 5), Buffer.from([0x21, 0, 2, 0x41, 0x42])])
        : Buffer.from("text".slice(0, r(5)));
    if (type !== 0x03) raw.push({ type, value });
  }
  const tlvs = {
    raw: raw.filter(
      (t, i) => t.type === 0x04 || t.type >= 0xe0 || raw.findIndex((u) => u.type === t.type) === i,
    ),
  };
  const crc32c = r(2) === 0;
  const transport = (["stream", "dgram", "unspec"] as const)[r(3)];
  switch (kind) {
    case 2:
    case 3: {
      const size = kind === 2 ? 4 : 16;
      return buildProxyHeaderV2({
        transport,
        source: { address: ip(size), port: r(65536) },
        destination: { address: ip(size), port: r(65536) },
        tlvs,
        crc32c,
      });
    }
    case 4:
      return buildProxyHeaderV2({
        transport,
        source: { path: "/tmp/".padEnd(5 + r(20), "s") },
        destination: { path: "" },
        tlvs,
        crc32c,
      });
    case 5:
      return buildProxyHeaderV2({ command: "local", tlvs, crc32c });
    case 6:
      return buildProxyHeaderV2({ command: "local", family: "inet", transport, tlvs, crc32c });
    default:
      return buildProxyHeaderV2({ transport, tlvs, crc32c });
  }
}

/** A mutation of a valid header: flipped bytes, a truncation, a random length field, random TLV bytes. */
function mutate(r: (n: number) => number, h: Buffer): Buffer {
  const out = Buffer.from(h);
  switch (r(6)) {
    case 0:
      return out;
    case 1:
      for (let i = 1 + r(3); i > 0; i--) out[r(out.length)] ^= 1 << r(8);
      return out;
    case 2:
      return out.subarray(0, r(out.length));
    case 3:
      if (out.length >= 16 && out[0] === 0x0d)
        out.writeUInt16BE(r(4) === 0 ? r(65536) : Math.max(0, out.length - 16 + r(9) - 4), 14);
      else out[r(out.length)] = r(256);
      return out;
    case 4: {
      const extra = bytes(r, r(12));
      const body = Buffer.concat([out, extra]);
      if (body.length >= 16 && body[0] === 0x0d)
        body.writeUInt16BE(Math.min(65535, body.length - 16), 14);
      return body;
    }
    default:
      out[r(out.length)] = [0x00, 0x0d, 0x0a, 0x20, 0x30, 0xff][r(6)] as number;
      return out;
  }
}

function ipBytes(a: unknown): string | undefined {
  if (a === undefined) return undefined;
  return encodeIp((a as ProxyInetAddress).address)?.toString("hex");
}

/** The header's bytes written again by the builders, parsed again, must give the same header. */
function checkReencodes(h: ProxyHeader): void {
  let again: Buffer;
  if (h.version === 1) {
    if (h.family === "unspec") again = buildProxyHeaderV1("unknown");
    else
      again = buildProxyHeaderV1({
        source: h.source as ProxyInetAddress,
        destination: h.destination as ProxyInetAddress,
      });
  } else {
    again = buildProxyHeaderV2({
      command: h.command,
      family: h.family,
      transport: h.transport,
      source: h.source,
      destination: h.destination,
      tlvs: { raw: h.tlvs.raw.filter((t) => t.type !== 0x03 || h.tlvs.crc32c === undefined) },
      crc32c: h.tlvs.crc32c !== undefined,
    });
  }
  const r = new ProxyHeaderParser({ maxHeaderBytes: 65551 }).push(again);
  if (r.status !== "complete")
    throw new Error(
      `re-encoded header does not parse: ${r.status === "error" ? r.error.message : "incomplete"}`,
    );
  const g = r.header;
  const same =
    g.version === h.version &&
    g.command === h.command &&
    g.family === h.family &&
    g.transport === h.transport &&
    (h.family === "unix"
      ? JSON.stringify([g.source, g.destination]) === JSON.stringify([h.source, h.destination])
      : ipBytes(g.source) === ipBytes(h.source) &&
        ipBytes(g.destination) === ipBytes(h.destination) &&
        (g.source as ProxyInetAddress | undefined)?.port ===
          (h.source as ProxyInetAddress | undefined)?.port &&
        (g.destination as ProxyInetAddress | undefined)?.port ===
          (h.destination as ProxyInetAddress | undefined)?.port) &&
    JSON.stringify({ ...g.tlvs, crc32c: 0 }) ===
      JSON.stringify({
        ...h.tlvs,
        crc32c: 0,
        raw: h.tlvs.raw
          .filter((t) => t.type !== 0x03)
          .concat(g.tlvs.raw.filter((t) => t.type === 0x03)),
      });
  if (!same)
    throw new Error(`re-encoded header differs: ${JSON.stringify(g)} vs ${JSON.stringify(h)}`);
}

test(`${COUNT} fuzzed headers: no throw escapes, each parses and re-encodes or is a ProxyHeaderError`, (t) => {
  const r = rng(SEED);
  const counts = { complete: 0, error: 0 };
  // Capturing a stack costs more than parsing a header; the messages are what is checked here.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  t.after(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  const started = performance.now();
  // Building is slower than parsing, so the mutations start from a pool of valid headers.
  const pool = Array.from({ length: 4096 }, () => validHeader(r));
  for (let i = 0; i < COUNT; i++) {
    const input = mutate(r, pool[r(pool.length)] as Buffer);
    const parser = new ProxyHeaderParser({ maxHeaderBytes: r(4) === 0 ? 65551 : 4096 });
    let result: ProxyHeaderResult;
    try {
      const cut = r(input.length + 1);
      result = parser.push(input.subarray(0, cut));
      if (result.status === "incomplete") result = parser.push(input.subarray(cut));
      if (result.status === "incomplete") result = parser.end();
      if (result.status === "complete") {
        if (result.header.headerLength > input.length)
          throw new Error("header longer than its input");
        checkReencodes(result.header);
        counts.complete++;
      } else if (result.status === "incomplete") {
        throw new Error("incomplete after end()");
      } else {
        if (
          !(result.error instanceof ProxyHeaderError) ||
          result.error.code !== "ERR_PROXY_HEADER"
        ) {
          throw new Error("error result that is not a ProxyHeaderError");
        }
        if (!result.error.message.startsWith("Cannot parse PROXY header: "))
          throw new Error(`message: ${result.error.message}`);
        counts.error++;
      }
    } catch (error) {
      assert.fail(
        `case ${i} (seed ${SEED}), input ${input.toString("hex")}: ${(error as Error).stack}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `# proxy-header fuzz: ${COUNT} cases in ${seconds.toFixed(1)} s, ${counts.complete} complete, ${counts.error} errors`,
  );
  assert.equal(counts.complete + counts.error, COUNT);
  // Both outcomes must be exercised, or the mutations are not doing their job.
  assert.ok(counts.complete > COUNT / 10 && counts.error > COUNT / 10, JSON.stringify(counts));
});
