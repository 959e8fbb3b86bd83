#!/usr/bin/env bun
/**
 * Entry point of the `artifact` binary: parses the command line with citty, runs one command,
 * and turns its outcome into an exit code and at most one error line on stderr.
 */
import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { subCommands } from "./commands.ts";
import { versionLine } from "./version.ts";
import { ArtifactError, ExitCode, UsageError, exitCodeOf } from "../shared/errors.ts";
import { panicIfRequested } from "./debug-panic.ts";

const main = defineCommand({
  meta: {
    name: "artifact",
    description: "Upload, download and verify CI build artifacts, and serve the queue that records them",
  },
  subCommands,
});

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    process.stdout.write(`${versionLine()}\n`);
    return ExitCode.ok;
  }
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    const [command, parent] = await findCommand(main, argv);
    const usage = await renderUsage(command, parent);
    process.stdout.write(`${process.stdout.isTTY ? usage : stripColors(usage)}\n`);
    return ExitCode.ok;
  }

  const [first] = argv as [string];
  if (!(first in subCommands)) {
    const what = first.startsWith("-") ? "option" : "command";
    throw new UsageError(`unknown ${what} ${first}`, { hint: "see artifact --help" });
  }

  await runCommand(main, { rawArgs: argv });
  return ExitCode.ok;
}

function stripColors(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * Finds the subcommand that `--help` applies to, following the leading non-option words, and
 * returns it with a parent named by the whole command path, so usage reads `artifact task claim`.
 */
async function findCommand(
  command: CommandDef<any>,
  argv: string[],
  path: string[] = ["artifact"],
): Promise<[CommandDef<any>, CommandDef<any> | undefined]> {
  const name = argv.find((word) => !word.startsWith("-"));
  const children = command.subCommands as Record<string, CommandDef<any> | (() => Promise<CommandDef<any>>)> | undefined;
  const child = name === undefined ? undefined : children?.[name];
  if (!child) return [command, path.length > 1 ? { meta: { name: path.slice(0, -1).join(" ") } } : undefined];

  const resolved = typeof child === "function" ? await child() : child;
  return findCommand(resolved, argv.slice(argv.indexOf(name!) + 1), [...path, name!]);
}

/** Prints one line for expected failures and the stack trace for bugs; returns the exit code. */
function report(error: unknown): number {
  if (error instanceof ArtifactError && error.exitCode !== ExitCode.internal) {
    process.stderr.write(`artifact: ${error.toLine()}\n`);
    return error.exitCode;
  }
  if (isCittyUsageError(error)) {
    process.stderr.write(`artifact: ${error.message}; see artifact --help\n`);
    return ExitCode.usage;
  }
  process.stderr.write(`artifact: internal error, please report it with this trace:\n`);
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodeOf(error);
}

function isCittyUsageError(error: unknown): error is Error {
  return error instanceof Error && error.name === "CLIError";
}

async function start(): Promise<void> {
  let exitCode: number;
  try {
    panicIfRequested();
    exitCode = await run(process.argv.slice(2));
  } catch (error) {
    exitCode = report(error);
  }
  process.exitCode = exitCode;
}

await start();
