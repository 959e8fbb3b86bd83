/**
 * Runs `artifact serve` as its own process for the queue benchmark, so the load generator never
 * shares its event loop or CPU time accounting, and reads the server's CPU time and memory from
 * /proc (Linux only).
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface ServerProcessOptions {
  /** A `.ts` entry point run with this bun, or an executable such as dist/artifact. */
  entry: string;
  dataDir: string;
  /** File that receives the server's stderr: its log lines. */
  logPath: string;
  rootAccessToken: string;
  /** `serve` options besides port and data directory, e.g. the --s3-* settings. */
  extraArgs: string[];
  /** Directory for a CPU profile (bun --cpu-prof --cpu-prof-md), written when the server exits. */
  cpuProfileDir?: string;
}

export interface ServerProcess {
  rootUrl: string;
  pid: number;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number>;
}

export interface ProcessSample {
  /** User plus system CPU time so far, in seconds. */
  cpuSeconds: number;
  /** The part of cpuSeconds spent in the kernel. */
  systemCpuSeconds: number;
  /** Write and read system calls so far (syscw, syscr of /proc/<pid>/io), a count that host load does not blur. */
  writeCalls: number;
  readCalls: number;
  /** Resident set size now, in MiB. */
  rssMiB: number;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB: number;
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux architecture Bun supports. */
const clockTicksPerSecond = 100;

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const command = commandOf(options.entry, options.cpuProfileDir);
  const logFd = openSync(options.logPath, "a");
  let child: Subprocess;
  try {
    child = Bun.spawn([...command, "serve", "--port", String(port), "--data-dir", options.dataDir, ...options.extraArgs], {
      stdin: "ignore",
      stdout: logFd,
      stderr: logFd,
      env: { ...process.env, ARTIFACT_ROOT_ACCESS_TOKEN: options.rootAccessToken },
    });
  } finally {
    closeSync(logFd);
  }

  const rootUrl = `http://127.0.0.1:${port}`;
  await waitForPing(rootUrl, child, options.logPath);
  return {
    rootUrl,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      return child.exited;
    },
  };
}

function commandOf(entry: string, cpuProfileDir: string | undefined): string[] {
  if (!entry.endsWith(".ts")) return [entry];
  const profile = cpuProfileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${cpuProfileDir}`] : [];
  return [process.execPath, ...profile, entry];
}

/** Asks the kernel for a free port by listening on port 0 and closing the socket again. */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Polls GET /api/queue/v1/ping until it returns 200; throws with the log's tail if the server exits or 20 s pass. */
async function waitForPing(rootUrl: string, child: Subprocess, logPath: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${rootUrl}/api/queue/v1/ping`).then((response) => response.ok, () => false);
    if (ok) return;
    await Bun.sleep(50);
  }

  child.kill("SIGKILL");
  const tail = readFileSync(logPath, "utf8").split("\n").slice(-20).join("\n");
  throw new Error(`artifact serve did not respond to ${rootUrl}/api/queue/v1/ping within 20 s; its log ends with:\n${tail}`);
}

/** Reads the CPU time and memory of process `pid` from /proc. */
export function sampleProcess(pid: number): ProcessSample {
  // Fields after the command name, which is in parentheses and may contain spaces: utime and
  // stime are fields 14 and 15 of the whole line.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);

  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const count = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, "m").exec(io)?.[1] ?? Number.NaN);
  return {
    writeCalls: count("syscw"),
    readCalls: count("syscr"),
    cpuSeconds: (userTicks + systemTicks) / clockTicksPerSecond,
    systemCpuSeconds: systemTicks / clockTicksPerSecond,
    rssMiB: kib("VmRSS") / 1024,
    peakRssMiB: kib("VmHWM") / 1024,
  };
}

export function logPathOf(directory: string): string {
  return join(directory, "serve.log");
}
