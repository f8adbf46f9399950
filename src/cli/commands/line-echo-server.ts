import { lineEchoServer } from "../../apps/line-echo.js";
import { COMMON_HELP, parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import {
  LINE_SERVER_HELP,
  LINE_SERVER_NOTES,
  LINE_SERVER_OPTIONS,
  runLineServer,
} from "./line-servers.js";

const HELP = `Usage: asyncnet line-echo-server [options]

The line echo server of seed 002 (example1): each line is answered with
Echoed: 'LINE'\\r\\n (the line in Python's ascii() form: non-ASCII escaped);
quit answers 'connection closed\\r\\n' and closes. Bytes that are not UTF-8
get 'ERROR. Input is not valid UTF-8\\r\\n' (the seed crashed there).

Options:
${LINE_SERVER_HELP}

${LINE_SERVER_NOTES}

${COMMON_HELP}`;

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs({ args, options: LINE_SERVER_OPTIONS });
  return runLineServer(values, context, "line_echo", lineEchoServer, {});
}

/** `asyncnet line-echo-server`. */
export const command: Command = {
  name: "line-echo-server",
  summary: "line echo server (seed 002): Echoed: 'LINE', quit",
  help: HELP,
  run,
};
