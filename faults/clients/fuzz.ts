/**
 * Fuzz: `lines` generated lines (see fuzz-lines.ts) pipelined over `conns`
 * connections to a line server, at most `window` unanswered lines each. Every
 * reply is matched, in order, to the line it answers and checked by the
 * oracle; at the end each connection half-closes and reads to the server's EOF.
 *
 * Events: `done` with the counts.
 *
 * @module
 */

import net from "node:net";
import fc from "fast-check";
import { clientParams, emit, runClient } from "../lib/client-io.js";
import { type Expectation, itemArbitrary, itemBytes, meets, Oracle } from "../lib/fuzz-lines.js";
import { replyKind } from "../lib/replies.js";
import { Tally } from "../lib/stats.js";

export interface FuzzParams {
  port: number;
  app: "calc-server" | "line-echo-server";
  lines: number;
  conns: number;
  maxLine: number;
  maxDigits: number;
  seed: number;
  /** Most unanswered lines per connection. Default 4096. */
  window?: number;
}

interface Mismatch {
  line: string;
  expected: string;
  reply: string;
}

const params = clientParams<FuzzParams>();
const kinds = new Tally();
const mismatches: Mismatch[] = [];
const totals = { lines: 0, bytes: 0, replies: 0, wrong: 0, extra: 0, missing: 0, partial: 0 };
const endings = new Tally();

const show = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

function runConnection(index: number, quota: number): Promise<void> {
  const arbitrary = itemArbitrary(params.maxLine);
  const oracle = new Oracle(params);
  const pending: { e: Expectation; line: string }[] = [];
  let head = 0;
  let welcomed = params.app !== "calc-server";
  let wake: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port: params.port, allowHalfOpen: true });
    let partial = "";
    let ending = "eof";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      const parts = (partial + text).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) {
        const reply = `${part}\n`;
        const kind = replyKind(reply);
        if (!welcomed) {
          welcomed = true;
          if (kind !== "welcome") totals.wrong++;
          continue;
        }
        totals.replies++;
        kinds.add(kind);
        const want = pending[head];
        if (want === undefined) {
          totals.extra++;
          continue;
        }
        head++;
        if (!meets(want.e, kind, reply)) {
          totals.wrong++;
          if (mismatches.length < 10) {
            mismatches.push({
              line: show(want.line),
              expected: want.e.reply ?? want.e.kind,
              reply: show(reply),
            });
          }
        }
      }
      if (head > 65_536) {
        pending.splice(0, head);
        head = 0;
      }
      wake?.();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      ending = error.code ?? "error";
      wake?.();
    });
    socket.on("close", () => {
      totals.missing += pending.length - head;
      totals.partial += partial.length;
      endings.add(ending);
      wake?.();
      resolve();
    });
    socket.once("connect", async () => {
      try {
        let sent = 0;
        for (let batch = 0; sent < quota && !socket.destroyed; batch++) {
          const seed = params.seed + index * 1_000_003 + batch;
          const chunks: Buffer[] = [];
          for (const item of fc.sample(arbitrary, { numRuns: 500, seed })) {
            const bytes = itemBytes(item);
            const expectations = oracle.expect(item);
            const shown = bytes.toString("latin1");
            for (const e of expectations) pending.push({ e, line: shown });
            chunks.push(bytes);
            sent += expectations.length;
            totals.lines += expectations.length;
            totals.bytes += bytes.length;
            if (sent >= quota) break;
          }
          socket.write(Buffer.concat(chunks));
          while (pending.length - head > (params.window ?? 4096) && !socket.destroyed) {
            await new Promise<void>((w) => (wake = w));
          }
        }
        socket.end();
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const per = Math.ceil(params.lines / params.conns);
  await Promise.all(Array.from({ length: params.conns }, (_, i) => runConnection(i, per)));
  emit("done", {
    ...totals,
    kinds: kinds.toJSON(),
    endings: endings.toJSON(),
    mismatches,
    ms: performance.now() - started,
  });
}

runClient(600_000, main);
