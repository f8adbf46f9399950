/** Command-line options of `node dist/bench/run.js`. */
export interface BenchOptions {
  /** Every scenario briefly (about a second each), one round. Default false. */
  quick: boolean;
  /** Rounds; each round runs every scenario on every peer, peers alternating. Default 3 (quick: 1). */
  rounds: number;
  /** Measured seconds per scenario and peer, after the warm-up. Default 1 (quick: 0.25). */
  duration: number;
  /** Unmeasured seconds of load before each measurement. Default 0.4 (quick: 0.1). */
  warmup: number;
  /** Connections held by the idle-RSS scenario. Default 10,000 (quick: 2,000). */
  idleConns: number;
  /**
   * Seconds the idle connections sit after the first reading of the server's
   * RSS (half a second after the burst), which is then the smallest reading
   * of each second. Default 0: the size right after the connection burst,
   * young-generation headroom included. V8's memory reducer hands that back
   * after some seconds of quiet, at a time of its own choosing (10 to 50 s
   * here): 60 shows the settled size.
   */
  idleSettle: number;
  /** Only rows whose `scenario peer` matches. Default: all. */
  only: RegExp | null;
  /** Where to write the JSON; the SVG goes beside it. Default bench/out/bench.json. */
  json: string | null;
  /** Pin server and load generator to different CPUs when taskset allows. Default true. */
  pin: boolean;
  /**
   * Another checkout of asyncnet, built (`DIR/dist/src/cli/main.js`): its CLI servers run as
   * extra rows `asyncnet…@base` beside this tree's, in the same rounds, so that a before and
   * an after share every minute of a noisy machine. Default: none.
   */
  baseline: string | null;
}

export const USAGE = `Usage: node dist/bench/run.js [options]
  --quick            every scenario briefly, one round (the test's mode)
  --rounds N         rounds, peers alternating within each (default 3)
  --duration S       measured seconds per scenario and peer (default 1)
  --warmup S         unmeasured seconds of load first (default 0.4)
  --idle-conns N     connections in the idle-RSS scenario (default 10000)
  --idle-settle S    keep idle connections S more seconds and report the smallest RSS seen
                     (default 0: the size right after the burst)
  --only REGEX       only rows whose "scenario peer" matches, e.g. 'calc' or 'raw|asyncnet'
  --json PATH        JSON output (default bench/out/bench.json; the SVG is written beside it)
  --baseline DIR     also run the asyncnet servers of another built checkout, as rows
                     asyncnet…@base beside this tree's (a before/after in one run)
  --no-pin           do not pin processes to CPUs
  --help             this text`;

function positive(name: string, value: string | undefined, integer: boolean): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new RangeError(`Invalid value for ${name}: ${value ?? "(missing)"}`);
  }
  return n;
}

/**
 * Parses the runner's flags. `--quick` sets the short defaults; flags given
 * explicitly win over them, whatever their order.
 *
 * @throws {RangeError} for an unknown flag or a value that is not a positive number
 * @returns null when `--help` was asked for
 */
export function parseOptions(argv: readonly string[]): BenchOptions | null {
  const given = new Map<string, string>();
  let quick = false;
  let pin = true;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === "--help" || flag === "-h") return null;
    if (flag === "--quick") {
      quick = true;
    } else if (flag === "--no-pin") {
      pin = false;
    } else if (
      [
        "--rounds",
        "--duration",
        "--warmup",
        "--idle-conns",
        "--idle-settle",
        "--only",
        "--json",
        "--baseline",
      ].includes(flag)
    ) {
      const value = argv[++i];
      if (value === undefined) throw new RangeError(`Missing value for ${flag}`);
      given.set(flag, value);
    } else {
      throw new RangeError(`Unknown option: ${flag}`);
    }
  }
  const pick = (flag: string, integer: boolean, normal: number, short: number): number =>
    given.has(flag) ? positive(flag, given.get(flag), integer) : quick ? short : normal;
  const only = given.get("--only");
  let pattern: RegExp | null = null;
  if (only !== undefined) {
    try {
      pattern = new RegExp(only);
    } catch (error) {
      throw new RangeError(`Invalid value for --only: ${only}`, { cause: error });
    }
  }
  return {
    quick,
    rounds: pick("--rounds", true, 3, 1),
    duration: pick("--duration", false, 1, 0.25),
    warmup: given.has("--warmup") ? Number(given.get("--warmup")) || 0 : quick ? 0.1 : 0.4,
    idleConns: pick("--idle-conns", true, 10_000, 2_000),
    idleSettle: given.has("--idle-settle")
      ? positive("--idle-settle", given.get("--idle-settle"), false)
      : 0,
    only: pattern,
    json: given.get("--json") ?? null,
    baseline: given.get("--baseline") ?? null,
    pin,
  };
}
