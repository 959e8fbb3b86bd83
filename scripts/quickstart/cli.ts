/** Runs `dist/artifact` commands for the quick start, printing each command line and its outcome. */
import { binary, type RunningServer } from "./server.ts";
import { check, say } from "./report.ts";

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export type Cli = (args: string[], expectedExitCode?: number) => Promise<CliResult>;

/** Returns a runner with the server's root URL and root credentials in the Taskcluster variables. */
export function createCli(server: RunningServer): Cli {
  const env = {
    ...process.env,
    TASKCLUSTER_ROOT_URL: server.rootUrl,
    TASKCLUSTER_CLIENT_ID: server.clientId,
    TASKCLUSTER_ACCESS_TOKEN: server.accessToken,
  };

  return async (args, expectedExitCode = 0) => {
    say(`$ artifact ${args.map(quote).join(" ")}`);
    const started = performance.now();
    const child = Bun.spawn([binary, ...args], { env, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    const seconds = (performance.now() - started) / 1000;

    const lastLine = stderr.trim().split("\n").at(-1);
    if (lastLine) say(`  ${lastLine}`);
    check(exitCode === expectedExitCode, `exit code ${expectedExitCode}`, `got ${exitCode}; stderr:\n${stderr}`);
    return { exitCode, stdout, stderr, seconds };
  };
}

function quote(word: string): string {
  return /^[\w./:@=+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
