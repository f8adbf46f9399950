/** Test doubles for the apps: a writer that records, a logger that records. */

import { Logger, type LogLevel } from "../../../src/apps/logger.js";
import type { LineConnection, LineSession } from "../../../src/streams/line-session.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";

/** Records what an app writes; `AppWriter`-compatible. */
export class FakeWriter {
  readonly chunks: Buffer[] = [];
  /** Calls of `write` or `writeLines`: how many socket writes the app asked for. */
  writes = 0;
  eof = false;
  peer: unknown = { address: "127.0.0.1", port: 5000, family: "IPv4" };

  write(data: Uint8Array | string): void {
    if (this.eof) throw new Error("write after EOF");
    this.writes++;
    this.chunks.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
  }

  writeLines(chunks: Iterable<Uint8Array | string>): void {
    for (const chunk of chunks) this.write(chunk);
    this.writes -= [...chunks].length - 1;
  }

  /** Set by a test to make the app await `drain()`, which counts in `drains`. */
  needsDrain = false;
  drains = 0;

  drain(): Promise<void> {
    this.drains++;
    return Promise.resolve();
  }

  canWriteEof(): boolean {
    return true;
  }

  writeEof(): void {
    this.eof = true;
  }

  getExtraInfo(name: string, fallback?: unknown): unknown {
    return name === "peername" ? this.peer : fallback;
  }

  /** Everything written, as latin1 text. */
  text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

/** A logger whose lines are kept in `lines`. */
export function recordingLogger(level: LogLevel = "debug", name = "main") {
  const lines: string[] = [];
  const logger = new Logger(name, { level, write: (line) => lines.push(line.trimEnd()) });
  return { logger, lines };
}

/** A reader already fed with `chunks` (and EOF unless `eof` is false). */
export function fedReader(chunks: readonly (string | Uint8Array)[], eof = true, limit?: number) {
  const reader = new StreamReader(limit === undefined ? {} : { limit });
  for (const chunk of chunks) {
    reader.feedData(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : Buffer.from(chunk));
  }
  if (eof) reader.feedEof();
  return reader;
}

/** A line session (zero-copy form) that answers `<LINE>` (latin1) for each line, and closes after `bye`. */
export function bracketSession(conn: LineConnection): LineSession {
  return {
    onLineBytes(bytes: Buffer, start: number, end: number): Buffer {
      const text = bytes.toString("latin1", start, end);
      if (text === "bye") conn.close();
      return Buffer.from(`<${text}>`, "latin1");
    },
  };
}
