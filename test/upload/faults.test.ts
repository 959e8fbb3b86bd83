/**
 * `artifact upload` against the built-in store with its storage requests sent through the fault
 * proxy: stalled connections time out, and requests changed in transit are retried and then
 * reported as such.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startServe, type RunningServe } from "../support/serve.ts";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.ts";
import { claimTaskRun, type CliResult, type TaskRun } from "../download/support/cli.ts";
import { QueueClient } from "../../src/client/queue-client.ts";
import { makeTempDir, writeRandomFile } from "./support/files.ts";
import { hashFile } from "./support/verify.ts";

const mebibyte = 1024 * 1024;
/** How long the proxy delays a request body, which is much longer than the 1 s idle timeout the tests give. */
const stallMs = 8_000;
/** The built-in store shares the queue's port and serves every path outside /api/. */
const storagePath = /^\/(?!api\/)/;

describe("upload storage faults (built-in store)", () => {
  let server: RunningServe;
  let proxy: FaultProxy;
  let task: TaskRun;
  let queue: QueueClient;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let input: string;

  beforeAll(async () => {
    server = await startServe();
    proxy = await startFaultProxy();
    task = await claimTaskRun(server);
    queue = new QueueClient({ rootUrl: server.rootUrl, credentials: { id: server.credentials.clientId, key: server.credentials.accessToken } });
    temp = await makeTempDir("artifact-upload-faults");
    input = join(temp.dir, "input.bin");
    await writeRandomFile(input, 10 * mebibyte + 5);
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await temp?.remove();
  });

  /** Storage PUTs the proxy received since the last uploadThroughProxy call began. */
  let firstRequest = 0;
  const storagePuts = () => proxy.requests.slice(firstRequest).filter((request) => request.method === "PUT" && storagePath.test(new URL(request.url).pathname));

  /** Runs the upload with `rule` applied to its storage PUTs only. */
  async function uploadThroughProxy(name: string, args: string[], rule: Omit<FaultRule, "path" | "method">): Promise<CliResult> {
    proxy.clear();
    firstRequest = proxy.requests.length;
    proxy.inject({ ...rule, path: storagePath, method: "PUT" });
    const argv = ["upload", task.taskId, "0", name, "-i", input, "--quiet", "--retries", "1", "--retry-delay", "10", ...args];
    return task.run(argv, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  }

  async function isPresent(name: string): Promise<boolean> {
    const response = await fetch(queue.apiUrl(`/task/${task.taskId}/runs/0/artifacts/${encodeURIComponent(name)}`), { redirect: "manual" });
    await response.body?.cancel();
    return response.status === 303;
  }

  async function expectStored(name: string): Promise<void> {
    const location = await queue.artifactLocation(task.taskId, 0, name);
    const stored = new Uint8Array(await (await fetch(location.url)).arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(stored).digest("hex")).toBe((await hashFile(input)).sha256);
  }

  test("stalled part exits 69 after retries", async () => {
    const name = "public/stalled.bin";
    const result = await uploadThroughProxy(name, ["--multipart", "--part-size", "5MiB", "--idle-timeout", "1"], {
      fault: { kind: "stall", afterBytes: 0, ms: stallMs },
      direction: "request",
      times: 100,
    });

    expect(result.exitCode).toBe(69);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    // A stall before the last bytes of a part were handed over, or after.
    const reason = /(took no bytes and sent no response for 1 s|sent no response within [\d.]+ s of the last body bytes being handed over \(1 s, plus the buffered bytes at 256 KiB\/s, shared by 3 requests in flight\))/;
    expect(result.stderr).toMatch(new RegExp(`^artifact: PUT of part [1-3] of 3 of public/stalled\\.bin timed out: storage ${reason.source} after 2 attempts; `));
    expect(result.stderr).toContain("--idle-timeout");
    expect(await isPresent(name)).toBe(false);
  }, 60_000);

  test("slow steady link outlasts a short idle timeout", async () => {
    const name = "public/slow-link.bin";
    const result = await uploadThroughProxy(name, ["--multipart", "--part-size", "5MiB", "--idle-timeout", "2"], {
      fault: { kind: "slow", bytesPerSecond: mebibyte },
      direction: "request",
      times: 100,
    });

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(storagePuts()).toHaveLength(3);
    await expectStored(name);
  }, 60_000);

  test("final failure of one part aborts the others", async () => {
    const name = "public/aborted-parts.bin";
    proxy.clear();
    firstRequest = proxy.requests.length;
    proxy.inject({ fault: { kind: "status", status: 403, code: "AccessDenied" }, method: "PUT", path: storagePath, times: 1 });
    proxy.inject({ fault: { kind: "stall", afterBytes: 0, ms: 3_000 }, direction: "request", method: "PUT", path: storagePath, times: 100 });
    const argv = ["upload", task.taskId, "0", name, "-i", input, "--quiet", "--multipart", "--part-size", "5MiB"];

    const result = await task.run(argv, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
    // Longer than the stall, so a part that was not aborted would have reached storage by now.
    await Bun.sleep(4_000);
    const statuses = storagePuts().map((request) => request.status);

    expect(result.exitCode).toBe(77);
    expect(result.stderr).toContain("returned 403 (AccessDenied");
    expect(statuses.filter((status) => status === 403)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toEqual([]);
  }, 60_000);

  test("stalled PUT once is retried", async () => {
    const name = "public/stalled-once.bin";
    const result = await uploadThroughProxy(name, ["--idle-timeout", "1"], {
      fault: { kind: "stall", afterBytes: 0, ms: stallMs },
      direction: "request",
      times: 1,
    });

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(storagePuts()).toHaveLength(2);
    await expectStored(name);
  }, 60_000);

  test("altered request exits 65 after retries", async () => {
    const name = "public/altered.bin";
    const result = await uploadThroughProxy(name, [], { fault: { kind: "append", bytes: 7 }, direction: "request", times: 100 });

    expect(result.exitCode).toBe(65);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toStartWith("artifact: PUT of public/altered.bin returned 403 (SignatureDoesNotMatch");
    expect(result.stderr).toContain("the request was altered in transit after 2 attempts; ");
    expect(result.stderr).not.toContain("clocks");
    expect(storagePuts()).toHaveLength(2);
    expect(await isPresent(name)).toBe(false);
  }, 60_000);

  test("altered request once is retried", async () => {
    const name = "public/altered-once.bin";
    const result = await uploadThroughProxy(name, [], { fault: { kind: "append", bytes: 7 }, direction: "request", times: 1 });

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    await expectStored(name);
  }, 60_000);

  /** Runs the upload with `rule` applied to its completeArtifact request only. */
  async function uploadStallingCompletion(name: string, times: number): Promise<CliResult> {
    proxy.clear();
    firstRequest = proxy.requests.length;
    proxy.inject({ fault: { kind: "stall", afterBytes: 0, ms: stallMs }, direction: "request", times, method: "PUT", path: /^\/api\/queue\/v1\/task\/.+\/artifacts\// });
    const argv = ["upload", task.taskId, "0", name, "-i", input, "--quiet", "--retries", "1", "--retry-delay", "10", "--idle-timeout", "1"];
    return task.run(argv, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  }

  const completions = () => proxy.requests.slice(firstRequest).filter((request) => request.method === "PUT" && !storagePath.test(new URL(request.url).pathname));

  test("stalled completion once is retried", async () => {
    const name = "public/complete-stalled-once.bin";
    const result = await uploadStallingCompletion(name, 1);

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(completions()).toHaveLength(2);
    await expectStored(name);
  }, 60_000);

  test("stalled completion exits 69 naming the timeout", async () => {
    const name = "public/complete-stalled.bin";
    const result = await uploadStallingCompletion(name, 100);

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toMatch(/^artifact: queue request PUT \S+complete-stalled\.bin failed after 2 attempts: no response within 1\.\d+ s \(timed out\)/);
    expect(result.stderr).not.toContain("NaN");
  }, 60_000);

  test("reset connection names the artifact", async () => {
    const name = "public/reset.bin";
    const result = await uploadThroughProxy(name, [], { fault: { kind: "drop", afterBytes: 1000 }, direction: "request", times: 100 });

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toStartWith("artifact: PUT of public/reset.bin failed: ");
    expect(result.stderr).not.toContain("verbose");
    expect(await isPresent(name)).toBe(false);
  }, 60_000);
});
