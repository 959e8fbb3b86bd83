/** What one benchmark run records; results.json holds exactly this. */
import type { Measurement } from "./measure.ts";
import type { TargetName } from "./options.ts";
import type { MachineDescription } from "./tools.ts";

export type FileKind = "random" | "text";

export interface TransferRow {
  scenario: "upload" | "download";
  target: TargetName;
  file: FileKind;
  sizeBytes: number;
  tool: string;
  /** The command line with paths and presigned URLs replaced by placeholders. */
  command: string;
  /** The tool every ratio of this group is taken against. */
  isFloor: boolean;
  runs: Measurement[];
  /** One line per failed run: the tool's exit code and last output lines. */
  failures: string[];
}

export interface HashRow {
  tool: string;
  command: string;
  runs: Measurement[];
}

export interface StartupRow {
  tool: string;
  command: string;
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  runs: number;
}

export interface ConcurrencyRow {
  partsInFlight: number;
  partSizeBytes: number;
  runs: Measurement[];
  /** Seconds of each run's send step (the parts in flight), from the upload's --json summary. */
  sendSeconds?: number[];
}

export interface ConcurrencyResult {
  sizeBytes: number;
  delayMs: number;
  /** How the delay was added: netem in a namespace, or the userspace delay proxy when the kernel lacks netem. */
  method: string;
  rows: ConcurrencyRow[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  commandLine: string;
  machine: MachineDescription;
  sizeBytes: number;
  largeSizeBytes: number;
  runs: number;
  transfers: TransferRow[];
  startup: StartupRow[];
  hashing: HashRow[];
  concurrency?: ConcurrencyResult;
  /** Scenarios or targets left out, each with the reason. */
  skipped: string[];
}
