/**
 * The raw calculator and line echo peers must answer exactly as asyncnet's calc-server
 * and line-echo-server do, or their speed proves nothing: a few hundred lines (sums,
 * products, exact and BigInt results, every kind of error, commands, limits, non-ASCII;
 * for the echo, quotes, escapes and invalid UTF-8) go to both, in the same pieces, and
 * the bytes that come back are compared.
 */
import net from "node:net";
import type { App, PeerCommand } from "./peers.js";
import { HOST, pickPort, ServerProcess } from "./server.js";

const digits = (n: number, first = "9") => first + "7".repeat(n - 1);

/** Lines that each test one rule; `\n` is added to each. */
const FIXED: readonly string[] = [
  "12,34,56",
  " 1 , 2 ,3 ",
  "+5,-7",
  "-0",
  "1_000,2_0_0",
  "1__0",
  "_1",
  "1_",
  "1,,2",
  "1,",
  ",1",
  "",
  "   ",
  "1.5",
  "abc",
  "0x10",
  "1e3",
  "\t1\v,\f2\r",
  "1,2\x1c",
  "\x1c1,2",
  "1\x1c,2",
  "1\0",
  "007,0008",
  "9007199254740991,1",
  "9007199254740992,1",
  "-9007199254740991,-1",
  digits(15),
  digits(16),
  `${digits(30)},${digits(30)}`,
  `0000000000000000000000001,-${digits(20, "1")}`,
  digits(4300),
  digits(4301),
  `${digits(4300)},${digits(4300)}`,
  " quit",
  "Quit",
  "sum ",
  "product\r",
  "3,4,5",
  "94906265,94906266",
  "-3,4",
  `${digits(15)},${digits(15)}`,
  `${digits(2200)},${digits(2100)}`,
  `${digits(2200)},${digits(2200)}`,
  "0," + digits(4300),
  "-0,5",
  "sum",
  "\u0663,4",
  "1\u00a0,2",
  "\uff11\uff12,1",
  "\ufeff1",
  "\u00b2",
  "product\u00a0",
  "\u0173um",
  "2,3",
  "sum",
  `1${"0".repeat(70_000)}`,
  "5,6",
];

/** A deterministic generator of ordinary lines, so runs can be compared. */
function* randomLines(count: number): Generator<string> {
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    // The high bits: an LCG's low bits repeat with short periods.
    return Math.floor((seed / 2 ** 31) * n);
  };
  const piece = () => {
    const len = 1 + next(next(4) === 0 ? 25 : 6);
    let s = next(5) === 0 ? "-" : "";
    for (let i = 0; i < len; i++) s += String(next(10));
    return next(9) === 0 ? ` ${s} ` : s;
  };
  for (let k = 0; k < count; k++) {
    const r = next(20);
    if (r === 0) yield "product";
    else if (r === 1) yield "sum";
    else if (r === 2) yield `${piece()},x`;
    else yield Array.from({ length: 1 + next(6) }, piece).join(",");
  }
}

/** The bytes that both servers get: FIXED, 300 ordinary lines, and what follows quit. */
export function transcriptBytes(): Buffer {
  const lines = [...FIXED, ...randomLines(300), "quit", "1,2", "ignored after quit"];
  // The raw bytes a UTF-8 decoder must refuse.
  const invalid = Buffer.from([0xff, 0x31, 0x0a, 0xc3, 0x28, 0x0a]);
  return Buffer.concat([invalid, Buffer.from(lines.join("\n") + "\n", "utf8")]);
}

/** Lines for the line echo: its fast path's edges (quotes, escapes, whitespace) and the rest. */
const ECHO_FIXED: readonly string[] = [
  "hello world 0123456789",
  "",
  "   ",
  "trailing \t\v\f\r\x1c\x1d\x1e\x1f ",
  " leading",
  "it's",
  'say "hi"',
  `both ' and "`,
  "back\\slash",
  "\x00\x01\x7f",
  "caf\u00e9 \u2603 \u{1f600}",
  "nbsp\u00a0",
  "\ufeffbom",
  "quit ",
  " quit",
  "Quit",
  "quit\u00a0x",
  "~!@#$%^&*()_+`-=[]{}|;:,./<>?",
  "x".repeat(65_536),
  "y".repeat(65_537),
  "after the long ones",
];

/** The bytes that both line echo servers get: ECHO_FIXED, invalid UTF-8, then quit. */
export function echoTranscriptBytes(): Buffer {
  const lines = [
    ...ECHO_FIXED,
    ...Array.from({ length: 200 }, (_, k) => `line ${k} ${"ab".repeat(k % 40)}`),
  ];
  const invalid = Buffer.from([0xff, 0x31, 0x0a, 0xc3, 0x28, 0x0a, 0x85, 0x0a]);
  const text = Buffer.from(lines.join("\n") + "\n", "utf8");
  return Buffer.concat([text, invalid, Buffer.from("quit\nignored after quit\n")]);
}

/**
 * Sends `data` to a fresh server in pieces of the given sizes (cycled), ending with a
 * half-close, and resolves with every byte received until the server closes.
 */
async function exchange(
  cmd: PeerCommand,
  data: Buffer,
  pieces: readonly number[],
  timeoutMs: number,
): Promise<Buffer> {
  const server = new ServerProcess(cmd, await pickPort(), null);
  try {
    await server.waitListening(5000);
    return await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: server.port });
      const got: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no close within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.on("data", (chunk: Buffer) => got.push(chunk));
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got));
      });
      socket.once("connect", () => {
        let at = 0;
        let k = 0;
        const send = () => {
          if (at >= data.length || socket.destroyed) {
            socket.end();
            return;
          }
          const n = pieces[k++ % pieces.length] as number;
          socket.write(data.subarray(at, at + n));
          at += n;
          setImmediate(send);
        };
        send();
      });
    });
  } finally {
    await server.stop();
  }
}

function firstDifference(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const line = a.subarray(0, i).toString("latin1").split("\n").length;
  const show = (x: Buffer) => JSON.stringify(x.subarray(i, i + 60).toString("latin1"));
  return `reply line ${line} (byte ${i}): ${show(a)} where the reference sent ${show(b)}`;
}

/**
 * Checks that `peer` answers `app`'s transcript (the calculator's or the line echo's)
 * exactly as `reference` does, in one burst, in small pieces, and with a last line that
 * ends at EOF. Resolves with null when it does, or with the first difference.
 */
export async function checkTranscript(
  app: Exclude<App, "echo">,
  peer: PeerCommand,
  reference: PeerCommand,
): Promise<string | null> {
  const full = app === "calc" ? transcriptBytes() : echoTranscriptBytes();
  const cases: [string, Buffer, number[]][] = [
    ["in one burst", full, [1 << 20]],
    ["in small pieces", full, [1, 7, 300, 4096, 13, 65_536]],
    ["ending at EOF", Buffer.from(app === "calc" ? "product\n6,7\n1,2" : "a\nb 'c'\nd"), [3]],
    ["dropping a long line at EOF", Buffer.from(`1,2\n${"9".repeat(70_000)}`), [40_000]],
  ];
  for (const [name, data, pieces] of cases) {
    const [mine, theirs] = await Promise.all([
      exchange(peer, data, pieces, 20_000),
      exchange(reference, data, pieces, 20_000),
    ]);
    if (!mine.equals(theirs)) return `${name}: ${firstDifference(mine, theirs)}`;
  }
  return null;
}
