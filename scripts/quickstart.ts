/**
 * The quick start and the project's end-to-end test: builds the binary, starts `artifact serve`
 * with the built-in store on a free port and a fresh data directory, and runs the whole flow with
 * the CLI on real input. It exits non-zero as soon as a step does not behave as described.
 *
 *   bun scripts/quickstart.ts [--keep]    (--keep leaves the work directory for inspection)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAndLog, startServer, type RunningServer } from "./quickstart/server.ts";
import { createCli } from "./quickstart/cli.ts";
import { runFlow } from "./quickstart/flow.ts";
import { QuickstartFailure, step } from "./quickstart/report.ts";

async function main(): Promise<number> {
  const started = performance.now();
  const keep = process.argv.includes("--keep");
  const workDir = await mkdtemp(join(tmpdir(), "artifact-quickstart-"));
  let server: RunningServer | undefined;

  try {
    const buildLog = await buildAndLog(workDir);
    server = await startServer(workDir);
    const cli = createCli(server);
    const summary = await runFlow({ workDir, server, cli, buildLog });

    step("stop the server and summarize");
    await server.stop();
    server = undefined;
    process.stdout.write(`\n${summary}\n\nquick start passed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof QuickstartFailure)) throw error;
    process.stderr.write(`\nquick start FAILED: ${error.message}\n`);
    return 1;
  } finally {
    await server?.stop();
    if (keep) process.stderr.write(`work directory kept: ${workDir}\n`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

// Exit at once: idle keep-alive sockets to the stopped server would hold the event loop ~10 s.
process.exit(await main());
