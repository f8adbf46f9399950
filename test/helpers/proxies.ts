/**
 * Real load balancers for tests: HAProxy and nginx started from the configs
 * checked into `deploy/`, their `{{...}}` placeholders filled in, on free
 * loopback ports, as the current user, with pid and log files in a temp dir.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir, WAIT_MS } from "./net.js";
import { waitFor } from "./with-timeout.js";

/** The repository's `deploy/` (this file is dist/test/helpers/proxies.js). */
export const DEPLOY_DIR = fileURLToPath(new URL("../../../deploy/", import.meta.url));

/** The binary's path if it is installed (on PATH or in /usr/sbin), else `undefined`. */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"]) {
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** A port on 127.0.0.1 that was free a moment ago (bound to 0, then closed). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `deploy/<name>` with every `{{KEY}}` replaced by `vars[KEY]`; throws on one left unfilled. */
export function fillTemplate(name: string, vars: Record<string, string | number>): string {
  const text = readFileSync(join(DEPLOY_DIR, name), "utf8").replace(
    /\{\{([A-Z0-9_]+)\}\}/g,
    (whole, key: string) => (key in vars ? String(vars[key]) : whole),
  );
  const left = /\{\{[A-Z0-9_]+\}\}/.exec(text);
  if (left !== null) throw new Error(`${name}: placeholder ${left[0]} not filled`);
  return text;
}

/** A running proxy process. */
export interface RunningProxy {
  /** The ports it was configured with, by placeholder name. */
  ports: Record<string, number>;
  /** The temp dir of its config, pid and log files. */
  dir: string;
  /** Everything it logged so far (its log file and its stdout/stderr). */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL after a bound) and removes its dir. */
  stop(): Promise<void>;
}

interface Launch {
  /** The placeholder names of the ports to allocate. */
  portNames: readonly string[];
  /** Writes the config into `dir` with `ports`; returns the command line. */
  prepare(dir: string, ports: Record<string, number>): { command: string; args: string[] };
  /** Log files it writes besides stdout/stderr. */
  logFiles(dir: string): string[];
}

async function launch(spec: Launch): Promise<RunningProxy> {
  let lastError: Error | undefined;
  // A port picked free may be taken before the proxy binds it: retry with new ones.
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = makeTempDir();
    const ports: Record<string, number> = {};
    for (const name of spec.portNames) ports[name] = await freePort();
    const { command, args } = spec.prepare(dir, ports);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
    let exited = false;
    const exit = new Promise<void>((resolve) => {
      child.once("exit", () => {
        exited = true;
        resolve();
      });
      child.once("error", (error) => {
        lastError = error;
        exited = true;
        resolve();
      });
    });
    const log = () =>
      [
        Buffer.concat(output).toString("utf8"),
        ...spec.logFiles(dir).map((f) => (existsSync(f) ? readFileSync(f, "utf8") : "")),
      ].join("");
    const listening = async () => {
      for (const port of Object.values(ports)) {
        if (!(await canConnect(port))) return false;
      }
      return true;
    };
    try {
      const deadline = Date.now() + WAIT_MS;
      while (!exited && !(await listening())) {
        if (Date.now() > deadline) throw new Error(`${command} did not listen:\n${log()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (error) {
      await stopChild(child, exit);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    if (!exited) {
      return {
        ports,
        dir,
        log,
        stop: async () => {
          await stopChild(child, exit);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = new Error(`${command} exited at start:\n${log()}`);
    rmSync(dir, { recursive: true, force: true });
  }
  throw lastError ?? new Error("proxy did not start");
}

async function stopChild(child: ChildProcess, exit: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exit;
  clearTimeout(timer);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * HAProxy from `deploy/<configName>` (default `haproxy.cfg`) in front of
 * `serverPort`; `ports` has the `portNames` (default FRONT_V1_PORT, FRONT_V2_PORT).
 */
export async function startHaproxy(
  binary: string,
  serverPort: number,
  configName = "haproxy.cfg",
  portNames: readonly string[] = ["FRONT_V1_PORT", "FRONT_V2_PORT"],
): Promise<RunningProxy & { stats(command: string): Promise<string> }> {
  const proxy = await launch({
    portNames,
    prepare: (dir, ports) => {
      const config = join(dir, "haproxy.cfg");
      writeFileSync(
        config,
        fillTemplate(configName, {
          ...ports,
          SERVER_PORT: serverPort,
          STATS_SOCKET: join(dir, "stats.sock"),
        }),
      );
      // -db: in the foreground, so the test owns the process; -p: its pid file.
      return { command: binary, args: ["-db", "-f", config, "-p", join(dir, "haproxy.pid")] };
    },
    logFiles: () => [],
  });
  const stats = (command: string) => askStats(join(proxy.dir, "stats.sock"), command);
  return { ...proxy, stats };
}

function askStats(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ path });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.end(`${command}\n`);
  });
}

/**
 * One server's row of HAProxy's `show stat` CSV, by column name (`status`,
 * `check_status`, `chkfail`, ...), or `undefined` when not listed.
 */
export function statRow(
  csv: string,
  backend: string,
  server: string,
): Record<string, string> | undefined {
  const lines = csv.split("\n");
  const header = lines[0]?.replace(/^# /, "").split(",") ?? [];
  for (const line of lines.slice(1)) {
    const fields = line.split(",");
    if (fields[0] === backend && fields[1] === server) {
      return Object.fromEntries(header.map((name, i) => [name, fields[i] ?? ""]));
    }
  }
  return undefined;
}

/** The `load_module` line for nginx's stream module, when it is a module (Debian), else "". */
export function nginxStreamModuleLine(): string {
  const candidates = [
    "/usr/lib/nginx/modules/ngx_stream_module.so",
    "/usr/lib64/nginx/modules/ngx_stream_module.so",
  ];
  const found = candidates.find((path) => existsSync(path));
  return found === undefined ? "" : `load_module ${found};`;
}

/** Whether `nginx -V` says the stream module is built in or `nginxStreamModuleLine` finds it. */
export function nginxHasStream(binary: string): boolean {
  const version = spawnSync(binary, ["-V"], { encoding: "utf8" });
  return /--with-stream(\s|$)/.test(version.stderr) || nginxStreamModuleLine() !== "";
}

/** nginx from `deploy/nginx.conf` in front of `serverPort`; `ports` has FRONT_PORT. */
export async function startNginx(binary: string, serverPort: number): Promise<RunningProxy> {
  return launch({
    portNames: ["FRONT_PORT"],
    prepare: (dir, ports) => {
      const config = join(dir, "nginx.conf");
      writeFileSync(
        config,
        fillTemplate("nginx.conf", {
          ...ports,
          SERVER_PORT: serverPort,
          LOAD_STREAM_MODULE: nginxStreamModuleLine(),
          PID_FILE: join(dir, "nginx.pid"),
          ERROR_LOG: join(dir, "error.log"),
        }),
      );
      // -p: relative paths under dir; -e: the log before the config is read.
      return {
        command: binary,
        args: ["-c", config, "-p", dir, "-e", join(dir, "error.log")],
      };
    },
    logFiles: (dir) => [join(dir, "error.log")],
  });
}

/** Waits until `predicate()` holds (polled), bounded by {@link WAIT_MS}. */
export function waitUntil(predicate: () => boolean, what: string): Promise<void> {
  return waitFor(predicate, WAIT_MS, what);
}
