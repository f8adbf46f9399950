/**
 * `startWorkers` in a real program (start-workers-program.ts): two worker
 * processes serve one port, SIGHUP replaces both, SIGTERM stops them and the
 * primary exits 0.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";

const PROGRAM = fileURLToPath(new URL("./start-workers-program.js", import.meta.url));
const TIMEOUT = 10_000;
const skip = "Bun" in globalThis || "Deno" in globalThis;
const children = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function bounded<T>(promise: Promise<T>, what: string, ms = TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** One line on a new connection; resolves with the reply (`PID LINE`). */
function ask(port: number, line: string): Promise<string> {
  return bounded(
    new Promise((resolve, reject) => {
      let got = "";
      const socket = net.connect(port, "127.0.0.1");
      socket.setEncoding("latin1");
      socket.on("data", (text: string) => (got += text));
      socket.on("error", reject);
      socket.on("close", () => resolve(got));
      socket.end(`${line}\n`);
    }),
    `a reply to ${line}`,
  );
}

describe("startWorkers", { skip }, () => {
  it("serves one port from two workers, rolls them on SIGHUP, stops them on SIGTERM", async () => {
    const child = spawn(process.execPath, [PROGRAM], { stdio: ["ignore", "ignore", "pipe"] });
    children.add(child);
    let stderr = "";
    const waiters: (() => void)[] = [];
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr += text;
      for (const wake of waiters.splice(0)) wake();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const waitFor = (pattern: RegExp) =>
      bounded(
        (async () => {
          for (;;) {
            const match = stderr.match(pattern);
            if (match !== null) return match;
            await new Promise<void>((resolve) => waiters.push(resolve));
          }
        })(),
        `${pattern} (stderr: ${stderr})`,
      );
    const port = Number((await waitFor(/listening on 127\.0\.0\.1:(\d+)\n/))[1]);
    await waitFor(/2 of 2 worker\(s\) listening/);
    const servedBy = async () => {
      const pids = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const reply = await ask(port, `hello ${i}`);
        const [pid, ...rest] = reply.split(" ");
        assert.equal(rest.join(" "), `hello ${i}\n`);
        pids.add(pid ?? "");
      }
      return pids;
    };
    const before = await servedBy();
    assert.equal(before.size, 2, "both workers answered");
    assert.ok(!before.has(String(child.pid)), "the primary serves nothing");
    child.kill("SIGHUP");
    await waitFor(/rolling restart done: 2 worker\(s\) replaced/);
    const afterRoll = await servedBy();
    assert.equal(afterRoll.size, 2);
    for (const pid of afterRoll) assert.ok(!before.has(pid), `pid ${pid} is a new worker`);
    child.kill("SIGTERM");
    assert.equal(await bounded(exited, "the primary's exit"), 0);
  });
});
