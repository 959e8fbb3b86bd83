/**
 * Checks that release files still contain the artifact program and print a usable stack trace.
 * A file for this machine runs twice: `--version` must print the artifact version line (a stripped
 * binary prints Bun's version instead, because it has turned into plain bun), and
 * ARTIFACT_DEBUG_PANIC=1 must exit 70 with a trace that names src/cli/debug-panic.ts, the line
 * of the throw and the function throwDeliberateStartupPanic. Binaries for other targets are
 * checked for structure only: ELF machine, program interpreter, and the embedded program.
 * Usage: bun scripts/release/panic-check.ts [FILE ...]   (default: the release files in dist/)
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../src/shared/errors.ts";
import { readElf } from "./elf.ts";
import { hostTarget, targets, type Target } from "./targets.ts";

export interface CheckResult {
  file: string;
  /** `run`: executed here; `structure`: inspected only, because it cannot run on this machine. */
  mode: "run" | "structure";
  runsProgram: boolean;
  traceOk: boolean;
  problems: string[];
}

const panicSource = "src/cli/debug-panic.ts";
const panicFunction = "throwDeliberateStartupPanic";

/** Returns the 1-based line of the `throw` inside throwDeliberateStartupPanic. */
export async function expectedPanicLine(): Promise<number> {
  const lines = (await Bun.file(panicSource).text()).split("\n");
  const start = lines.findIndex((line) => line.includes(`function ${panicFunction}`));
  const offset = lines.slice(start).findIndex((line) => line.trimStart().startsWith("throw "));
  if (start < 0 || offset < 0) throw new Error(`${panicSource} has no throw inside ${panicFunction}; update the panic check`);
  return start + offset + 1;
}

/** Checks one release file; `target` defaults to the one its name ends with. */
export async function checkReleaseFile(file: string, target = targetOfName(file), env: Record<string, string> = {}): Promise<CheckResult> {
  if (target.name === hostTarget().name) return runCheck(file, env);
  return structureCheck(file, target);
}

async function runCheck(file: string, env: Record<string, string>): Promise<CheckResult> {
  const result: CheckResult = { file, mode: "run", runsProgram: false, traceOk: false, problems: [] };

  const version = await runFile(file, ["--version"], env);
  if (version.exitCode === notStarted) {
    result.problems.push(version.stderr);
    return result;
  }
  result.runsProgram = version.exitCode === 0 && version.stdout.startsWith("artifact ");
  if (!result.runsProgram) {
    const output = `${version.stdout}${version.stderr}`.trim().split("\n")[0];
    result.problems.push(`--version printed "${output}" with exit code ${version.exitCode}, not the artifact version line; the file no longer runs the artifact program (stripped binaries turn into plain bun)`);
    return result;
  }

  const panic = await runFile(file, ["--version"], { ...env, ARTIFACT_DEBUG_PANIC: "1" });
  const line = await expectedPanicLine();
  const frame = `at ${panicFunction} (${panicSource}:${line}:`;
  if (panic.exitCode !== ExitCode.internal) result.problems.push(`panic exited with ${panic.exitCode}, expected ${ExitCode.internal}`);
  if (!panic.stderr.includes(frame)) {
    const firstFrame = panic.stderr.split("\n").find((text) => text.trim().startsWith("at "))?.trim() ?? "none";
    result.problems.push(`panic trace lacks "${frame}"; its first frame is "${firstFrame}"`);
  }
  result.traceOk = result.problems.length === 0;
  return result;
}

async function structureCheck(file: string, target: Target): Promise<CheckResult> {
  const result: CheckResult = { file, mode: "structure", runsProgram: false, traceOk: false, problems: [] };
  const binary = (await Bun.file(file).slice(0, 2).text()) === "#!" ? await unpackForInspection(file) : file;

  try {
    const elf = await readElf(binary);
    if (elf?.machine !== target.elfMachine) result.problems.push(`ELF machine is ${elf?.machine}, expected ${target.elfMachine} for ${target.name}`);
    if (elf?.interpreter !== target.interpreter) result.problems.push(`interpreter is ${elf?.interpreter}, expected ${target.interpreter}`);
    for (const needle of [panicFunction, panicSource]) {
      if (!(await containsBytes(binary, needle))) result.problems.push(`embedded program or source map lacks "${needle}"`);
    }
  } finally {
    if (binary !== file) await rm(binary, { force: true });
  }

  result.runsProgram = result.problems.length === 0;
  result.traceOk = result.runsProgram;
  return result;
}

/** Unpacks a self-extracting file through its own header into a throwaway cache, without exec. */
async function unpackForInspection(file: string): Promise<string> {
  const cache = await mkdtemp(join(tmpdir(), "artifact-inspect-"));
  await runFile(file, ["--version"], { XDG_CACHE_HOME: cache });
  const [hash] = await readdir(join(cache, "artifact"));
  const unpacked = join(tmpdir(), `artifact-inspect-${hash}`);
  await Bun.write(unpacked, Bun.file(join(cache, "artifact", hash ?? "missing", "artifact")));
  await rm(cache, { recursive: true, force: true });
  return unpacked;
}

async function containsBytes(file: string, needle: string): Promise<boolean> {
  const grep = Bun.spawn(["grep", "-qaF", "--", needle, file], { stdout: "ignore", stderr: "ignore" });
  return (await grep.exited) === 0;
}

interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Exit code of a file that could not be started at all. */
const notStarted = -1;

/** Runs the file. A file that cannot be started (not executable, missing) gives exit code notStarted and the reason on stderr. */
async function runFile(file: string, args: string[], env: Record<string, string>): Promise<RunOutput> {
  let child: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    child = Bun.spawn([file, ...args], {
      env: { ...process.env, ARTIFACT_DEBUG_PANIC: "", ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
  } catch (error) {
    return { exitCode: notStarted, stdout: "", stderr: `cannot start ${file}: ${(error as Error).message}; check that it is an executable file (chmod +x)` };
  }
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}

function targetOfName(file: string): Target {
  const name = file.replace(/\.[a-z]+\.sh$/, "");
  const target = [...targets].sort((a, b) => b.name.length - a.name.length).find((candidate) => name.endsWith(`-${candidate.name}`));
  return target ?? hostTarget();
}

async function defaultFiles(): Promise<string[]> {
  const names = await readdir("dist");
  return names.filter((name) => name.startsWith("artifact-") && !name.endsWith(".map")).map((name) => join("dist", name));
}

if (import.meta.main) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : await defaultFiles();
  let failed = 0;
  for (const file of files) {
    const result = await checkReleaseFile(file);
    const passed = result.runsProgram && result.traceOk;
    if (!passed) failed++;
    console.log(`${passed ? "ok  " : "FAIL"} ${result.mode.padEnd(9)} ${file}${passed ? "" : `: ${result.problems.join("; ")}`}`);
  }
  process.exit(failed === 0 ? 0 : 1);
}
