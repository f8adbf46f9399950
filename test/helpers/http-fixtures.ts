/**
 * Local servers and a CLI runner for the http-head and wget tests: Node's
 * `http` / `https` servers, a raw `net` server for replies no HTTP server
 * would send, and a self-signed certificate made by the `openssl` CLI.
 *
 * @module
 */

import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runtimeArgs, testRuntime } from "./runtime.js";

/** The built CLI, next to this file once compiled: dist/test/helpers → dist/src/cli/main.js. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** Every wait in these tests is bounded by this, in ms. */
export const WAIT_MS = 30_000;

/** A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, and its files. */
export interface TestCertificate {
  key: string;
  cert: string;
  certPath: string;
  dir: string;
}

/** Makes a temporary directory that the OS cleans; tests remove theirs in `after`. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Generates a self-signed P-256 certificate with the `openssl` CLI into a new temp directory. */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await makeTempDir("asyncnet-cert-");
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  await promisify(execFile)(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ],
    { timeout: WAIT_MS },
  );
  const [key, cert] = await Promise.all([readFile(keyPath, "utf8"), readFile(certPath, "utf8")]);
  return { key, cert, certPath, dir };
}

/** A listening server and how to reach it. */
export interface RunningServer {
  port: number;
  /** `scheme://host:port` + path; IPv6 hosts in brackets. */
  url(path?: string): string;
  close(): Promise<void>;
}

function listen(
  server: net.Server,
  host: string,
  scheme: string,
  onClose?: () => void,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      const { port } = server.address() as net.AddressInfo;
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({
        port,
        url: (path = "/") => `${scheme}://${shown}:${port}${path}`,
        close: () =>
          new Promise<void>((done) => {
            onClose?.();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Starts Node's HTTP server with `handler` on `host` (default 127.0.0.1), port 0. */
export function startHttpServer(
  handler: http.RequestListener,
  host = "127.0.0.1",
): Promise<RunningServer> {
  const server = http.createServer(handler);
  return listen(server, host, "http", () => server.closeAllConnections());
}

/** Starts Node's HTTPS server with `handler` and the certificate, port 0. */
export function startHttpsServer(
  handler: http.RequestListener,
  certificate: TestCertificate,
  host = "127.0.0.1",
): Promise<RunningServer> {
  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, handler);
  return listen(server, host, "https", () => server.closeAllConnections());
}

/**
 * Starts a raw TCP server that reads each request head (up to `\r\n\r\n`),
 * records it in `requests` and lets `reply` answer on the socket. With
 * `holdOpen`, the client's EOF does not end the server's side (Node's
 * `allowHalfOpen`): the connection stays open until `reply` ends it or the
 * server closes, as a hostile server keeps it.
 */
export async function startRawServer(
  reply: (socket: net.Socket, request: string) => void,
  host = "127.0.0.1",
  options: { holdOpen?: boolean } = {},
): Promise<RunningServer & { requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: options.holdOpen === true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let received = "";
    socket.on("data", (data) => {
      if (received.includes("\r\n\r\n")) return;
      received += data.toString("latin1");
      if (received.includes("\r\n\r\n")) {
        requests.push(received);
        reply(socket, received);
      }
    });
  });
  const running = await listen(server, host, "http", () => {
    for (const socket of sockets) socket.destroy();
  });
  return { ...running, requests };
}

/**
 * How long after the client's FIN its socket was gone, in ms: from the
 * client's EOF (`end`), the server writes a byte every 20 ms until the
 * client's kernel answers with a reset. A client that destroys its socket
 * resets within a write or two; one that lingers after its FIN (reading on,
 * waiting for the server's EOF) keeps accepting bytes until it gives up.
 * `0` when the socket failed before any EOF. Rejects after `WAIT_MS`.
 */
export function clientGoneAfterEof(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let eofAt: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const bound = setTimeout(() => done(new Error("client socket still open")), WAIT_MS);
    const done = (error?: Error) => {
      clearTimeout(bound);
      clearInterval(timer);
      if (error !== undefined) reject(error);
      else resolve(eofAt === undefined ? 0 : performance.now() - eofAt);
    };
    socket.on("error", () => done());
    socket.on("close", () => done());
    socket.once("end", () => {
      eofAt = performance.now();
      timer = setInterval(() => socket.write("x"), 20);
    });
  });
}

/**
 * Runs `node dist/src/cli/main.js ...args` with a stdout pipe read slowly:
 * 16 KiB every 10 ms until `fastBytes` arrived, then nothing for `pauseMs`,
 * then all. So the CLI's writes meet a full pipe late in the body. Killed
 * (and the result has `signal`) after `WAIT_MS`.
 */
export function runCliSlowStdout(
  args: string[],
  options: { fastBytes: number; pauseMs: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(testRuntime().command, runtimeArgs(CLI, args), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let received = 0;
    let pausedAt: number | undefined;
    const take = (chunk: Buffer | null) => {
      if (chunk === null) return;
      stdout.push(chunk);
      received += chunk.length;
    };
    // Paused, the buffer is read out; then flowing, the rest comes as `data`. Once
    // only: a flowing stream's read() emits `data` too. Node also resumes a paused
    // stdout when the child exits, dropping what no listener takes.
    let flowing = false;
    const takeTheRest = () => {
      if (flowing) return;
      flowing = true;
      clearInterval(pump);
      for (let chunk = child.stdout.read(); chunk !== null; chunk = child.stdout.read())
        take(chunk);
      child.stdout.on("data", take);
      child.stdout.resume();
    };
    child.stdout.pause();
    const pump = setInterval(() => {
      if (received < options.fastBytes) {
        take(child.stdout.read(16 * 1024) ?? child.stdout.read());
        return;
      }
      pausedAt ??= performance.now();
      if (performance.now() - pausedAt >= options.pauseMs) takeTheRest();
    }, 10);
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      clearInterval(pump);
      reject(error);
    });
    child.once("exit", takeTheRest);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}

/** A port that nothing listens on: a server's, once closed. */
export async function closedPort(): Promise<number> {
  const server = await startRawServer(() => {});
  await server.close();
  return server.port;
}

/** What a run of the CLI left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `node dist/src/cli/main.js ...args` in `cwd` and collects its output.
 * Killed (and the result has `signal`) after `WAIT_MS`.
 */
export function runCli(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(testRuntime().command, runtimeArgs(CLI, args), {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}
