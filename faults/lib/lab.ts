/**
 * The scope of one scenario run: every server, client process and socket it
 * made, all ended when the run ends, fails or passes its hard time limit.
 *
 * @module
 */

import type net from "node:net";
import { ClientProcess } from "./client-process.js";
import { FaultServer, type ServerStart } from "./server.js";

/** Thrown when a scenario passes its hard time limit. */
export class ScenarioTimeoutError extends Error {
  override name = "ScenarioTimeoutError";
  readonly code = "ERR_SCENARIO_TIMEOUT";
}

/** What a scenario made, to be ended with it. */
export class Lab {
  readonly #servers = new Set<FaultServer>();
  readonly #clients = new Set<ClientProcess>();
  readonly #sockets = new Set<net.Socket>();
  #closed = false;

  /** Starts a server that ends with the lab. */
  async server(options: ServerStart): Promise<FaultServer> {
    this.#check();
    const server = await FaultServer.start(options);
    this.#servers.add(server);
    if (this.#closed) server.kill();
    return server;
  }

  /** Starts `dist/faults/clients/NAME.js` with `params`; it ends with the lab. */
  client(name: string, params: object): ClientProcess {
    this.#check();
    const client = new ClientProcess(name, params);
    this.#clients.add(client);
    return client;
  }

  /** Keeps `socket` to destroy it when the lab closes. */
  socket<S extends net.Socket>(socket: S): S {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    if (this.#closed) socket.destroy();
    return socket;
  }

  #check(): void {
    if (this.#closed) throw new ScenarioTimeoutError("Cannot start: the scenario has ended");
  }

  /** Destroys the sockets, kills what still runs and waits for the processes to exit. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    for (const client of this.#clients) client.kill();
    for (const server of this.#servers) server.kill();
    await Promise.all([
      ...[...this.#clients].map((c) => c.exited),
      ...[...this.#servers].map((s) => s.exited),
    ]);
  }
}

/**
 * Runs `body` in a fresh {@link Lab} and closes it afterwards. Past `ms`, the
 * lab is closed at once (its processes killed, its sockets destroyed) and the
 * run rejects with {@link ScenarioTimeoutError}.
 */
export async function withinLab<T>(
  name: string,
  ms: number,
  body: (lab: Lab) => Promise<T>,
): Promise<T> {
  const lab = new Lab();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ScenarioTimeoutError(`Scenario ${name} passed its hard limit of ${ms / 1000} s`));
    }, ms);
  });
  const run = body(lab);
  // Whichever loses the race must not become an unhandled rejection.
  run.catch(() => {});
  try {
    return await Promise.race([run, limit]);
  } finally {
    clearTimeout(timer);
    await lab.close();
  }
}
