/** Builds the binary and starts and stops `artifact serve` for the quick start. */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { QuickstartFailure, check, say, step } from "./report.ts";

export const binary = join(import.meta.dir, "../../dist/artifact");
const projectDir = join(import.meta.dir, "../..");

export interface RunningServer {
  rootUrl: string;
  clientId: string;
  accessToken: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Builds dist/artifact and runs the unit tests, writing both outputs to `build.log`, a real text
 * log that the flow uploads with --gzip. Returns the log's path.
 */
export async function buildAndLog(workDir: string): Promise<string> {
  step("build dist/artifact and run the unit tests");
  const logPath = join(workDir, "build.log");

  await runLogged(["bun", "scripts/build.ts"], logPath);
  await runLogged(["bun", "test", "test/unit", "test/cli"], logPath);

  const size = Bun.file(logPath).size;
  say(`build and unit-test output: ${logPath} (${size} bytes)`);
  return logPath;
}

async function runLogged(command: string[], logPath: string): Promise<void> {
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: projectDir, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  await appendFile(logPath, `$ ${command.join(" ")}\n${stdout}${stderr}\n`);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  check(exitCode === 0, `${command.join(" ")} succeeded in ${seconds} s`, `exit ${exitCode}; see ${logPath}\n${stderr.slice(-2000)}`);
}

/** Starts `artifact serve` on a free port with a fresh data directory and waits for its ready line. */
export async function startServer(workDir: string): Promise<RunningServer> {
  step("start artifact serve with the built-in store");
  const dataDir = join(workDir, "data");
  const serverLog = join(workDir, "serve.log");
  const child = Bun.spawn([binary, "serve", "--port", "0", "--data-dir", dataDir], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, ARTIFACT_ROOT_ACCESS_TOKEN: "" },
  });

  const rootUrl = await readyUrl(child.stderr, serverLog);
  const credentials = JSON.parse(await readFile(join(dataDir, "root-credentials.json"), "utf8")) as {
    clientId: string;
    accessToken: string;
  };
  say(`listening on ${rootUrl}; data in ${dataDir}; log in ${serverLog}`);

  return {
    rootUrl,
    dataDir,
    clientId: credentials.clientId,
    accessToken: credentials.accessToken,
    stop: () => stopProcess(child),
  };
}

/** Reads stderr lines into the log file until `listening on <url>`; the rest keeps flowing into the log. */
async function readyUrl(stderr: ReadableStream<Uint8Array>, logPath: string): Promise<string> {
  const decoder = new TextDecoder();
  const reader = stderr.getReader();
  let pending = "";
  const deadline = Date.now() + 30_000;

  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) throw new QuickstartFailure(`artifact serve exited before it was ready; see ${logPath}`);
    const text = decoder.decode(value, { stream: true });
    await appendFile(logPath, text);
    pending += text;

    const match = /listening on (\S+)/.exec(pending);
    if (match?.[1]) {
      void drainInto(reader, logPath);
      return match[1];
    }
  }
  throw new QuickstartFailure(`artifact serve printed no "listening on" line within 30 s; see ${logPath}`);
}

async function drainInto(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, logPath: string): Promise<void> {
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    await appendFile(logPath, decoder.decode(value, { stream: true }));
  }
}

/** Sends SIGTERM, waits up to 10 s, then SIGKILL. */
async function stopProcess(child: Bun.Subprocess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  const stopped = await Promise.race([child.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
  if (!stopped) {
    say(`artifact serve (pid ${child.pid}) did not stop within 10 s; sending SIGKILL`);
    child.kill("SIGKILL");
    await child.exited;
  }
}
