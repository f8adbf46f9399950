/**
 * The servers under test. Every peer takes `--host` and `--port` on its command line;
 * the runner picks the port. A peer that cannot run here is resolved to a skip reason
 * once, before the first round, and every row of it says why.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** `line` is seed 002's line echo (`Echoed: 'LINE'`), a line server as the calculator is. */
export type App = "echo" | "calc" | "line";
export type Family = "raw" | "floor" | "asyncnet" | "asyncio" | "uvloop";
export type Style = "raw" | "streams" | "protocol";
/** What runs the peer: Node, or Bun and Deno (asyncnet through their Node compatibility). */
export type Runtime = "node" | "bun" | "deno";

/** Why a row has no numbers. The quick test accepts only the first two as skips. */
export type SkipCode = "uvloop-missing" | "asyncnet-missing" | "python-missing" | "runtime-missing";

export interface PeerSpec {
  /** Row name, unique within an app: `raw-node`, `asyncnet-streams`, `uvloop`, … */
  id: string;
  app: App;
  family: Family;
  style: Style;
  /** The uvloop peer whose numbers this row is divided by in the ×uvloop column. */
  uvloopBaseline: string;
  runtime: Runtime;
  /** The raw peer of the same runtime, divided by in the ×raw column. */
  rawBaseline: string;
  /** Whose asyncnet: this tree's, or the `--baseline` checkout's. Default this tree's. */
  tree?: "baseline";
  /**
   * A raw peer on Bun or Deno that is the `node:net` one (`raw-echo.js`, `raw-calc.js`)
   * through the runtime's Node compatibility: ×raw is then what that layer costs.
   */
  nodeNet?: true;
}

export interface PeerCommand {
  command: string;
  args: (host: string, port: number) => string[];
}

export type Resolved =
  { ok: true; cmd: PeerCommand } | { ok: false; code: SkipCode; reason: string };

/** What the machine offers, probed once. */
export interface Environment {
  root: string;
  python: string | null;
  pythonVersion: string;
  uvloopPython: string | null;
  uvloopVersion: string;
  asyncnetCli: string | null;
  /** The `--baseline` checkout's CLI, when one was given. */
  baselineCli: string | null;
  /** Bun and Deno binaries found (see {@link runtimeCache}), and their versions. */
  bun: string | null;
  bunVersion: string;
  deno: string | null;
  denoVersion: string;
}

function spec(
  app: App,
  id: string,
  family: Family,
  style: Style,
  uvloopBaseline: string,
  runtime: Runtime = "node",
): PeerSpec {
  const rawBaseline = runtime === "node" ? "raw-node" : `raw-${runtime}`;
  return { id, app, family, style, uvloopBaseline, runtime, rawBaseline };
}

/** The echo peer every ×floor is divided by: one promise per message on `node:net`. */
export const FLOOR_PEER = "floor-node";

/** Peers in table order; the raw `node:net` one first, as every ×raw is divided by it. */
export const PEERS: readonly PeerSpec[] = [
  spec("echo", "raw-node", "raw", "raw", "uvloop-protocol"),
  spec("echo", FLOOR_PEER, "floor", "streams", "uvloop-streams"),
  spec("echo", "asyncnet-streams", "asyncnet", "streams", "uvloop-streams"),
  spec("echo", "asyncnet-protocol", "asyncnet", "protocol", "uvloop-protocol"),
  spec("echo", "asyncio-streams", "asyncio", "streams", "uvloop-streams"),
  spec("echo", "asyncio-protocol", "asyncio", "protocol", "uvloop-protocol"),
  spec("echo", "uvloop-streams", "uvloop", "streams", "uvloop-streams"),
  spec("echo", "uvloop-protocol", "uvloop", "protocol", "uvloop-protocol"),
  spec("calc", "raw-node", "raw", "raw", "uvloop"),
  spec("calc", "asyncnet", "asyncnet", "streams", "uvloop"),
  spec("calc", "asyncio", "asyncio", "streams", "uvloop"),
  spec("calc", "uvloop", "uvloop", "streams", "uvloop"),
  spec("line", "raw-node", "raw", "raw", ""),
  spec("line", "asyncnet", "asyncnet", "streams", ""),
  // What asyncnet costs on the other runtimes, beside their own raw socket APIs.
  ...(["bun", "deno"] as const).flatMap((rt) => [
    spec("echo", `raw-${rt}`, "raw", "raw", "uvloop-protocol", rt),
    {
      ...spec("echo", `raw-net-${rt}`, "raw", "raw", "uvloop-protocol", rt),
      nodeNet: true as const,
    },
    spec("echo", `asyncnet-streams-${rt}`, "asyncnet", "streams", "uvloop-streams", rt),
    spec("calc", `raw-${rt}`, "raw", "raw", "uvloop", rt),
    { ...spec("calc", `raw-net-${rt}`, "raw", "raw", "uvloop", rt), nodeNet: true as const },
    spec("calc", `asyncnet-${rt}`, "asyncnet", "streams", "uvloop", rt),
  ]),
];

/**
 * The peers of a run: {@link PEERS}, and with a baseline checkout, a copy of each Node
 * asyncnet peer right after it, named `ID@base`, with the same ×raw and ×uvloop baselines.
 */
export function peersWithBaseline(baseline: boolean): PeerSpec[] {
  if (!baseline) return [...PEERS];
  return PEERS.flatMap((p) =>
    p.family === "asyncnet" && p.runtime === "node"
      ? [p, { ...p, id: `${p.id}@base`, tree: "baseline" as const }]
      : [p],
  );
}

/**
 * Where Bun and Deno are looked for first: `$ASYNCNET_BENCH_RUNTIMES` or else
 * `~/.cache/asyncnet-bench`, holding `bun/` and `deno/` as left by
 * `npm i --prefix DIR/bun bun` and `npm i --prefix DIR/deno deno`; then the cache that
 * `.ci/runtimes.sh` fills ({@link ciRuntimeCache}); then `bun` and `deno` on the PATH.
 * Never the project's own node_modules: they are no dependency.
 */
export function runtimeCache(): string {
  return process.env.ASYNCNET_BENCH_RUNTIMES ?? path.join(os.homedir(), ".cache", "asyncnet-bench");
}

/** The folder `.ci/runtimes.sh` installs into (its own default, kept in step with it). */
export function ciRuntimeCache(): string {
  const xdg = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return process.env.ASYNCNET_RUNTIMES_DIR ?? path.join(xdg, "asyncnet-runtimes");
}

// `.ci/runtimes.sh` installs with --ignore-scripts, so the packages' .bin links point at
// placeholders: the binaries are the platform packages' own (as its binary_of says).
const CI_BINARY = {
  bun: path.join("node_modules", "@oven", "bun-linux-x64", "bin", "bun"),
  deno: path.join("node_modules", "@deno", "linux-x64-glibc", "deno"),
};

function probeRuntime(name: "bun" | "deno"): [string, string] | null {
  const candidates = [
    path.join(runtimeCache(), name, "node_modules", ".bin", name),
    path.join(ciRuntimeCache(), name, CI_BINARY[name]),
    name,
  ];
  for (const binary of candidates) {
    const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
    if (result.status === 0) return [binary, result.stdout.split("\n", 1)[0]?.trim() ?? ""];
  }
  return null;
}

function probePython(candidates: readonly string[], code: string): [string, string] | null {
  for (const python of candidates) {
    const result = spawnSync(python, ["-c", code], { encoding: "utf8", timeout: 10_000 });
    if (result.status === 0) return [python, result.stdout.trim()];
  }
  return null;
}

/** Looks for python3, uvloop (Debian's python3-uvloop is for /usr/bin/python3) and the CLI. */
export function probeEnvironment(root: string): Environment {
  const python = probePython(["python3"], "import sys; print(sys.version.split()[0])");
  const uvloop = probePython(
    ["/usr/bin/python3", "python3"],
    "import sys, uvloop; print(sys.version.split()[0], 'uvloop', uvloop.__version__)",
  );
  const cli = path.join(root, "dist", "src", "cli", "main.js");
  const bun = probeRuntime("bun");
  const deno = probeRuntime("deno");
  return {
    root,
    python: python?.[0] ?? null,
    pythonVersion: python?.[1] ?? "",
    uvloopPython: uvloop?.[0] ?? null,
    uvloopVersion: uvloop?.[1] ?? "",
    asyncnetCli: existsSync(cli) ? cli : null,
    baselineCli: null,
    bun: bun?.[0] ?? null,
    bunVersion: bun?.[1] ?? "",
    deno: deno?.[0] ?? null,
    denoVersion: deno?.[1] ?? "",
  };
}

/** The asyncnet CLI command that serves each app. */
const SERVER_COMMAND: Record<App, string> = {
  echo: "echo-server",
  calc: "calc-server",
  line: "line-echo-server",
};

const hostPort = (host: string, port: number) => ["--host", host, "--port", String(port)];

/** The command that starts `peer`, or why it cannot start here. */
export function resolvePeer(peer: PeerSpec, env: Environment): Resolved {
  if (peer.runtime !== "node") return resolveOnRuntime(peer, env);
  const bench = path.join(env.root, "bench");
  const dist = path.join(env.root, "dist", "bench", "peers");
  switch (peer.family) {
    case "raw":
    case "floor": {
      const name = peer.family === "floor" ? "floor" : "raw";
      const app = peer.app === "line" ? "line-echo" : peer.app;
      const file = path.join(dist, `${name}-${app}.js`);
      return {
        ok: true,
        cmd: { command: process.execPath, args: (h, p) => [file, ...hostPort(h, p)] },
      };
    }
    case "asyncnet": {
      if (env.asyncnetCli === null) {
        return {
          ok: false,
          code: "asyncnet-missing",
          reason: "asyncnet CLI not built (dist/src/cli/main.js missing)",
        };
      }
      const cli = peer.tree === "baseline" ? (env.baselineCli ?? "") : env.asyncnetCli;
      const command = SERVER_COMMAND[peer.app];
      const style = peer.style === "protocol" ? ["--style", "protocol"] : [];
      return {
        ok: true,
        cmd: {
          command: process.execPath,
          args: (h, p) => [cli, command, ...hostPort(h, p), ...style, "--log-level", "warn"],
        },
      };
    }
    case "asyncio":
    case "uvloop": {
      const python = peer.family === "uvloop" ? env.uvloopPython : env.python;
      if (python === null) {
        return peer.family === "uvloop"
          ? {
              ok: false,
              code: "uvloop-missing",
              reason: "uvloop not installed (apt-get install python3-uvloop, for /usr/bin/python3)",
            }
          : { ok: false, code: "python-missing", reason: "python3 not found" };
      }
      const script =
        peer.app === "calc"
          ? "calc.py"
          : peer.style === "protocol"
            ? "echo_protocol.py"
            : "echo_streams.py";
      const file = path.join(bench, "peers", "python", script);
      const flag = peer.family === "uvloop" ? ["--uvloop"] : [];
      return {
        ok: true,
        // -B: no __pycache__ left in the work tree
        cmd: { command: python, args: (h, p) => ["-B", file, ...hostPort(h, p), ...flag] },
      };
    }
  }
}

/** A peer on Bun or Deno: their raw socket API, or asyncnet's CLI through their Node compatibility. */
function resolveOnRuntime(peer: PeerSpec, env: Environment): Resolved {
  const binary = peer.runtime === "bun" ? env.bun : env.deno;
  if (binary === null) {
    const dir = path.join(runtimeCache(), peer.runtime);
    return {
      ok: false,
      code: "runtime-missing",
      reason: `${peer.runtime} not found (bash .ci/runtimes.sh ${peer.runtime}, or npm i --prefix ${dir} ${peer.runtime})`,
    };
  }
  const run = peer.runtime === "deno" ? ["run", "-A"] : [];
  if (peer.family === "raw" && peer.nodeNet === true) {
    const file = path.join(env.root, "dist", "bench", "peers", `raw-${peer.app}.js`);
    return {
      ok: true,
      cmd: { command: binary, args: (h, p) => [...run, file, ...hostPort(h, p)] },
    };
  }
  if (peer.family === "raw") {
    const file = path.join(env.root, "dist", "bench", "peers", `${peer.runtime}-raw.js`);
    return {
      ok: true,
      cmd: { command: binary, args: (h, p) => [...run, file, peer.app, ...hostPort(h, p)] },
    };
  }
  if (env.asyncnetCli === null) {
    return {
      ok: false,
      code: "asyncnet-missing",
      reason: "asyncnet CLI not built (dist/src/cli/main.js missing)",
    };
  }
  const cli = env.asyncnetCli;
  const command = SERVER_COMMAND[peer.app];
  return {
    ok: true,
    cmd: {
      command: binary,
      args: (h, p) => [...run, cli, command, ...hostPort(h, p), "--log-level", "warn"],
    },
  };
}
