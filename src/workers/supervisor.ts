/**
 * The primary of a multi-process server: forks the workers (node:cluster,
 * round-robin over the primary's listening sockets), replaces the ones that
 * die, rolls them on request, and stops them all on SIGTERM/SIGINT.
 *
 * @module
 */

import cluster, { type Worker } from "node:cluster";
import {
  type FarewellMessage,
  isWorkerMessage,
  type StopMessage,
  WORKER_SLOT_ENV,
} from "./worker-messages.js";

/** Where the supervisor logs: the CLI's `Logger` fits. */
export interface SupervisorLog {
  /** A worker started, listened, was replaced or stopped. */
  info(message: string): void;
  /** A worker died and was respawned, or a roll was stopped. */
  warn(message: string): void;
  /** A crash loop stopped respawning, or a worker could not start. */
  error(message: string): void;
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  /**
   * How long (ms) a worker told to drain may take before the primary kills it
   * with SIGKILL, on top of the 5 s it leaves the worker for its own grace
   * handling. Default 10 000, as the CLI's `--grace`.
   */
  grace?: number;
  /** How long (ms) a new worker may take to report `listening`; then it is killed. Default 30 000. */
  startTimeout?: number;
  /** Worker deaths within {@link SupervisorOptions.crashWindow} that stop the respawns. Default 5. */
  crashLimit?: number;
  /** The window (ms) of {@link SupervisorOptions.crashLimit}. Default 10 000. */
  crashWindow?: number;
  /** Where to log. Default: nothing. */
  log?: SupervisorLog;
  /**
   * Called once with the addresses the first worker listens on (the real
   * port, when it was 0: every worker shares those sockets). Default: none.
   */
  onListening?: (addresses: readonly string[]) => void;
  /** Extra environment variables for every worker. */
  env?: NodeJS.ProcessEnv;
}

/** One worker process, as the primary sees it. */
interface Child {
  worker: Worker;
  slot: number;
  pid: number;
  listening: boolean;
  retiring: boolean;
  /** Resolves true once it listens, false if it exited (or timed out) first. */
  ready: Promise<boolean>;
  exitText?: string;
}

const QUIET: SupervisorLog = { info() {}, warn() {}, error() {} };

/** The delay before respawning after the `n`th death in the window: 100 ms doubling, at most 5 s. */
function backoff(n: number): number {
  return Math.min(5000, 100 * 2 ** Math.max(0, n - 1));
}

function describeExit(code: number | null, signal: string | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code ?? "unknown"}`;
}

/**
 * Supervises `count` workers from the primary process. `start()` forks slot 1
 * first and the others once it listens (so a bad flag or a port in use is
 * reported once); `closed` resolves with the exit code the primary should
 * leave with: 0 after {@link Supervisor.stop}, 130 after a second stop
 * (abort), 1 when every worker died and none may be respawned, or the exit
 * code of the first worker when it failed before listening.
 *
 * A worker that dies unasked is logged with its exit code or signal and
 * replaced after a backoff (100 ms, doubling per recent death, at most 5 s);
 * `crashLimit` deaths within `crashWindow` stop the respawns (logged at error
 * level) while the workers left keep serving.
 */
export class Supervisor {
  readonly #count: number;
  readonly #grace: number;
  readonly #startTimeout: number;
  readonly #crashLimit: number;
  readonly #crashWindow: number;
  readonly #log: SupervisorLog;
  readonly #env: NodeJS.ProcessEnv;
  readonly #onListening: ((addresses: readonly string[]) => void) | undefined;
  #firstAddresses: readonly string[] = [];
  readonly #slots = new Map<number, Child | undefined>();
  readonly #alive = new Set<Child>();
  readonly #respawns = new Set<NodeJS.Timeout>();
  #deaths: number[] = [];
  #crashLooping = false;
  #stopping = false;
  #aborted = false;
  #rolling = false;
  #done = false;
  /** While the first worker starts: its failure ends the primary, it is not a death to respawn. */
  #first = true;
  #resolveClosed!: (code: number) => void;
  /** Resolves with the primary's exit code once every worker has exited. */
  readonly closed: Promise<number>;

  constructor(count: number, options: SupervisorOptions = {}) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot supervise workers: count must be an integer >= 1, got ${count}`);
    }
    this.#count = count;
    this.#grace = options.grace ?? 10_000;
    this.#startTimeout = options.startTimeout ?? 30_000;
    this.#crashLimit = options.crashLimit ?? 5;
    this.#crashWindow = options.crashWindow ?? 10_000;
    this.#log = options.log ?? QUIET;
    this.#env = options.env ?? {};
    this.#onListening = options.onListening;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Whether `stop()` was called: the workers drain, and no new one is started. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The pids of the workers serving now, by slot (a slot waiting for a respawn is left out). */
  get pids(): number[] {
    return [...this.#slots.values()].flatMap((c) => (c?.listening === true ? [c.pid] : []));
  }

  /** Forks the workers; resolves once every slot listens, or the first failed (see `closed`). */
  async start(): Promise<void> {
    // Round-robin in the primary on every platform (it is Node's default except on Windows).
    cluster.schedulingPolicy = cluster.SCHED_RR;
    const first = this.#fork(1);
    this.#slots.set(1, first);
    const ok = await first.ready;
    this.#first = false;
    if (ok) this.#onListening?.(this.#firstAddresses);
    if (!ok) {
      if (!this.#stopping) this.#finish(first.worker.process.exitCode ?? 1);
      return;
    }
    const rest: Child[] = [];
    for (let slot = 2; slot <= this.#count && !this.#stopping; slot++) {
      const child = this.#fork(slot);
      this.#slots.set(slot, child);
      rest.push(child);
    }
    await Promise.all(rest.map((c) => c.ready));
    if (!this.#stopping) {
      this.#log.info(`${this.pids.length} of ${this.#count} worker(s) listening`);
    }
  }

  #fork(slot: number): Child {
    const worker = cluster.fork({ ...this.#env, [WORKER_SLOT_ENV]: String(slot) });
    let settle!: (ok: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (settle = resolve));
    const child: Child = {
      worker,
      slot,
      pid: worker.process.pid ?? 0,
      listening: false,
      retiring: false,
      ready,
    };
    this.#alive.add(child);
    const timer = setTimeout(() => {
      this.#log.error(
        `worker ${slot} (pid ${child.pid}) not listening after ${this.#startTimeout / 1000} s: killed`,
      );
      worker.process.kill("SIGKILL");
    }, this.#startTimeout);
    worker.on("message", (message: unknown) => {
      if (isWorkerMessage(message, "closing")) {
        const bye: FarewellMessage = { asyncnet: "bye" };
        if (worker.isConnected()) worker.send(bye);
        return;
      }
      if (!isWorkerMessage(message, "listening") || child.listening) return;
      clearTimeout(timer);
      child.listening = true;
      if (this.#first) this.#firstAddresses = message.addresses;
      this.#log.info(
        `worker ${slot} listening pid=${child.pid} on ${message.addresses.join(", ")}`,
      );
      settle(true);
    });
    // A send to a worker that just died fails with EPIPE: its exit event tells the rest.
    worker.on("error", () => {});
    worker.on("exit", (code, signal) => {
      clearTimeout(timer);
      child.exitText = describeExit(code, signal);
      settle(false);
      this.#onExit(child);
    });
    return child;
  }

  #onExit(child: Child): void {
    this.#alive.delete(child);
    const current = this.#slots.get(child.slot) === child;
    if (this.#stopping) {
      if (this.#alive.size === 0) this.#finish(this.#aborted ? 130 : 0);
      return;
    }
    if (this.#first) return;
    if (child.retiring) {
      this.#log.info(`worker ${child.slot} (pid ${child.pid}) drained: ${child.exitText}`);
      return;
    }
    // A roll's replacement that failed before listening is reported by the roll.
    if (!current) return;
    this.#slots.set(child.slot, undefined);
    this.#log.warn(`worker ${child.slot} (pid ${child.pid}) died: ${child.exitText}`);
    const now = Date.now();
    this.#deaths = [...this.#deaths.filter((t) => now - t < this.#crashWindow), now];
    if (!this.#crashLooping && this.#deaths.length >= this.#crashLimit) {
      this.#crashLooping = true;
      for (const timer of this.#respawns) clearTimeout(timer);
      this.#respawns.clear();
      this.#log.error(
        `crash loop: ${this.#deaths.length} worker deaths within ${this.#crashWindow / 1000} s: ` +
          `no more respawns; ${this.pids.length} worker(s) still serving`,
      );
    }
    if (this.#crashLooping) {
      if (this.#alive.size === 0) {
        this.#log.error("no worker left: stopping");
        this.#finish(1);
      }
      return;
    }
    const delay = backoff(this.#deaths.length);
    const timer = setTimeout(() => {
      this.#respawns.delete(timer);
      if (this.#stopping || this.#crashLooping) return;
      // A roll's replacement may have taken the slot meanwhile.
      if (this.#slots.get(child.slot) !== undefined) return;
      this.#log.info(`respawning worker ${child.slot}`);
      this.#slots.set(child.slot, this.#fork(child.slot));
    }, delay);
    this.#respawns.add(timer);
  }

  /**
   * A rolling restart: for each slot in turn a replacement is forked, and
   * only once it listens is the old worker told to drain (it stops taking
   * connections from the shared socket first, so none is refused). A
   * replacement that fails before listening stops the roll, logged, and the
   * old workers that are left keep serving. A roll asked for while one runs,
   * or while stopping, is ignored (logged). Resolves when the roll is over;
   * the old workers may still be draining.
   */
  async roll(): Promise<boolean> {
    if (this.#stopping || this.#rolling) {
      this.#log.warn(`rolling restart ignored: ${this.#stopping ? "stopping" : "already rolling"}`);
      return false;
    }
    this.#rolling = true;
    let replaced = 0;
    try {
      this.#log.info(`rolling restart of ${this.#count} worker(s)`);
      for (let slot = 1; slot <= this.#count; slot++) {
        const old = this.#slots.get(slot);
        // A slot waiting for its respawn gets a fresh worker from that anyway.
        if (old === undefined || !old.listening || this.#stopping) continue;
        const next = this.#fork(slot);
        if (!(await next.ready)) {
          if (this.#stopping) return false;
          this.#log.error(
            `rolling restart stopped: the replacement of worker ${slot} failed before ` +
              `listening (${next.exitText}); keeping the old worker(s)`,
          );
          return false;
        }
        if (this.#stopping) return false;
        this.#slots.set(slot, next);
        this.#log.info(`worker ${slot} replaced: pid ${old.pid} -> pid ${next.pid}, old draining`);
        this.#retire(old, "shutdown");
        replaced++;
      }
      this.#log.info(`rolling restart done: ${replaced} worker(s) replaced`);
      return true;
    } finally {
      this.#rolling = false;
    }
  }

  /**
   * Stops every worker: the first call tells each to stop accepting and drain
   * (as a single server does on SIGTERM); a second call tells each to close
   * its connections at once, and `closed` then resolves with 130.
   */
  stop(): void {
    if (this.#done) return;
    if (this.#stopping) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#log.warn(`aborting ${this.#alive.size} worker(s)`);
      for (const child of this.#alive) this.#retire(child, "abort");
      return;
    }
    this.#stopping = true;
    for (const timer of this.#respawns) clearTimeout(timer);
    this.#respawns.clear();
    this.#log.info(`stopping ${this.#alive.size} worker(s)`);
    for (const child of this.#alive) this.#retire(child, "shutdown");
    if (this.#alive.size === 0) this.#finish(0);
  }

  #retire(child: Child, level: StopMessage["asyncnet"]): void {
    child.retiring = true;
    if (!child.listening) {
      // It has no connection yet and may not be listening for messages: end it.
      child.worker.process.kill(level === "abort" ? "SIGKILL" : "SIGTERM");
      return;
    }
    const message: StopMessage = { asyncnet: level };
    if (child.worker.isConnected()) child.worker.send(message);
    const backstop = setTimeout(
      () => {
        if (!this.#alive.has(child)) return;
        this.#log.warn(`worker ${child.slot} (pid ${child.pid}) still running: killed`);
        child.worker.process.kill("SIGKILL");
      },
      level === "abort" ? 5000 : this.#grace + 5000,
    );
    backstop.unref();
  }

  #finish(code: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#resolveClosed(code);
  }
}
