/**
 * `workers-roll` and `workers-crash`: a `--workers 2` calculator under 100
 * connections pipelining numbered lines (the `pipeline` client, each
 * connection writing `lines` lines with `depth` in flight), while this
 * process also opens one connection after another (welcome, `1,2`, quit).
 *
 * `workers-roll` sends SIGHUP: every worker is replaced, each new one
 * listening before the old one drains. Every pipelined line must be
 * answered (the old workers answer their connections to the end, then close
 * them with EOF once quiet), and no connection attempt of the churn refused
 * or left without its reply.
 *
 * `workers-crash` kills worker 1 with SIGKILL: its connections are cut, the
 * other worker's are not; a new worker 1 must listen within a bounded wait,
 * and the churn goes on being served. Then SIGTERM drains the rest.
 *
 * @module
 */

import net from "node:net";
import { withinLab } from "../lib/lab.js";
import type { FaultServer } from "../lib/server.js";
import { type Checked, int, ms, type Row, type Scenario } from "../lib/scenario.js";
import { describeTally } from "../lib/stats.js";

export interface WorkersParams {
  conns: number;
  depth: number;
  lines: number;
  timeoutMs: number;
}

export interface WorkersFigures extends Checked {
  event: "roll" | "crash";
  conns: number;
  lines: number;
  /** From the signal (or kill) to the roll's end (or the new worker listening), ms. */
  recoveryMs: number;
  replies: number;
  /** Lines written before the signal (the mark) that never got their reply. */
  lostBeforeSignal: number;
  sentAtMark: number;
  connsComplete: number;
  bad: number;
  endings: Record<string, number>;
  churnDone: number;
  churnRefused: number;
  churnLost: number;
  pidsBefore: number[];
  pidsAfter: number[];
  exitCode: number | null;
}

interface DoneEvent {
  replies: number;
  sentAtMark: number;
  lost: number;
  sent: number;
  bad: number;
  endings: Record<string, number>;
}

/** Waits until the server's stderr (from now on) matches `pattern`. */
function waitLog(server: FaultServer, pattern: RegExp, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer | string) => {
      text += String(chunk);
      const match = pattern.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      server.child.stderr?.off("data", onData);
      resolve(match[0]);
    };
    const timer = setTimeout(() => {
      server.child.stderr?.off("data", onData);
      reject(new Error(`Cannot see ${pattern} in the server's log within ${timeout} ms`));
    }, timeout);
    server.child.stderr?.on("data", onData);
  });
}

/** One welcome, `1,2`, quit exchange; resolves with "ok", "refused" or "lost". */
function exchange(port: number): Promise<"ok" | "refused" | "lost"> {
  const want =
    "<welcome: starting in sum mode>\nSum of input numbers: '3'\r\nconnection closed\r\n";
  return new Promise((resolve) => {
    let got = "";
    let connected = false;
    const socket = net.connect(port, "127.0.0.1");
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      connected = true;
      socket.write("1,2\nquit\n");
    });
    socket.on("data", (text: string) => (got += text));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got === want ? "ok" : connected ? "lost" : "refused");
    });
  });
}

/** Opens connections one after another, four at a time, until `stop()`; returns the tally. */
function churn(port: number): {
  stop: () => Promise<{ ok: number; refused: number; lost: number }>;
} {
  let running = true;
  const tally = { ok: 0, refused: 0, lost: 0 };
  // Four loops, so that one exchange caught in a killed worker does not stall the churn.
  const loop = Promise.all(
    [1, 2, 3, 4].map(async () => {
      while (running) tally[await exchange(port)]++;
    }),
  );
  return {
    stop: async () => {
      running = false;
      await loop;
      return tally;
    },
  };
}

/** The pid serving each slot (or only `slot`), in slot order: the last that listened there. */
function pidsOf(text: string, slot?: number): number[] {
  const bySlot = new Map<number, number>();
  for (const m of text.matchAll(/main: worker (\d+) listening pid=(\d+)/g)) {
    if (slot === undefined || Number(m[1]) === slot) bySlot.set(Number(m[1]), Number(m[2]));
  }
  return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([, pid]) => pid);
}

/** Runs one of the two scenarios; see the module comment. */
export function workersUnderLoad(
  event: "roll" | "crash",
  p: WorkersParams,
): Promise<WorkersFigures> {
  return withinLab(`workers-${event}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: "calc-server", args: ["--workers", "2"] });
    // The lines logged before start() resolved are kept by the server; the rest come here.
    let log = server.stderrLines.join("\n");
    server.child.stderr?.on("data", (chunk: Buffer | string) => (log += String(chunk)));
    if (!/2 of 2 worker\(s\) listening/.test(log)) {
      await waitLog(server, /2 of 2 worker\(s\) listening/, 20_000);
    }
    const pidsBefore = pidsOf(log);
    const client = lab.client("pipeline", {
      port: server.port,
      conns: p.conns,
      depth: p.depth,
      lines: p.lines,
      burst: 0,
      app: "calc-server",
      maxMs: 60_000,
    });
    await client.next("ready", 30_000);
    client.send("mark");
    await client.next("mark", 10_000);
    const load = churn(server.port);
    const started = performance.now();
    if (event === "roll") {
      const done = waitLog(server, /rolling restart (done|stopped)[^\n]*/, 60_000);
      server.signal("SIGHUP");
      await done;
    } else {
      const relisten = waitLog(server, /main: worker 1 listening pid=\d+/, 30_000);
      process.kill(pidsOf(log, 1)[0] ?? 0, "SIGKILL");
      await relisten;
    }
    const recoveryMs = performance.now() - started;
    // A little more churn against the new workers.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const tally = await load.stop();
    const pidsAfter = pidsOf(log);
    let exitCode: number | null;
    let done: DoneEvent;
    if (event === "roll") {
      // The old workers end every pipelining connection once it is answered and quiet.
      done = await client.next<DoneEvent>("done", 90_000);
      exitCode = (await server.stop()).code;
    } else {
      // The surviving worker's connections end with the server's drain.
      exitCode = (await server.stop()).code;
      done = await client.next<DoneEvent>("done", 90_000);
    }
    const f: WorkersFigures = {
      event,
      conns: p.conns,
      lines: p.lines,
      recoveryMs,
      replies: done.replies,
      lostBeforeSignal: done.lost,
      sentAtMark: done.sentAtMark,
      connsComplete: 0,
      bad: done.bad,
      endings: done.endings,
      churnDone: tally.ok,
      churnRefused: tally.refused,
      churnLost: tally.lost,
      pidsBefore,
      pidsAfter,
      exitCode,
      problems: [],
    };
    f.connsComplete = Math.floor(done.replies / p.lines);
    f.problems = check(f, /rolling restart stopped/.test(log));
    return f;
  });
}

function check(f: WorkersFigures, rollStopped: boolean): string[] {
  const problems: string[] = [];
  if (f.exitCode !== 0) problems.push(`exit code ${f.exitCode}, not 0`);
  if (f.bad > 0) problems.push(`${f.bad} wrong replies`);
  if (f.churnRefused > 0) problems.push(`${f.churnRefused} connection attempts refused`);
  // A churn connection handed to the killed worker is one of its own, cut with it.
  if (f.churnLost > (f.event === "crash" ? 4 : 0)) {
    problems.push(`${f.churnLost} churn exchanges without their replies`);
  }
  if (f.churnDone === 0) problems.push("no churn exchange completed");
  if (f.event === "roll") {
    if (rollStopped) problems.push("the roll stopped");
    // As a single server's drain: lines written before the signal are all answered;
    // a connection the draining worker found quiet for 0.25 s is closed (see --help).
    if (f.lostBeforeSignal > 0) {
      problems.push(`${int(f.lostBeforeSignal)} lines written before SIGHUP never answered`);
    }
    if (f.pidsAfter.some((pid) => f.pidsBefore.includes(pid)))
      problems.push("a worker not replaced");
  } else {
    // Round-robin gave worker 1 about half of them: those are cut, the rest complete.
    if (f.connsComplete === 0) problems.push("every connection was cut, not only worker 1's");
    if (f.connsComplete === f.conns) problems.push("no connection was cut by the kill");
    if (f.pidsAfter[0] === f.pidsBefore[0]) problems.push("worker 1 not replaced");
  }
  return problems;
}

function rows(f: WorkersFigures): Row[] {
  const what = f.event === "roll" ? "SIGHUP to roll done" : "SIGKILL to new worker listening";
  return [
    { figure: "load", value: `${int(f.conns)} conns × ${int(f.lines)} pipelined lines + churn` },
    { figure: what, value: ms(f.recoveryMs) },
    {
      figure: "lines written before the signal / lost",
      value: `${int(f.sentAtMark)} / ${int(f.lostBeforeSignal)}`,
    },
    {
      figure: "pipelined lines answered / to write",
      value: `${int(f.replies)} / ${int(f.conns * f.lines)}`,
    },
    {
      figure: "pipelining conns complete / cut",
      value: `${int(f.connsComplete)} / ${int(f.conns - f.connsComplete)}`,
    },
    { figure: "pipelining conns ended by", value: describeTally(f.endings) },
    {
      figure: "churn: served / refused / lost",
      value: `${int(f.churnDone)} / ${int(f.churnRefused)} / ${int(f.churnLost)}`,
    },
    { figure: "worker pids before → after", value: `${f.pidsBefore} → ${f.pidsAfter}` },
    { figure: "exit code after SIGTERM", value: String(f.exitCode) },
  ];
}

export const workersRollScenario: Scenario<WorkersParams, WorkersFigures> = {
  name: "workers-roll",
  summary: "--workers 2: SIGHUP rolling restart under 100 pipelining conns and a connection churn",
  full: { conns: 100, depth: 8, lines: 3000, timeoutMs: 120_000 },
  quick: { conns: 100, depth: 8, lines: 500, timeoutMs: 60_000 },
  run: (p) => workersUnderLoad("roll", p),
  rows,
};

export const workersCrashScenario: Scenario<WorkersParams, WorkersFigures> = {
  name: "workers-crash",
  summary: "--workers 2: SIGKILL of one worker under 100 pipelining conns and a connection churn",
  full: { conns: 100, depth: 8, lines: 3000, timeoutMs: 120_000 },
  quick: { conns: 100, depth: 8, lines: 500, timeoutMs: 60_000 },
  run: (p) => workersUnderLoad("crash", p),
  rows,
};
