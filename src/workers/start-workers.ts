/**
 * `startWorkers`: one server on every core, as node:cluster does it.
 *
 * @module
 */

import cluster from "node:cluster";
import type { Server } from "../protocols/server.js";
import { Supervisor, type SupervisorOptions } from "./supervisor.js";
import { announceListening, farewell, workerStopSignals } from "./worker-side.js";

/** Options of {@link startWorkers}: the supervisor's, and whether it takes the process signals. */
export interface StartWorkersOptions extends SupervisorOptions {
  /**
   * In the primary: SIGTERM/SIGINT stop the workers (a second one aborts
   * them), SIGHUP rolls them. Default true; false leaves it to the caller
   * (`supervisor.stop()`, `supervisor.roll()`).
   */
  signals?: boolean;
}

/** What {@link startWorkers} resolves with: the supervisor in the primary, the server in a worker. */
export type StartedWorkers =
  | {
      /** In the primary: the supervisor of the workers. */
      supervisor: Supervisor;
      /** Absent in the primary. */
      server?: undefined;
    }
  | {
      /** Absent in a worker. */
      supervisor?: undefined;
      /** In a worker: the server `start` built, listening. */
      server: Server;
    };

/**
 * Wires SIGTERM/SIGINT (first: `stop()`, drain; second: `stop()` again,
 * abort) and SIGHUP (`roll()`) of the primary to `supervisor`; returns the
 * function that unwires them. Also unwired once `supervisor.closed` settles.
 */
export function superviseSignals(supervisor: Supervisor): () => void {
  const onStop = () => supervisor.stop();
  const onRoll = () => void supervisor.roll();
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  process.on("SIGHUP", onRoll);
  const dispose = () => {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", onRoll);
  };
  void supervisor.closed.then(dispose);
  return dispose;
}

/**
 * Runs a server in `count` worker processes sharing its listening sockets
 * (node:cluster with round-robin scheduling: the primary accepts and hands
 * each connection to the next free worker).
 *
 * The same program runs in the primary and in each worker (node:cluster
 * forks `process.argv` again). In the primary this forks the workers,
 * supervises them (see {@link Supervisor}: respawn with backoff, crash-loop
 * stop, rolling restart, graceful stop) and resolves with the supervisor once
 * every worker listens; the primary never calls `start`. In a worker it calls
 * `start()`, which must return the listening `Server`, tells the primary it
 * listens, and on the primary's request stops it with
 * `server.shutdown({ grace })` (an abort request aborts that grace), then
 * disconnects from the primary, and sets `process.exitCode` (0, or 130 after
 * an abort), so that the worker exits once nothing else holds its loop.
 *
 * Limits such as `maxConnections` hold per worker: each worker has its own
 * `Server`. A `start` that throws makes the worker exit 1, which counts as a
 * death (respawned, or the crash-loop stop).
 *
 * @example
 * ```ts
 * import { startServer, startWorkers } from "asyncnet";
 *
 * const { supervisor } = await startWorkers(4, () =>
 *   startServer(async (reader, writer) => {
 *     for (let line; (line = await reader.readLine()).length > 0; ) writer.write(line);
 *     writer.close();
 *   }, "127.0.0.1", 8080),
 *   { grace: 5000 },
 * );
 * // In the primary: SIGTERM drains every worker, SIGHUP rolls them.
 * if (supervisor !== undefined) process.exitCode = await supervisor.closed;
 * ```
 *
 * @param count Number of workers, at least 1 (`os.availableParallelism()` for one per CPU).
 * @throws RangeError when `count` is not an integer >= 1 (in the primary, before any fork).
 */
export async function startWorkers(
  count: number,
  start: () => Server | Promise<Server>,
  options: StartWorkersOptions = {},
): Promise<StartedWorkers> {
  if (cluster.isPrimary) {
    const supervisor = new Supervisor(count, options);
    if (options.signals !== false) superviseSignals(supervisor);
    await supervisor.start();
    return { supervisor };
  }
  const stops = workerStopSignals();
  let server: Server;
  try {
    server = await start();
  } catch (error) {
    stops.dispose();
    // Let the primary see a death with a code, after the error is on stderr.
    console.error(error);
    process.exit(1);
  }
  announceListening(server.sockets);
  const grace = options.grace ?? 10_000;
  void server.serveForever(stops.shutdown).then(async () => {
    await server.shutdown({ grace, signal: stops.abort });
    await farewell();
    process.exitCode = stops.abort.aborted ? 130 : 0;
    stops.dispose();
    cluster.worker?.disconnect();
  });
  return { server };
}
