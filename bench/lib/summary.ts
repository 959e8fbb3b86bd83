/** Per-row figures of the report: medians, spreads and ratios to the floor and to aws-cli. */
import type { Measurement } from "./measure.ts";
import type { TransferRow } from "./results.ts";
import { summarize, type Summary } from "./stats.ts";

export interface RowSummary {
  row: TransferRow;
  wall: Summary;
  /** Median wall time of this row over the floor's median, same target, file and scenario. */
  ratioToFloor: number | undefined;
  ratioToAws: number | undefined;
  peakRssMiB: number;
  clientCpuSeconds: number;
  serverCpuSecondsPerGiB: number;
}

/** Summarizes every row with at least one successful run; rows whose runs all failed are left out. */
export function summarizeRows(allRows: TransferRow[]): RowSummary[] {
  const rows = allRows.filter((row) => row.runs.length > 0);
  return rows.map((row) => {
    const group = rows.filter((other) => other.scenario === row.scenario && other.target === row.target && other.file === row.file && other.sizeBytes === row.sizeBytes);
    const floor = group.find((other) => other.isFloor);
    const awsRow = group.find((other) => other.tool.startsWith("aws s3 cp"));
    const wall = summarize(wallTimes(row.runs));
    const gib = row.sizeBytes / 1024 ** 3;

    return {
      row,
      wall,
      ratioToFloor: floor ? wall.median / summarize(wallTimes(floor.runs)).median : undefined,
      ratioToAws: awsRow ? wall.median / summarize(wallTimes(awsRow.runs)).median : undefined,
      peakRssMiB: Math.max(...row.runs.map((run) => run.peakRssMiB)),
      clientCpuSeconds: summarize(row.runs.map((run) => run.clientCpuSeconds)).median,
      serverCpuSecondsPerGiB: summarize(row.runs.map((run) => run.serverCpuSeconds)).median / gib,
    };
  });
}

export function wallTimes(runs: Measurement[]): number[] {
  return runs.map((run) => run.wallSeconds);
}
