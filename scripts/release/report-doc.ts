/**
 * Writes the size report: docs/release-builds.md (table and the wrapper's goals) and
 * docs/release-size.svg (size bars, and nanoseconds of build time per byte saved on a log axis).
 */
export interface Row {
  method: string;
  size: number | undefined;
  percentOfPlain: number | undefined;
  buildSeconds: number | undefined;
  /** Build time divided by the bytes saved against plain `--compile`; undefined when none saved. */
  nsPerByteSaved: number | undefined;
  coldMs: number | undefined;
  warmMs: number | undefined;
  mode: "run" | "structure" | "skipped";
  runsProgram: boolean;
  traceOk: boolean;
  note: string;
}

export interface ReportContext {
  commit: string;
  machine: string;
}

export async function writeReport(rows: Row[], context: ReportContext): Promise<void> {
  await Bun.write("docs/release-builds.md", renderMarkdown(rows, context));
  await Bun.write("docs/release-size.svg", renderChart(rows));
}

const dash = "–";

function format(value: number | undefined, digits: number): string {
  return value === undefined ? dash : value.toFixed(digits);
}

function verdict(row: Row, passed: boolean): string {
  if (row.mode === "skipped") return dash;
  if (row.mode === "structure") return passed ? "structure only" : "no (structure)";
  return passed ? "yes" : "**no**";
}

function renderMarkdown(rows: Row[], context: ReportContext): string {
  const header = [
    "| method | size (MB) | % of plain | build time (s) | ns of build time per byte saved | cold start (ms) | warm start (ms) | runs the program | stack trace check | note |",
    "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
  ];
  const lines = rows.map((row) =>
    [
      row.method,
      format(row.size === undefined ? undefined : row.size / 1e6, 2),
      format(row.percentOfPlain, 1),
      format(row.buildSeconds, 1),
      format(row.nsPerByteSaved, 0),
      format(row.coldMs, 0),
      format(row.warmMs, 1),
      verdict(row, row.runsProgram),
      verdict(row, row.traceOk),
      row.note.replaceAll("\n", " ").replaceAll("|", "\\|"),
    ].join(" | "),
  );

  return `# Release builds: size, build time and startup

Regenerate with \`npm run release:size-report\` (about five minutes on two cores). Measured on
commit ${context.commit}, ${context.machine}. Shared machines drift by about 30 % between runs.

- Size in MB of 10^6 bytes; % of plain is against plain \`bun build --compile\`.
- Build time is from source to the final file, so post-processing rows include the compile.
- ns of build time per byte saved is build time divided by the bytes saved against plain; a dash
  means the file is not smaller.
- Cold start: \`--version\` right after the file's pages were evicted from the page cache, and for
  self-extracting files with an empty unpack cache, so the run unpacks. Warm start: median of 31
  runs after that.
- Runs the program: \`--version\` prints the artifact version line. Stack trace check:
  \`ARTIFACT_DEBUG_PANIC=1\` exits 70 with a trace naming \`src/cli/debug-panic.ts\`, the line and
  \`throwDeliberateStartupPanic\` (\`scripts/release/panic-check.ts\`).

${[...header, ...lines.map((line) => `| ${line} |`)].join("\n")}

![Size and build cost per byte saved](release-size.svg)

${renderGoals(rows)}
`;
}

/** Compares the zstd self-extracting file with its goals: size, first start, later starts. */
function renderGoals(rows: Row[]): string {
  const shipped = rows.find((row) => row.method.includes("(shipped)"));
  const wrappers = rows.filter((row) => row.method.startsWith("self-extracting"));
  const lines = wrappers.map((row) => {
    const overhead = row.warmMs !== undefined && shipped?.warmMs !== undefined ? row.warmMs - shipped.warmMs : undefined;
    return [
      row.method,
      `${format(row.percentOfPlain, 1)} % of plain (goal <= 38 %: ${goal(row.percentOfPlain, 38)})`,
      `first start ${format(row.coldMs, 0)} ms (goal <= 600 ms: ${goal(row.coldMs, 600)})`,
      `later starts ${format(overhead, 1)} ms slower than the shipped binary (goal <= 2 ms: ${goal(overhead, 2)})`,
    ].join("; ");
  });
  return `## Self-extracting files against their goals\n\n${lines.map((line) => `- ${line}`).join("\n")}\n`;
}

function goal(value: number | undefined, limit: number): string {
  if (value === undefined) return "not measured";
  return value <= limit ? "met" : `missed by ${(value - limit).toFixed(1)}`;
}

/** Size bars on a linear axis (left) and ns per byte saved as dots on a log axis (right). */
function renderChart(rows: Row[]): string {
  const width = 960;
  const height = 560;
  const plot = { left: 70, right: width - 80, top: 40, bottom: 330 };
  const slot = (plot.right - plot.left) / rows.length;
  const maxMb = Math.ceil(Math.max(...rows.map((row) => (row.size ?? 0) / 1e6)) / 20) * 20;
  const costs = rows.map((row) => row.nsPerByteSaved).filter((value): value is number => value !== undefined && value > 0);
  const logMin = Math.floor(Math.log10(Math.min(...costs, 1)));
  const logMax = Math.ceil(Math.log10(Math.max(...costs, 10)));

  const yOfMb = (mb: number) => plot.bottom - ((plot.bottom - plot.top) * mb) / maxMb;
  const yOfCost = (ns: number) => plot.bottom - ((plot.bottom - plot.top) * (Math.log10(ns) - logMin)) / (logMax - logMin);
  const parts: string[] = [];

  for (let mb = 0; mb <= maxMb; mb += 20) {
    parts.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${yOfMb(mb)}" y2="${yOfMb(mb)}" stroke="#ddd"/>`);
    parts.push(`<text x="${plot.left - 8}" y="${yOfMb(mb) + 4}" text-anchor="end">${mb}</text>`);
  }
  for (let power = logMin; power <= logMax; power++) {
    parts.push(`<text x="${plot.right + 8}" y="${yOfCost(10 ** power) + 4}" fill="#c0392b">1e${power}</text>`);
  }

  rows.forEach((row, index) => {
    const x = plot.left + index * slot;
    const center = x + slot / 2;
    if (row.size !== undefined) {
      const color = barColor(row);
      parts.push(`<rect x="${x + slot * 0.15}" y="${yOfMb(row.size / 1e6)}" width="${slot * 0.7}" height="${plot.bottom - yOfMb(row.size / 1e6)}" fill="${color}"/>`);
      parts.push(`<text x="${center}" y="${yOfMb(row.size / 1e6) - 4}" text-anchor="middle" font-size="10">${(row.size / 1e6).toFixed(1)}</text>`);
    }
    if (row.nsPerByteSaved !== undefined && row.nsPerByteSaved > 0) {
      parts.push(`<circle cx="${center}" cy="${yOfCost(row.nsPerByteSaved)}" r="5" fill="#c0392b"/>`);
    }
    parts.push(`<text transform="translate(${center},${plot.bottom + 12}) rotate(40)" font-size="11">${escapeXml(row.method.replaceAll("`", ""))}</text>`);
  });

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">artifact release binary: size (bars, MB) and build time per byte saved (dots, ns, log axis)</text>
<text transform="translate(20,${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle">size (MB)</text>
<text transform="translate(${width - 18},${(plot.top + plot.bottom) / 2}) rotate(90)" text-anchor="middle" fill="#c0392b">ns of build time per byte saved</text>
<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="#333"/>
${parts.join("\n")}
<text x="${plot.left}" y="${height - 12}" font-size="11">dark bars: run here and pass the stack trace check; light blue: checked for structure only; grey: fail or skipped</text>
</svg>
`;
}

function barColor(row: Row): string {
  if (row.mode === "run" && row.runsProgram && row.traceOk) return "#2e86c1";
  if (row.mode === "structure") return "#85c1e9";
  return "#aab7b8";
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
