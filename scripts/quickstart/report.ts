/** Printing of the quick start's steps and checks, and its one failure type. */

/** A step did not behave as described; the message says which and how. */
export class QuickstartFailure extends Error {}

let stepNumber = 0;

export function step(title: string): void {
  stepNumber++;
  process.stderr.write(`\n== ${stepNumber}. ${title}\n`);
}

export function say(line: string): void {
  process.stderr.write(`   ${line}\n`);
}

/** Prints a passed check, or throws a QuickstartFailure naming it. */
export function check(condition: boolean, description: string, detail = ""): void {
  if (!condition) throw new QuickstartFailure(detail ? `${description}: ${detail}` : description);
  say(`ok: ${description}`);
}

/** Formats a byte count with the largest binary unit that keeps it at 1 or more. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function rate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${humanSize(bytes / seconds)}/s` : "-";
}

/** Formats rows as a left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [format(header), ...rows.map(format)].join("\n");
}
