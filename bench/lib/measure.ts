/**
 * Runs one command under GNU time and returns its wall time, the client's peak RSS and CPU
 * seconds, and the CPU seconds the server processes spent meanwhile (from /proc/<pid>/stat).
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "../../src/shared/errors.ts";

export interface Measurement {
  wallSeconds: number;
  /** Largest RSS of any single process of the command (GNU time's "Maximum resident set size"). */
  peakRssMiB: number;
  clientCpuSeconds: number;
  serverCpuSeconds: number;
}

export interface CommandSpec {
  /** Shown in the report and in error messages. */
  label: string;
  argv: string[];
  /** Added to this process's environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
}

export function environmentOf(command: CommandSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...command.env })) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** USER_HZ: the unit of /proc/<pid>/stat times, which Linux fixes at 100 on x86-64 and arm64. */
const clockTicksPerSecond = 100;

export async function measure(command: CommandSpec, serverPids: number[], workDir: string): Promise<Measurement> {
  return (await measureWithOutput(command, serverPids, workDir)).measurement;
}

/** Like measure, and also returns what the command printed on stdout. */
export async function measureWithOutput(command: CommandSpec, serverPids: number[], workDir: string): Promise<{ measurement: Measurement; stdout: string }> {
  const timeFile = join(workDir, "time-v.txt");
  const cpuBefore = serverCpuSeconds(serverPids);
  const started = performance.now();

  const child = Bun.spawn(["/usr/bin/time", "-v", "-o", timeFile, ...command.argv], {
    env: environmentOf(command),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [exitCode, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuAfter = serverCpuSeconds(serverPids);

  if (exitCode !== 0) {
    const output = `${stderr}\n${stdout}`.trim().split("\n").slice(-5).join("\n");
    throw new UnavailableError(`${command.label} exited with ${exitCode}: ${command.argv.join(" ")}\n${output}`, {
      hint: "run the command by hand with the same environment to see why",
    });
  }

  const report = readFileSync(timeFile, "utf8");
  rmSync(timeFile);
  const measurement = {
    wallSeconds,
    peakRssMiB: timeField(report, "Maximum resident set size (kbytes)") / 1024,
    clientCpuSeconds: timeField(report, "User time (seconds)") + timeField(report, "System time (seconds)"),
    serverCpuSeconds: cpuAfter - cpuBefore,
  };
  return { measurement, stdout };
}

/** Sum of user and system CPU seconds of the processes, from fields 14 and 15 of /proc/<pid>/stat. */
export function serverCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces, so count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / clockTicksPerSecond;
}

function timeField(report: string, name: string): number {
  const line = report.split("\n").find((text) => text.trim().startsWith(name));
  const value = line ? Number(line.slice(line.lastIndexOf(":") + 1)) : NaN;
  if (!Number.isFinite(value)) throw new UnavailableError(`GNU time printed no "${name}" line`, { hint: "install the Debian package time (/usr/bin/time)" });
  return value;
}
