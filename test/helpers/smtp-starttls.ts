/**
 * A minimal SMTP-style server with STARTTLS, written with the library, for the
 * STARTTLS tests: `220` greeting, `EHLO` → `250-…` / `250 STARTTLS`,
 * `STARTTLS` → `220 ready` and the upgrade, `NOOP` → `250 ok`, `QUIT` → `221 bye`.
 *
 * @module
 */

import type { Server } from "../../src/protocols/server.js";
import type { BufferedPlaintextPolicy } from "../../src/protocols/start-tls.js";
import type { Clock } from "../../src/protocols/clock.js";
import { startServer } from "../../src/streams/start-server.js";
import { selfSignedCert } from "./tls-cert.js";

/** One command line the server's handler read, and whether it came over TLS. */
export interface SeenCommand {
  line: string;
  secure: boolean;
}

/** What the test server recorded. */
export interface SmtpLog {
  commands: SeenCommand[];
  /** The reader's buffered bytes when each STARTTLS was read (bytes behind the command). */
  bufferedAtStartTls: number[];
  /** Rejections of `writer.startTls`. */
  upgradeErrors: Error[];
  /** What the server's `onError` got. */
  reported: Error[];
  /** `getExtraInfo("protocol")` after each upgrade. */
  protocols: unknown[];
}

/** Options of {@link startSmtpServer}. */
export interface SmtpServerOptions {
  bufferedPlaintext?: BufferedPlaintextPolicy;
  handshakeTimeout?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** Starts the server on 127.0.0.1, port 0. */
export async function startSmtpServer(
  options: SmtpServerOptions = {},
): Promise<{ server: Server; log: SmtpLog }> {
  const { key, cert } = selfSignedCert();
  const log: SmtpLog = {
    commands: [],
    bufferedAtStartTls: [],
    upgradeErrors: [],
    reported: [],
    protocols: [],
  };
  const server = await startServer(
    async (reader, writer) => {
      writer.write("220 localhost ESMTP asyncnet\r\n");
      let secure = false;
      for (;;) {
        const raw = await reader.readLine();
        if (raw.length === 0) return;
        const line = raw.toString("latin1").replace(/\r?\n$/, "");
        log.commands.push({ line, secure });
        const verb = line.split(" ")[0]?.toUpperCase();
        if (verb === "EHLO") {
          writer.write("250-localhost greets you\r\n250 STARTTLS\r\n");
        } else if (verb === "STARTTLS" && !secure) {
          log.bufferedAtStartTls.push(reader.bufferedSize);
          writer.write("220 ready\r\n");
          try {
            await writer.startTls({
              side: "server",
              key,
              cert,
              bufferedPlaintext: options.bufferedPlaintext,
              handshakeTimeout: options.handshakeTimeout,
              signal: options.signal,
            });
          } catch (error) {
            log.upgradeErrors.push(error as Error);
            return;
          }
          secure = true;
          log.protocols.push(writer.getExtraInfo("protocol"));
        } else if (verb === "NOOP") {
          writer.write("250 ok\r\n");
        } else if (verb === "QUIT") {
          writer.write("221 bye\r\n");
          return;
        } else {
          writer.write("500 unknown command\r\n");
        }
      }
    },
    "127.0.0.1",
    0,
    { clock: options.clock, onError: (error) => log.reported.push(error) },
  );
  return { server, log };
}
