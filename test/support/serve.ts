/**
 * Starts `artifact serve` as a child process on a free port with a temporary data directory, for
 * tests of the client commands and of restarts. Runs dist/artifact when ARTIFACT_TEST_BINARY is
 * set to its path, else the sources with bun. Pass `s3` for an external endpoint (Ceph RGW);
 * without it the queue uses its built-in store.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface ServeOptions {
  dataDir?: string;
  s3?: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; prefix?: string };
  extraArgs?: string[];
  /** Fixed port, for a restart that clients reach at the same root URL; a free port by default. */
  port?: number;
  /** Variables added to the server's environment. */
  env?: Record<string, string>;
  /** Milliseconds to wait for `listening on`. */
  startTimeoutMs?: number;
}

export interface RunningServe {
  rootUrl: string;
  credentials: { clientId: string; accessToken: string };
  dataDir: string;
  /** Process id of the server, for memory readings and kill -9. */
  pid: number;
  /** Lines the server wrote to stderr so far. */
  stderr: string[];
  /** Sends SIGTERM and waits for the exit; removes the data directory unless it was given. */
  stop(): Promise<number>;
}

const repository = join(import.meta.dir, "../..");

export async function startServe(options: ServeOptions = {}): Promise<RunningServe> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "artifact-serve-"));
  const command = process.env.ARTIFACT_TEST_BINARY
    ? [process.env.ARTIFACT_TEST_BINARY]
    : [process.execPath, join(repository, "src/cli/main.ts")];
  const args = ["serve", "--port", String(options.port ?? 0), "--data-dir", dataDir, ...s3Args(options.s3), ...(options.extraArgs ?? [])];

  const child = Bun.spawn([...command, ...args], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, ARTIFACT_ROOT_ACCESS_TOKEN: "", ...options.env },
  });
  const stderr: string[] = [];
  const rootUrl = await waitForListening(child, stderr, options.startTimeoutMs ?? 15_000);
  const credentials = JSON.parse(readFileSync(join(dataDir, "root-credentials.json"), "utf8")) as RunningServe["credentials"];

  return {
    rootUrl,
    credentials: { clientId: credentials.clientId, accessToken: credentials.accessToken },
    dataDir,
    pid: child.pid,
    stderr,
    stop: async () => {
      child.kill("SIGTERM");
      const code = await child.exited;
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

function s3Args(s3: ServeOptions["s3"]): string[] {
  if (!s3) return [];
  return [
    "--s3-endpoint", s3.endpoint,
    "--s3-region", s3.region,
    "--s3-bucket", s3.bucket,
    "--s3-access-key-id", s3.accessKeyId,
    "--s3-secret-access-key", s3.secretAccessKey,
    ...(s3.prefix ? ["--s3-prefix", s3.prefix] : []),
  ];
}

/** Reads stderr until `listening on <rootUrl>`, keeping the lines; the server is killed on a timeout or early exit. */
async function waitForListening(child: Subprocess<"ignore", "ignore", "pipe">, lines: string[], timeoutMs: number): Promise<string> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let pending = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`artifact serve exited before listening:\n${lines.join("\n")}`);
      pending += value;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      lines.push(...parts);
      const ready = parts.find((line) => line.startsWith("listening on "));
      if (ready) {
        void drain(reader, lines);
        return ready.slice("listening on ".length);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps reading stderr so the child never blocks on a full pipe. */
async function drain(reader: { read(): Promise<{ value?: string; done?: boolean }> }, lines: string[]): Promise<void> {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    lines.push(...(value ?? "").split("\n").filter((line) => line !== ""));
  }
}
