/**
 * The logger the streams layer hands to a connection's code: the four levels
 * and nothing else, so that any logger (console, pino, the CLI's own) fits.
 *
 * @module
 */

/**
 * A minimal logger. `console` satisfies it, as does any logger whose methods
 * take a message first (extra parameters are fine).
 */
export interface ConnectionLogger {
  /** Detail for debugging: each connection, each limit hit. */
  debug(message: string): void;
  /** A normal event worth keeping: a server listening, a shutdown. */
  info(message: string): void;
  /** Something went wrong with one connection or peer; the server goes on. */
  warn(message: string): void;
  /** An error, with the error object when there is one. */
  error(message: string, error?: unknown): void;
}

const ignore = (): void => {};

/** The logger that discards everything: the default where one is optional. */
export const silentLogger: ConnectionLogger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
