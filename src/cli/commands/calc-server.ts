import { calculatorServer } from "../../apps/calculator.js";
import { PYTHON_INT_MAX_STR_DIGITS } from "../../framing/python-int.js";
import { COMMON_HELP, parseCommandArgs, parseSize } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import {
  LINE_SERVER_HELP,
  LINE_SERVER_NOTES,
  LINE_SERVER_OPTIONS,
  runLineServer,
} from "./line-servers.js";

const OPTIONS = { ...LINE_SERVER_OPTIONS, "max-digits": { type: "string" } } as const;

const HELP = `Usage: asyncnet calc-server [options]

The calculator server of seed 002 (example3/example6). On connect it sends
'<welcome: starting in sum mode>\\n'; each connection has its own mode.
  quit          'connection closed\\r\\n', then close
  sum           '<switching to sum mode>\\r\\n'
  product       '<switching to product mode>\\r\\n'
  1,2,3         "Sum of input numbers: '6'\\r\\n" or "Product of input numbers: '6'\\r\\n"
                (integers as Python's int(): spaces, sign, 1_000; exact at any size)
  anything else 'ERROR. Enter only integers separated by commas\\n' (\\n only, as the
                seed; also for bytes that are not UTF-8, where the seed crashed)

Options:
${LINE_SERVER_HELP}
  --max-digits N      most digits of an input number and of a result (default
                      ${PYTHON_INT_MAX_STR_DIGITS}, Python's int limit); a longer number is an
                      error line, a longer result gets
                      'ERROR. Result too large (more than N digits)\\r\\n'

${LINE_SERVER_NOTES}

${COMMON_HELP}`;

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs({ args, options: OPTIONS });
  const maxDigits = parseSize(values["max-digits"], "--max-digits", PYTHON_INT_MAX_STR_DIGITS);
  return runLineServer(values, context, "calc", calculatorServer, {
    maxDigits,
    maxResultDigits: maxDigits,
  });
}

/** `asyncnet calc-server`. */
export const command: Command = {
  name: "calc-server",
  summary: "calculator server (seed 002): per-connection sum/product of integers",
  help: HELP,
  run,
};
