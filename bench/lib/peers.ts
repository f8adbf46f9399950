/**
 * The servers under test. Every peer takes `--host` and `--port` on its command line;
 * the runner picks the port. A peer that cannot run here is resolved to a skip reason
 * once, before the first round, and every row of it says why.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

export type App = "echo" | "calc";
export type Family = "raw" | "floor" | "asyncnet" | "asyncio" | "uvloop";
export type Style = "raw" | "streams" | "protocol";

/** Why a row has no numbers. The quick test accepts only the first two as skips. */
export type SkipCode = "uvloop-missing" | "asyncnet-missing" | "python-missing";

export interface PeerSpec {
  /** Row name, unique within an app: `raw-node`, `asyncnet-streams`, `uvloop`, … */
  id: string;
  app: App;
  family: Family;
  style: Style;
  /** The uvloop peer whose numbers this row is divided by in the ×uvloop column. */
  uvloopBaseline: string;
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
}

function spec(
  app: App,
  id: string,
  family: Family,
  style: Style,
  uvloopBaseline: string,
): PeerSpec {
  return { id, app, family, style, uvloopBaseline };
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
];

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
  return {
    root,
    python: python?.[0] ?? null,
    pythonVersion: python?.[1] ?? "",
    uvloopPython: uvloop?.[0] ?? null,
    uvloopVersion: uvloop?.[1] ?? "",
    asyncnetCli: existsSync(cli) ? cli : null,
  };
}

const hostPort = (host: string, port: number) => ["--host", host, "--port", String(port)];

/** The command that starts `peer`, or why it cannot start here. */
export function resolvePeer(peer: PeerSpec, env: Environment): Resolved {
  const bench = path.join(env.root, "bench");
  const dist = path.join(env.root, "dist", "bench", "peers");
  switch (peer.family) {
    case "raw":
    case "floor": {
      const name = peer.family === "floor" ? "floor" : "raw";
      const file = path.join(dist, `${name}-${peer.app}.js`);
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
      const cli = env.asyncnetCli;
      const command = peer.app === "echo" ? "echo-server" : "calc-server";
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
