/**
 * What a fault scenario is: a function from sizes to figures, the sizes of
 * the full and quick runs, and how its figures read as table rows. The same
 * function runs small in `npm test`.
 *
 * @module
 */

/** One row of the printed table (the scenario's name is added by the runner). */
export interface Row {
  figure: string;
  value: string;
}

/** Every scenario's figures carry the expectations they break, in words (empty: none). */
export interface Checked {
  problems: string[];
}

/** A scenario, typed by its parameters and figures. */
export interface Scenario<P, F extends Checked> {
  /** Table name: `conns`, `no-read/echo`, … */
  name: string;
  /** One line of what it does. */
  summary: string;
  /** `npm run faults` sizes. */
  full: P;
  /** `npm run faults -- --quick` sizes. */
  quick: P;
  run(params: P): Promise<F>;
  rows(figures: F): Row[];
}

/** What the runner keeps of one scenario run. */
export interface Outcome {
  name: string;
  summary: string;
  params: unknown;
  seconds: number;
  /** Set when the scenario could not run to its end (it threw or passed its time limit). */
  error?: string;
  figures?: unknown;
  rows: Row[];
  problems: string[];
}

/** A scenario with its types erased, as the runner lists them. */
export interface RunnableScenario {
  name: string;
  summary: string;
  run(size: "full" | "quick"): Promise<Outcome>;
}

/** Erases a scenario's types behind a `run(size)` that never throws. */
export function runnable<P, F extends Checked>(scenario: Scenario<P, F>): RunnableScenario {
  return {
    name: scenario.name,
    summary: scenario.summary,
    async run(size) {
      const params = size === "full" ? scenario.full : scenario.quick;
      const started = performance.now();
      const base = { name: scenario.name, summary: scenario.summary, params };
      try {
        const figures = await scenario.run(params);
        const seconds = (performance.now() - started) / 1000;
        const rows = scenario.rows(figures);
        return { ...base, seconds, figures, rows, problems: figures.problems };
      } catch (error) {
        const seconds = (performance.now() - started) / 1000;
        const message = error instanceof Error ? error.message : String(error);
        return { ...base, seconds, error: message, rows: [], problems: [message] };
      }
    },
  };
}

/** `10,000`. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : String(n);
}

/** KiB as MiB with one decimal: `12.3 MiB`. */
export function mib(kb: number): string {
  return Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : "n/a";
}

/** Bytes in the largest fitting binary unit: `1.00 GiB`, `8.0 MiB`, `512 B`. */
export function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Milliseconds as `850 ms` or `3.20 s`. */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

/** Microseconds as `120 µs` or `3.4 ms`. */
export function us(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n < 1000 ? `${Math.round(n)} µs` : `${(n / 1000).toFixed(1)} ms`;
}

/** `yes` / `no`. */
export function yes(flag: boolean): string {
  return flag ? "yes" : "no";
}

/** What a flood scenario reports of the server it hit: alive, errors, descriptors, memory. */
export interface ServerAftermath {
  serverAlive: boolean;
  serverErrors: number;
  fdsBefore: number;
  fdsPeak: number;
  fdsAfter: number;
  rssBeforeKb: number;
  rssPeakKb: number;
  rssAfterKb: number;
}

/** The table rows of a {@link ServerAftermath}, in the order every flood scenario shows them. */
export function aftermathRows(f: ServerAftermath): Row[] {
  return [
    {
      figure: "server crashed / errors logged",
      value: `${yes(!f.serverAlive)} / ${int(f.serverErrors)}`,
    },
    {
      figure: "server fds before / peak / after",
      value: `${f.fdsBefore} / ${int(f.fdsPeak)} / ${f.fdsAfter}`,
    },
    {
      figure: "server RSS before / peak / after",
      value: `${mib(f.rssBeforeKb)} / ${mib(f.rssPeakKb)} / ${mib(f.rssAfterKb)}`,
    },
  ];
}

/** A short quoted sample of a reply line, control characters escaped. */
export function quote(line: string, max = 60): string {
  const shown = JSON.stringify(line);
  return shown.length > max ? `${shown.slice(0, max - 1)}…"` : shown;
}
