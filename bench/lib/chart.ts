/**
 * docs/benchmarks.svg: one horizontal bar per tool with its median wall time as a multiple of the
 * floor of its group (1.0 = the floor), whiskers from min to max. Plain SVG, no dependencies.
 */
import type { RowSummary } from "./summary.ts";

const labelWidth = 330;
const plotWidth = 420;
const barHeight = 16;
const rowGap = 6;
const headingHeight = 26;

export function renderChart(summaries: RowSummary[]): string {
  const groups = groupBy(summaries.filter((summary) => summary.ratioToFloor !== undefined), groupTitle);
  const maxRatio = Math.max(2, ...summaries.map((summary) => maxRatioOf(summary)));
  const scale = (ratio: number) => labelWidth + (ratio / maxRatio) * plotWidth;
  const parts: string[] = [];
  let y = 30;

  for (const [title, members] of groups) {
    parts.push(`<text x="8" y="${y + 16}" class="heading">${escape(title)}</text>`);
    y += headingHeight;
    for (const summary of members) {
      const floorMedian = summary.wall.median / summary.ratioToFloor!;
      const ratio = summary.ratioToFloor!;
      const color = summary.row.isFloor ? "#999" : summary.row.tool.startsWith("artifact") ? "#2a6fdb" : "#e0a030";
      parts.push(`<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end">${escape(summary.row.tool)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${(scale(ratio) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${color}"/>`);
      parts.push(`<line x1="${scale(summary.wall.min / floorMedian).toFixed(1)}" x2="${scale(summary.wall.max / floorMedian).toFixed(1)}" y1="${y + barHeight / 2}" y2="${y + barHeight / 2}" stroke="#000"/>`);
      parts.push(`<text x="${(scale(ratio) + 6).toFixed(1)}" y="${y + 12}">${ratio.toFixed(2)}x (${summary.wall.median.toFixed(2)} s)</text>`);
      y += barHeight + rowGap;
    }
  }

  const width = labelWidth + plotWidth + 140;
  const floorLine = `<line x1="${scale(1)}" x2="${scale(1)}" y1="24" y2="${y}" stroke="#555" stroke-dasharray="4 3"/>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">`,
    "<style>.heading { font-weight: bold; font-size: 13px; }</style>",
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" class="heading">Median wall time as a multiple of the floor (dashed line = 1.0); whiskers: min to max</text>`,
    ...parts,
    floorLine,
    "</svg>",
    "",
  ].join("\n");
}

function groupTitle(summary: RowSummary): string {
  const { row } = summary;
  const size = `${(row.sizeBytes / 1024 ** 3).toFixed(row.sizeBytes < 1024 ** 3 ? 3 : 0)} GiB`;
  return `${row.scenario} ${size} ${row.file === "random" ? "random bytes" : "log-like text"}, ${row.target === "rgw" ? "Ceph RGW" : "built-in store"}`;
}

function maxRatioOf(summary: RowSummary): number {
  if (summary.ratioToFloor === undefined) return 0;
  return summary.wall.max / (summary.wall.median / summary.ratioToFloor);
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
