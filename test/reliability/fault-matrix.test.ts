/**
 * The fault matrix: `artifact upload` and `artifact download` run as child processes with their
 * storage traffic sent through the fault proxy, once with each fault injected once (transient)
 * and once with it on every attempt (persistent). Whatever happens, an upload ends with the
 * artifact present and byte-exact or not present with a failure exit code, and a download ends
 * with a byte-exact file or a failure exit code and no output file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { startFaultProxy, type Fault, type FaultProxy, type FaultRule } from "../support/fault-proxy.ts";
import { runArtifact, type CliResult } from "../download/support/cli.ts";
import { nightly } from "./support/counts.ts";
import { runningTask, startReliabilityServer, type ReliabilityServer } from "./support/server.ts";

const size = 1024 * 1024 + 13;
/** How long the proxy stops sending in the stall test; longer than any sensible idle timeout. */
const stallMs = 8_000;
/** Exit codes a command may end with when a fault wins: data error, unavailable, temporary. */
const failureCodes = [65, 69, 75];

type Direction = "upload" | "download";

interface FaultCase {
  name: string;
  fault: Fault;
  directions: Direction[];
  /** Exit codes an upload may fail with, when they differ from failureCodes. */
  uploadFailureCodes?: number[];
}

const cases: FaultCase[] = [
  { name: "drop at 0 %", fault: { kind: "drop", afterBytes: 0 }, directions: ["upload", "download"] },
  { name: "drop after 1 byte", fault: { kind: "drop", afterBytes: 1 }, directions: ["upload", "download"] },
  { name: "drop at 50 %", fault: { kind: "drop", afterBytes: Math.floor(size / 2) }, directions: ["upload", "download"] },
  { name: "drop at 100 % - 1 byte", fault: { kind: "drop", afterBytes: size - 1 }, directions: ["upload", "download"] },
  { name: "truncate at 50 %", fault: { kind: "truncate", afterBytes: Math.floor(size / 2) }, directions: ["upload", "download"] },
  { name: "one flipped byte", fault: { kind: "flip", offset: Math.floor(size / 3) }, directions: ["upload", "download"] },
  // A raised Content-Length breaks the signature, and storage returns 403 SignatureDoesNotMatch.
  // The uploader sent the request exactly as signed, so it retries and then reports a request
  // altered in transit (exit 65).
  { name: "extra bytes", fault: { kind: "append", bytes: 7 }, directions: ["upload", "download"], uploadFailureCodes: [65] },
  { name: "500", fault: { kind: "status", status: 500 }, directions: ["upload", "download"] },
  { name: "503 SlowDown", fault: { kind: "status", status: 503, code: "SlowDown" }, directions: ["upload", "download"] },
  { name: "slow link", fault: { kind: "slow", bytesPerSecond: 4 * 1024 * 1024 }, directions: ["upload", "download"] },
  { name: "404 after completion", fault: { kind: "status", status: 404, code: "NoSuchKey" }, directions: ["download"] },
  { name: "unasked gzip", fault: { kind: "gzip" }, directions: ["download"] },
  { name: "Accept-Encoding rewritten", fault: { kind: "accept-encoding", value: "gzip, br", mode: "replace" }, directions: ["download"] },
];

/** Transient faults hit one attempt; persistent ones more than any retry budget. */
const persistence = nightly ? [1, 2, 100] : [1, 100];

describe("fault matrix (built-in store)", () => {
  let server: ReliabilityServer;
  let proxy: FaultProxy;
  let directory: string;
  let taskId: string;
  // The built-in store shares the queue's port and serves every path outside /api/.
  const storagePath = /^\/(?!api\/)/;
  const content = new Uint8Array(size).map((_, index) => (index * 31 + 7) % 251);
  const outcomes: string[] = [];

  beforeAll(async () => {
    server = await startReliabilityServer(undefined);
    proxy = await startFaultProxy();
    directory = mkdtempSync(join(tmpdir(), "artifact-reliability-faults-"));
    writeFileSync(join(directory, "input.bin"), content);
    taskId = await runningTask(server);

    const seeded = await cli(["upload", taskId, "0", "public/seed.bin", "-i", join(directory, "input.bin"), "-q"]);
    expect(seeded.stderr).toBe("");
    expect(seeded.exitCode).toBe(0);
  }, 60_000);

  afterAll(async () => {
    console.log(`faults: ${outcomes.length} runs`);
    for (const line of outcomes) console.log(`faults: ${line}`);
    await proxy?.stop();
    await server?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const env = () => ({
    TASKCLUSTER_ROOT_URL: server.rootUrl,
    TASKCLUSTER_CLIENT_ID: server.credentials.clientId,
    TASKCLUSTER_ACCESS_TOKEN: server.credentials.accessToken,
  });
  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => runArtifact(args, { ...env(), ...extraEnv });

  /** Runs a command with `rule` applied to storage requests only. */
  const throughProxy = (args: string[], rule: Omit<FaultRule, "path">): Promise<CliResult> => {
    proxy.clear();
    proxy.inject({ ...rule, path: storagePath });
    return cli(args, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  };

  /** Returns the artifact's bytes through getArtifact, or undefined while it is not present. */
  const stored = async (name: string): Promise<Uint8Array | undefined> => {
    const located = await server.api("GET", `/task/${taskId}/runs/0/artifacts/${name}`);
    await located.body?.cancel();
    if (located.status === 404) return undefined;
    expect(located.status).toBe(303);
    const response = await fetch(located.headers.get("location")!, { decompress: false });
    return new Uint8Array(await response.arrayBuffer());
  };

  test("download: stalled connection times out", async () => {
    const output = join(directory, "stalled.bin");
    const started = performance.now();
    const result = await throughProxy(["download", taskId, "0", "public/seed.bin", "-o", output, "-q", "--retries", "0", "--idle-timeout", "1"], {
      fault: { kind: "stall", afterBytes: 1000, ms: stallMs },
      method: "GET",
    });
    outcomes.push(`download stalled ${stallMs} ms: exit ${result.exitCode} after ${Math.round(performance.now() - started)} ms`);

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toMatch(/timed out/i);
    expect(existsSync(output)).toBe(false);
  }, 60_000);

  test("upload: stalled connection times out", async () => {
    const started = performance.now();
    const args = ["upload", taskId, "0", "public/stalled.bin", "-i", join(directory, "input.bin"), "-q", "--retries", "0", "--idle-timeout", "1"];
    const result = await throughProxy(args, { fault: { kind: "stall", afterBytes: 1000, ms: stallMs }, method: "PUT", direction: "request" });
    outcomes.push(`upload stalled ${stallMs} ms: exit ${result.exitCode} after ${Math.round(performance.now() - started)} ms`);

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toMatch(/timed out/i);
    expectOneErrorLine(result);
    expect(await stored("public/stalled.bin")).toBeUndefined();
  }, 60_000);

  let caseIndex = 0;
  for (const { name, fault, directions, uploadFailureCodes } of cases) {
    for (const times of persistence) {
      const label = `${name}, ${times === 1 ? "once" : `${times} times`}`;

      if (directions.includes("upload")) {
        test(`upload: ${label}`, async () => {
          const artifact = `public/upload-${caseIndex++}.bin`;
          const result = await throughProxy(["upload", taskId, "0", artifact, "-i", join(directory, "input.bin"), "-q"], { fault, times, method: "PUT", direction: "request" });
          const bytes = await stored(artifact);
          outcomes.push(`upload ${label}: exit ${result.exitCode}, ${bytes ? "present" : "not present"}`);
          if (result.exitCode !== 0) outcomes.push(`  ${result.stderr.trim()}`);

          if (result.exitCode === 0) {
            expect(bytes).toBeDefined();
            expect(Buffer.compare(Buffer.from(bytes!), Buffer.from(content))).toBe(0);
          } else {
            expect(uploadFailureCodes ?? failureCodes).toContain(result.exitCode);
            expect(bytes).toBeUndefined();
            expectOneErrorLine(result);
          }
        }, 120_000);
      }

      if (directions.includes("download")) {
        test(`download: ${label}`, async () => {
          const output = join(directory, `download-${caseIndex++}.bin`);
          const result = await throughProxy(["download", taskId, "0", "public/seed.bin", "-o", output, "-q", "--retry-delay", "10"], { fault, times, method: "GET" });
          outcomes.push(`download ${label}: exit ${result.exitCode}`);

          if (result.exitCode === 0) {
            expect(Buffer.compare(readFileSync(output), Buffer.from(content))).toBe(0);
          } else {
            expect(failureCodes).toContain(result.exitCode);
            expectOneErrorLine(result);
            expect(existsSync(output)).toBe(false);
            expect(readdirSync(directory).filter((file) => file.startsWith(basename(output)))).toEqual([]);
          }
        }, 120_000);
      }
    }
  }
});

/** With --quiet a failed command prints exactly one line on stderr: what failed and what to do next. */
function expectOneErrorLine(result: CliResult): void {
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("artifact: ");
}
