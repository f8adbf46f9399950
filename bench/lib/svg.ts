/**
 * A hand-written SVG chart of the same numbers as the table: one panel per scenario,
 * one bar per peer, each bar labelled with its value, p50/p99 and ×raw.
 */
import type { Row } from "./report.js";
import { formatValue } from "./report.js";
import type { Scenario } from "./scenarios.js";

const WIDTH = 960;
const LABEL = 170;
const BAR_MAX = 430;
const BAR_H = 16;
const GAP = 4;

const COLORS: Record<Row["family"], string> = {
  raw: "#7f7f7f",
  floor: "#bcbd22",
  asyncnet: "#1f77b4",
  asyncio: "#ff7f0e",
  uvloop: "#2ca02c",
};

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function text(x: number, y: number, body: string, attrs = ""): string {
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ""}>${escapeXml(body)}</text>`;
}

function detail(row: Row): string {
  const parts = [formatValue(row)];
  if (row.p50Us !== null && row.p99Us !== null) {
    parts.push(`p50 ${Math.round(row.p50Us)} µs, p99 ${Math.round(row.p99Us)} µs`);
  }
  if (row.xRaw !== null && row.peer !== "raw-node") parts.push(`×raw ${row.xRaw.toFixed(2)}`);
  return parts.join(" · ");
}

/** The chart as a standalone SVG document. */
export function renderSvg(rows: Row[], scenarios: readonly Scenario[], subtitle: string[]): string {
  const body = subtitle.map((line, i) => text(10, 40 + i * 16, line, 'class="skip"'));
  let y = 40 + subtitle.length * 16 + 8;
  for (const s of scenarios) {
    const panel = rows.filter((r) => r.scenario === s.id);
    if (panel.length === 0) continue;
    const better = s.higherIsBetter ? "higher is better" : "lower is better";
    body.push(text(10, y, `${s.id}: ${s.title}; ${s.unit}, ${better}`, 'class="h"'));
    y += 8;
    const max = Math.max(0, ...panel.map((r) => r.value ?? 0));
    for (const row of panel) {
      const mid = y + BAR_H / 2 + 4;
      body.push(text(LABEL - 8, mid, row.peer, 'text-anchor="end"'));
      if (row.status === "ok" && row.value !== null) {
        const w = max > 0 ? Math.max(1, (row.value / max) * BAR_MAX) : 1;
        const dash = row.style === "protocol" ? ' fill-opacity="0.6"' : "";
        body.push(
          `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[row.family]}"${dash}/>`,
        );
        body.push(text(LABEL + w + 6, mid, detail(row)));
      } else {
        body.push(text(LABEL, mid, `${row.status}: ${row.reason ?? ""}`, 'class="skip"'));
      }
      y += BAR_H + GAP;
    }
    y += 22;
  }
  const legend = (Object.keys(COLORS) as Row["family"][]).map((family, i) => {
    const x = 10 + i * 120;
    return `<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[family]}"/>${text(x + 16, y + 11, family)}`;
  });
  body.push(...legend, text(500, y + 11, "lighter bar: protocol style", 'class="skip"'));
  const height = y + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    "<style>.h{font-weight:bold}.skip{fill:#888;font-style:italic}</style>",
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    text(10, 22, "asyncnet benchmark", 'font-size="16" class="h"'),
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
