/** Command-line options shared by the raw `node:net` peers. */
export interface PeerArgs {
  /** Address to bind. Default `127.0.0.1`. */
  host: string;
  /** Port to bind; 0 lets the kernel choose. Default 0. */
  port: number;
}

/**
 * Parses `--host H` and `--port N`.
 *
 * @throws {RangeError} for a port outside 0–65535 or an unknown option
 */
export function parsePeerArgs(argv: readonly string[]): PeerArgs {
  const args: PeerArgs = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if (name === "--host" && value !== undefined) {
      args.host = value;
    } else if (name === "--port" && value !== undefined) {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new RangeError(`Invalid port: ${value}`);
      }
      args.port = port;
    } else {
      throw new RangeError(`Unknown option: ${name}`);
    }
    i++;
  }
  return args;
}
