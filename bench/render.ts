/**
 * `bun bench/render.ts [RESULTS.json] [OUT_DIR]`: writes benchmarks.md and benchmarks.svg again from
 * saved results (default bench/results/latest.json into docs), without measuring anything.
 */
import { readFileSync } from "node:fs";
import type { BenchResults } from "./lib/results.ts";
import { writeReport } from "./lib/report.ts";

const resultsPath = Bun.argv[2] ?? "bench/results/latest.json";
const outDir = Bun.argv[3] ?? "docs";
const results = JSON.parse(readFileSync(resultsPath, "utf8")) as BenchResults;
writeReport(results, outDir, resultsPath);
process.stderr.write(`bench: wrote benchmarks.md and benchmarks.svg in ${outDir} from ${resultsPath}\n`);
