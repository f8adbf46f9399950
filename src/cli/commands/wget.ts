import { wget } from "../../apps/wget.js";
import { parseCommandArgs } from "../args.js";
import { type Command, type CommandContext, UsageError } from "../command.js";
import { httpClientFlags, httpClientHelp, httpClientOptions, takeUrl } from "./http-head.js";

const flags = {
  ...httpClientFlags,
  "output-document": { type: "string", short: "O" },
  quiet: { type: "boolean", short: "q" },
  "server-response": { type: "boolean", short: "S" },
  "save-headers": { type: "boolean" },
  "max-redirect": { type: "string" },
} as const;

/** `asyncnet wget URL`: seed 004's wget, with GNU wget's conventions. */
export const command: Command = {
  name: "wget",
  summary: "Download URL with GET URL HTTP/1.0, as GNU wget (seed 004)",
  help: `Usage: asyncnet wget [options] URL

Sends "GET PATH HTTP/1.0\\r\\nHost: HOST\\r\\n\\r\\n" to URL (http, or https with
TLS) and saves the body, which ends at the last chunk of a chunked body
(decoded), else after Content-Length bytes, else when the server closes; then
the connection is closed at once. Interim 1xx responses are skipped; a 204
saves nothing. Follows redirects (301, 302, 303, 307, 308). By default the
file is named after the URL's last path segment (index.html for "/") in the
current directory, and an existing file is never overwritten: NAME.1, NAME.2...

Options:
  -O, --output-document FILE
                           write to FILE (truncated if it exists); "-" for stdout
  -q, --quiet              write nothing to stderr (but -S headers)
  -S, --server-response    print each response's status line and headers to
                           stderr, indented two spaces
  --save-headers           write the response head before the body
                           (--save-headers -O - prints the whole response)
  --max-redirect N         follow at most N redirects (default 20)
${httpClientHelp}

A progress bar is drawn on stderr when it is a terminal, else one summary line.

Exit status (GNU wget's): 0 saved (or 204 No Content); 2 bad arguments;
3 file I/O error (creating or writing the output); 4 network failure
(refused, reset, timeout, body cut short); 5 certificate verification
failed; 7 protocol error (the reply is not HTTP, a malformed chunked body,
Content-Length values that differ or are not numbers); 8 the server answered
an error (4xx, 5xx, 304) or a redirect failed (more than --max-redirect);
1 other errors.`,

  async run(args: string[], context: CommandContext): Promise<number> {
    const { values, positionals } = parseCommandArgs({
      args,
      options: flags,
      allowPositionals: true,
    });
    const url = takeUrl(positionals);
    let maxRedirects = 20;
    if (values["max-redirect"] !== undefined) {
      maxRedirects = Number(values["max-redirect"]);
      if (!/^[0-9]{1,6}$/.test(values["max-redirect"])) {
        throw new UsageError(
          `Invalid --max-redirect: expected an integer >= 0, got ${values["max-redirect"]}`,
        );
      }
    }
    if (values["output-document"] === "") throw new UsageError("Invalid -O: empty file name");
    return wget({
      url,
      ...(await httpClientOptions(values)),
      output: values["output-document"],
      quiet: values.quiet,
      serverResponse: values["server-response"],
      saveHeaders: values["save-headers"],
      maxRedirects,
      stdout: context.stdout,
      stderr: context.stderr,
      stderrIsTTY: context.stderrIsTTY,
      logger: context.logger,
      signal: context.shutdown,
    });
  },
};
