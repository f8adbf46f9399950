/**
 * A program on `startWorkers`, for start-workers.test.ts: two workers of a
 * line server that answers `pid LINE` (so the test sees which process
 * served), on 127.0.0.1 and a free port. The primary prints
 * `listening on ADDRESS` and its supervisor's log on stderr, and exits with
 * `supervisor.closed`.
 */
import { startServer } from "../../../src/streams/start-server.js";
import { startWorkers } from "../../../src/workers/start-workers.js";

const log = {
  info: (message: string) => process.stderr.write(`${message}\n`),
  warn: (message: string) => process.stderr.write(`WARN: ${message}\n`),
  error: (message: string) => process.stderr.write(`ERROR: ${message}\n`),
};

const { supervisor } = await startWorkers(
  2,
  () =>
    startServer(
      async (reader, writer) => {
        for (;;) {
          const line = await reader.readLine();
          if (line.length === 0) break;
          writer.write(`${process.pid} ${line.toString("latin1")}`);
        }
        writer.close();
      },
      "127.0.0.1",
      0,
    ),
  {
    grace: 2000,
    log,
    onListening: (addresses) => process.stderr.write(`listening on ${addresses.join(" ")}\n`),
  },
);
if (supervisor !== undefined) process.exitCode = await supervisor.closed;
