/**
 * A line connection's story at debug level, one line per event, with the peer
 * written as Python prints an address tuple, so the line apps log what the
 * seed 002 programs print.
 *
 * @module
 */

import type { LinesEnd } from "../streams/line-session.js";
import type { Logger } from "./logger.js";
import { peerOf, pythonAddress } from "./peer.js";

/**
 * Logs at debug level, each message after the peer as `('127.0.0.1', 59778)`:
 * `Received connection from (...)` when opened, `(...) --> LINE` for each line
 * given to {@link line}, `(...) connection lost: MESSAGE` for a lost peer and
 * `(...) quit` at the end, whatever ended it. Make one only when
 * `logger.enabled("debug")`: it formats the address once, when made.
 */
export class LineTrace {
  readonly #logger: Logger;
  readonly #address: string;

  /** `peer`: the connection's `peername` (`conn.peer`). */
  constructor(logger: Logger, peer: unknown) {
    this.#logger = logger;
    this.#address = pythonAddress(peerOf({ getExtraInfo: () => peer }));
  }

  /** `Received connection from (HOST, PORT)`. */
  opened(): void {
    this.#logger.debug(`Received connection from ${this.#address}`);
  }

  /** `(HOST, PORT) --> LINE`. */
  line(text: string): void {
    this.#logger.debug(`${this.#address} --> ${text}`);
  }

  /** `(HOST, PORT) connection lost: MESSAGE` for a lost peer, then `(HOST, PORT) quit`. */
  ended(end: LinesEnd | "error", error?: Error): void {
    if (end === "lost") this.#logger.debug(`${this.#address} connection lost: ${error?.message}`);
    this.#logger.debug(`${this.#address} quit`);
  }
}
