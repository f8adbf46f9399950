/**
 * The key-value store behind the kv-server example and the few Redis commands
 * it answers: `PING`, `GET`, `SET`, `DEL`, `INCR`, `COMMAND`, `CONFIG GET` (every
 * parameter unset), `QUIT`.
 *
 * @module
 */

const OK = Buffer.from("+OK\r\n");
const PONG = Buffer.from("+PONG\r\n");
const NIL = Buffer.from("$-1\r\n");
const EMPTY_ARRAY = Buffer.from("*0\r\n");
const EMPTY = Buffer.alloc(0);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A reply's bytes, and whether the connection closes after it (`QUIT`). */
export interface KvReply {
  bytes: Buffer;
  close?: boolean;
}

/** Keys and values are bytes; a key is held as its latin1 string, which maps bytes one to one. */
export class KvStore {
  readonly #data = new Map<string, Buffer>();

  /** Runs one command (its name and arguments as bytes) and returns its RESP reply. */
  execute(args: readonly Buffer[]): KvReply {
    const [name, ...rest] = args;
    if (name === undefined) return { bytes: EMPTY };
    const command = name.toString("latin1").toUpperCase();
    switch (command) {
      case "GET":
        return arity(command, rest, 1) ?? { bytes: bulk(this.#data.get(key(rest[0]))) };
      case "SET":
        if (rest.length > 2) return error("ERR syntax error");
        if (rest.length < 2) return wrongArity(command);
        this.#data.set(key(rest[0]), Buffer.from(rest[1] as Buffer));
        return { bytes: OK };
      case "DEL": {
        if (rest.length === 0) return wrongArity(command);
        let removed = 0;
        for (const arg of rest) if (this.#data.delete(key(arg))) removed++;
        return { bytes: integer(removed) };
      }
      case "INCR":
        return arity(command, rest, 1) ?? this.#incr(key(rest[0]));
      case "PING":
        if (rest.length > 1) return wrongArity(command);
        return { bytes: rest.length === 0 ? PONG : bulk(rest[0]) };
      case "COMMAND":
        // redis-cli asks for the command table on connect; an empty one is enough.
        return { bytes: EMPTY_ARRAY };
      case "CONFIG":
        // redis-benchmark reads `save` and `appendonly` on connect: each is unset here.
        if (rest.length !== 2 || rest[0]?.toString("latin1").toUpperCase() !== "GET") {
          return error("ERR only CONFIG GET parameter is supported");
        }
        return { bytes: Buffer.concat([Buffer.from("*2\r\n"), bulk(rest[1]), bulk(EMPTY)]) };
      case "QUIT":
        return { bytes: OK, close: true };
      default:
        return error(`ERR unknown command '${name.toString("latin1").slice(0, 64)}'`);
    }
  }

  #incr(k: string): KvReply {
    const current = this.#data.get(k);
    let value = 0n;
    if (current !== undefined) {
      const text = current.toString("latin1");
      if (!/^(0|-?[1-9]\d{0,18})$/.test(text)) {
        return error("ERR value is not an integer or out of range");
      }
      value = BigInt(text);
      if (value < INT64_MIN || value > INT64_MAX) {
        return error("ERR value is not an integer or out of range");
      }
    }
    if (value === INT64_MAX) return error("ERR increment or decrement would overflow");
    const next = (value + 1n).toString();
    this.#data.set(k, Buffer.from(next, "latin1"));
    return { bytes: Buffer.from(`:${next}\r\n`, "latin1") };
  }
}

function key(arg: Buffer | undefined): string {
  return (arg as Buffer).toString("latin1");
}

function bulk(value: Buffer | undefined): Buffer {
  if (value === undefined) return NIL;
  return Buffer.concat([Buffer.from(`$${value.length}\r\n`, "latin1"), value, Buffer.from("\r\n")]);
}

function integer(n: number): Buffer {
  return Buffer.from(`:${n}\r\n`, "latin1");
}

function error(message: string): KvReply {
  return { bytes: Buffer.from(`-${message}\r\n`, "latin1") };
}

function wrongArity(command: string): KvReply {
  return error(`ERR wrong number of arguments for '${command.toLowerCase()}' command`);
}

function arity(command: string, rest: readonly Buffer[], n: number): KvReply | undefined {
  return rest.length === n ? undefined : wrongArity(command);
}
