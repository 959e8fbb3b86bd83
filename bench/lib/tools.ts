/**
 * The peer tools: installed from Debian when missing, and described (versions, machine) for the
 * report. Debian's awscli is /usr/bin/aws, called by its full path so no other `aws` on PATH
 * (a pyenv shim, a pip install) is measured by mistake.
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { UnavailableError } from "../../src/shared/errors.ts";
import { environmentOf, type CommandSpec } from "./measure.ts";

export const aws = "/usr/bin/aws";
export const gnuTime = "/usr/bin/time";

/** Debian package of each executable the benchmark runs. */
const packages: Record<string, string> = {
  [aws]: "awscli",
  "/usr/bin/rclone": "rclone",
  "/usr/bin/s3cmd": "s3cmd",
  "/usr/bin/hyperfine": "hyperfine",
  [gnuTime]: "time",
  "/usr/bin/openssl": "openssl",
  "/usr/bin/curl": "curl",
  "/usr/sbin/ip": "iproute2",
  "/usr/sbin/tc": "iproute2",
};

/** Installs the Debian packages of any missing executable; needs root and apt-get. */
export async function installPeers(log: (line: string) => void): Promise<void> {
  const missing = [...new Set(Object.entries(packages).filter(([path]) => !existsSync(path)).map(([, name]) => name))];
  if (missing.length === 0) return;

  if (!existsSync("/usr/bin/apt-get") || process.getuid?.() !== 0) {
    throw new UnavailableError(`missing Debian packages: ${missing.join(" ")}`, { hint: `install them as root: apt-get install ${missing.join(" ")}` });
  }
  log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await runChecked(["apt-get", "update", "-qq"], env);
  await runChecked(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing], env);
}

export interface MachineDescription {
  cpuModel: string;
  cpuCount: number;
  /** CPU flags that decide hashing speed. */
  shaInstructions: boolean;
  kernel: string;
  memoryGiB: number;
  loadAverageAtStart: string;
  versions: Record<string, string>;
}

export async function describeMachine(artifactBinary: string): Promise<MachineDescription> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memoryKiB = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);

  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cpuCount: cpus().length,
    shaInstructions: /\bsha_ni\b/.test(cpuinfo),
    kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
    memoryGiB: Math.round(memoryKiB / 1024 ** 2),
    loadAverageAtStart: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    versions: {
      artifact: await firstLine([artifactBinary, "--version"]),
      "aws-cli": await firstLine([aws, "--version"]),
      rclone: await firstLine(["rclone", "version"]),
      s3cmd: await firstLine(["s3cmd", "--version"]),
      curl: await firstLine(["curl", "--version"]),
      openssl: await firstLine(["openssl", "version"]),
      hyperfine: await firstLine(["hyperfine", "--version"]),
      "GNU time": await firstLine([gnuTime, "--version"]),
      radosgw: await firstLine(["radosgw", "--version"]).catch(() => "not installed"),
      bun: Bun.version,
    },
  };
}

async function firstLine(argv: string[]): Promise<string> {
  const child = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return (stdout.trim() || stderr.trim()).split("\n")[0]!;
}

export async function runChecked(argv: string[], env: Record<string, string | undefined> = process.env): Promise<string> {
  const child = Bun.spawn(argv, { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) {
    throw new UnavailableError(`${argv.join(" ")} exited with ${exitCode}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`, {
      hint: "run the command by hand to see the whole output",
    });
  }
  return stdout;
}

/** Runs a command with its environment, unmeasured; throws UnavailableError when it fails. */
export async function runSpec(spec: CommandSpec): Promise<string> {
  return runChecked(spec.argv, environmentOf(spec));
}
