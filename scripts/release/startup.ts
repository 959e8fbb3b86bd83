/**
 * Startup time of `FILE --version`. Cold: the file's pages are evicted from the page cache first
 * (and a self-extracting file's unpack cache is emptied, so the run unpacks). Warm: the median of
 * 31 runs right after. Only the measured file is evicted, so other processes are unaffected.
 */
import { rm } from "node:fs/promises";

export interface StartupTimes {
  coldMs: number;
  warmMs: number;
}

const warmRuns = 31;

/** Measures one file; `cacheHome` is the XDG_CACHE_HOME that self-extracting files unpack into. */
export async function measureStartup(file: string, cacheHome: string): Promise<StartupTimes> {
  await rm(cacheHome, { recursive: true, force: true });
  await evictFromPageCache(file);
  const coldMs = await timeRun(file, cacheHome);

  const warm: number[] = [];
  for (let run = 0; run < warmRuns; run++) warm.push(await timeRun(file, cacheHome));
  warm.sort((a, b) => a - b);
  return { coldMs, warmMs: warm[Math.floor(warm.length / 2)]! };
}

async function timeRun(file: string, cacheHome: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([file, "--version"], {
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, ARTIFACT_DEBUG_PANIC: "" },
    stdout: "ignore",
    stderr: "ignore",
    timeout: 60_000,
  });
  const exitCode = await child.exited;
  const elapsed = performance.now() - started;
  if (exitCode !== 0) throw new Error(`${file} --version exited with ${exitCode}; check it with scripts/release/panic-check.ts`);
  return elapsed;
}

/** Writes the file back and drops its cached pages (GNU dd with iflag=nocache and count=0). */
async function evictFromPageCache(file: string): Promise<void> {
  await Bun.spawn(["sync", file]).exited;
  const dd = Bun.spawn(["dd", `if=${file}`, "iflag=nocache", "count=0", "status=none"], { stderr: "pipe" });
  if ((await dd.exited) !== 0) throw new Error(`dd could not evict ${file} from the page cache: ${await new Response(dd.stderr).text()}`);
}
