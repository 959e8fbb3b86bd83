import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.ts";
import type { RunningServe } from "../support/serve.ts";
import { makeTempDir } from "../upload/support/files.ts";
import { artifactCommand, claimTaskRun, describeEachBackend, runArtifact, spawnArtifact, type CliResult, type TaskRun } from "./support/cli.ts";
import { patternBytes } from "./support/s3-objects.ts";

const fast = ["--retries", "3", "--retry-delay", "1"];

describeEachBackend("download command faults", (backend) => {
  let serve: RunningServe;
  let task: TaskRun;
  let proxy: FaultProxy;
  let temp: { dir: string; remove: () => Promise<void> };
  const content = patternBytes(2 * 1024 * 1024 + 17, 11);

  beforeAll(async () => {
    serve = await backend.start();
    task = await claimTaskRun(serve);
    proxy = await startFaultProxy();
    temp = await makeTempDir("artifact-download-cli");

    writeFileSync(join(temp.dir, "input.bin"), content);
    const plain = await task.run(["upload", task.taskId, "0", "public/plain.bin", "-i", join(temp.dir, "input.bin"), "-q"]);
    const gzipped = await task.run(["upload", task.taskId, "0", "public/logs.txt", "-i", join(temp.dir, "input.bin"), "--gzip", "-q"]);
    expect(plain.stderr).toBe("");
    expect(gzipped.stderr).toBe("");
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await serve?.stop();
    await temp?.remove();
  });

  /** Runs `artifact download` through the fault proxy, with only storage requests matching the rules. */
  function download(args: string[], ...rules: Omit<FaultRule, "path">[]): Promise<CliResult> {
    proxy.clear();
    proxy.requests.length = 0;
    for (const rule of rules) proxy.inject({ ...rule, path: backend.storagePath });
    return task.run(["download", ...args, ...fast], { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  }

  function output(name: string): string {
    return join(temp.dir, name);
  }

  function expectNoOutput(path: string): void {
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(temp.dir).filter((name) => name.endsWith(".partial"))).toEqual([]);
  }

  test("plain round trip is byte-exact", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("plain.out")]);

    expect(result.stderr).toContain("download public/plain.bin:");
    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("plain.out")), content)).toBe(0);
  });

  test("gzip round trip is decoded", async () => {
    const result = await download(["--latest", task.taskId, "public/logs.txt", "-o", output("logs.out"), "--json"]);
    const summary = JSON.parse(result.stdout.toString()) as Record<string, unknown>;

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("logs.out")), content)).toBe(0);
    expect(summary.contentEncoding).toBe("gzip");
    expect(summary.contentLength).toBe(content.length);
    expect(summary.transferLength).toBeLessThan(content.length);
  });

  test("truncated with 200 resumes", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("truncated.out"), "--json"], {
      fault: { kind: "truncate", afterBytes: 1_000_000 },
    });
    const summary = JSON.parse(result.stdout.toString()) as { attempts: number; resumedAt: number[] };

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("truncated.out")), content)).toBe(0);
    expect(summary.attempts).toBe(2);
    // The second GET starts after the bytes that reached the file, which are hashed already.
    // Bun may drop the last bytes it received when the body breaks off, so that can be fewer than arrived.
    expect(summary.resumedAt).toHaveLength(1);
    expect(summary.resumedAt[0]).toBeGreaterThan(0);
    expect(summary.resumedAt[0]).toBeLessThanOrEqual(1_000_000);
    expect(proxy.requests.at(-1)!.headers.range).toBe(`bytes=${summary.resumedAt[0]}-`);
    expect(result.stderr).toContain("truncated transfer of public/plain.bin: got");
  });

  test("truncated every time exits 65", async () => {
    const path = output("always-truncated.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "truncate", afterBytes: 1000 },
      times: 100,
    });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toMatch(/download failed: truncated transfer of public\/plain\.bin: got \d+ of \d+ bytes after 4 attempts/);
    expectNoOutput(path);
  });

  test("stalled once resumes at the offset reached", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("stalled-once.out"), "--json", "--idle-timeout", "1"], {
      fault: { kind: "stall", afterBytes: 1_000_000, ms: 5_000 },
    });
    const summary = JSON.parse(result.stdout.toString()) as { attempts: number; resumedAt: number[] };

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("stalled-once.out")), content)).toBe(0);
    expect(summary.attempts).toBe(2);
    expect(summary.resumedAt).toHaveLength(1);
    expect(summary.resumedAt[0]).toBeGreaterThan(0);
    expect(proxy.requests.at(-1)!.headers.range).toBe(`bytes=${summary.resumedAt[0]}-`);
    expect(result.stderr).toMatch(/GET of public\/plain\.bin from \S+ timed out: no bytes for 1 s after byte \d+ of 2097169; .*retry 1 in/);
  });

  test("stalled every time exits 69", async () => {
    const path = output("always-stalled.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path, "-q", "--idle-timeout", "1"], {
      fault: { kind: "stall", afterBytes: 300_000, ms: 3_000 },
      times: 100,
    });

    expect(result.exitCode).toBe(69);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/download failed: GET of public\/plain\.bin from \S+ timed out: no bytes for 1 s (after byte \d+|before the first) of 2097169( bytes)? after 4 attempts/);
    expectNoOutput(path);
  });

  test("slow body within the idle timeout", async () => {
    const path = output("slow-within-timeout.out");
    // About 2 s in all at 1 MB/s, with never more than 1 s between bytes.
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path, "--json", "--idle-timeout", "1"], {
      fault: { kind: "slow", bytesPerSecond: 1_000_000 },
    });
    const summary = JSON.parse(result.stdout.toString()) as { attempts: number };

    expect(result.exitCode).toBe(0);
    expect(summary.attempts).toBe(1);
    expect(result.stderr).not.toContain("timed out");
    expect(Buffer.compare(readFileSync(path), content)).toBe(0);
  });

  test("output folder replaced during a stall exits 73", async () => {
    const folder = output("replaced-folder");
    mkdirSync(folder);
    const path = join(folder, "artifact.out");
    proxy.clear();
    proxy.inject({ fault: { kind: "stall", afterBytes: 1_000_000, ms: 5_000 }, path: backend.storagePath });
    const child = spawnArtifact(["download", task.taskId, "0", "public/plain.bin", "-o", path, "--idle-timeout", "1"], { ...task.env, HTTP_PROXY: proxy.url });

    // Once bytes are on disk, the folder becomes a file, so the temporary file can no longer be found.
    await waitForPartialBytes(".artifact.out.", folder);
    renameSync(folder, `${folder}.moved`);
    writeFileSync(folder, "");
    const exitCode = await child.exited;
    const stderr = await new Response(child.stderr).text();

    expect(exitCode).toBe(73);
    expect(stderr).toContain(folder);
    expect(stderr).not.toContain("timed out");
  }, 20_000);

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
    test(`${signal} removes the partial file`, async () => {
      const path = output(`signal-${signal}.out`);
      proxy.clear();
      proxy.inject({ fault: { kind: "slow", bytesPerSecond: 100_000 }, path: backend.storagePath });
      const child = spawnArtifact(["download", task.taskId, "0", "public/plain.bin", "-o", path, "-q"], { ...task.env, HTTP_PROXY: proxy.url });

      const partialBytes = await waitForPartialBytes(`.signal-${signal}.out.`);
      child.kill(signal);
      const exitCode = await child.exited;

      expect(partialBytes).toBeGreaterThan(0);
      expect(child.signalCode).toBeNull();
      expect(exitCode).toBe(128 + osConstants.signals[signal]);
      expectNoOutput(path);
    }, 20_000);
  }

  /** Waits until a partial file whose name starts with `prefix` contains bytes, and returns its size (0 after 10 s). */
  async function waitForPartialBytes(prefix: string, folder = temp.dir): Promise<number> {
    for (let wait = 0; wait < 200; wait++) {
      const partial = readdirSync(folder).find((name) => name.startsWith(prefix) && name.endsWith(".partial"));
      const size = partial === undefined ? 0 : statSync(join(folder, partial)).size;
      if (size > 0) return size;
      await Bun.sleep(50);
    }
    return 0;
  }

  test("--idle-timeout 0 exits 64", async () => {
    const result = await runArtifact(["download", task.taskId, "0", "public/plain.bin", "--idle-timeout", "0"], task.env);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('invalid --idle-timeout "0"');
  });

  test("flipped byte once is retried", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("flip-once.out")], { fault: { kind: "flip", offset: 4321 } });

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("flip-once.out")), content)).toBe(0);
  });

  test("flipped byte always exits 65", async () => {
    const path = output("flipped.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], { fault: { kind: "flip", offset: 4321 }, times: 100 });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain("download failed: transfer sha256 mismatch for public/plain.bin (expected ");
    expect(result.stderr).toContain("after 4 attempts");
    expectNoOutput(path);
  });

  test("bytes beyond the length exit 65", async () => {
    const path = output("longer.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], { fault: { kind: "append", bytes: 3 }, times: 100 });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain(`transfer length mismatch for public/plain.bin (expected ${content.length}, got ${content.length + 3})`);
    expectNoOutput(path);
  });

  test("500 twice then success", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("after-500.out")], {
      fault: { kind: "status", status: 500 },
      times: 2,
    });

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("after-500.out")), content)).toBe(0);
  });

  test("503 SlowDown always exits 69", async () => {
    const path = output("slowdown.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "status", status: 503, code: "SlowDown" },
      times: 100,
    });

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toMatch(/storage returned 503 SlowDown for public\/plain\.bin \(request id fault-/);
    expectNoOutput(path);
  });

  test("404 once after completion succeeds", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("after-404.out")], {
      fault: { kind: "status", status: 404, code: "NoSuchKey" },
    });

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("after-404.out")), content)).toBe(0);
  });

  test("XML 404 always exits 65 with code", async () => {
    const path = output("missing.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "status", status: 404, code: "NoSuchKey" },
      times: 100,
    });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toMatch(/storage returned 404 NoSuchKey for public\/plain\.bin \(request id fault-[0-9a-f-]+\)/);
    expect(result.stderr).not.toContain("<Error>");
    expectNoOutput(path);
  });

  test("206 to a GET without Range exits 69", async () => {
    const path = output("unasked-partial.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "status", status: 206 },
      times: 100,
    });

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("storage returned 206 InternalError for public/plain.bin");
    expect(result.stderr).toContain("check for a proxy or another server between this client and the storage");
    expect(result.stderr).not.toContain("rejected the queue's presigned URL");
    expectNoOutput(path);
  });

  test("HTML 403 exits 77 without the page", async () => {
    const path = output("denied.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "status", status: 403, body: "html" },
      times: 100,
    });

    expect(result.exitCode).toBe(77);
    expect(result.stderr).toContain("storage returned 403 (no S3 error code) for public/plain.bin");
    expect(result.stderr).not.toContain("<html>");
    expect(result.stdout.length).toBe(0);
    expectNoOutput(path);
  });

  test("500 with HTML body exits 69", async () => {
    const path = output("html-500.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], {
      fault: { kind: "status", status: 500, body: "html" },
      times: 100,
    });

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("storage returned 500 (no S3 error code)");
    expect(result.stderr).not.toContain("<body>");
    expectNoOutput(path);
  });

  test("gzip added unasked exits 65", async () => {
    const path = output("regzipped.out");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path], { fault: { kind: "gzip" }, times: 100 });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain("transfer content-encoding mismatch for public/plain.bin (expected identity, got gzip)");
    expectNoOutput(path);
  });

  test("Accept-Encoding appended still works", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", output("accept.out")], {
      fault: { kind: "accept-encoding", value: "gzip, deflate, br", mode: "append" },
    });

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("accept.out")), content)).toBe(0);
  });

  test("stdout resumes a truncated transfer", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", "-", "-q"], { fault: { kind: "truncate", afterBytes: 700_000 } });

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(result.stdout, content)).toBe(0);
  });

  test("stdout failure says the output is incomplete", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", "-", "-q"], { fault: { kind: "flip", offset: 10 }, times: 100 });

    expect(result.exitCode).toBe(65);
    expect(result.stdout.length).toBe(content.length);
    expect(result.stderr).toContain("the output on stdout is incomplete and unverified");
  });

  test("stdout closed by the reader exits 141 quietly", async () => {
    const pipeline = 'set -o pipefail; "$@" | head -c 10 > "$0"';
    const headOutput = output("head.out");
    const args = ["download", task.taskId, "0", "public/plain.bin", "-o", "-", "-q", ...fast];
    const child = Bun.spawn(["bash", "-c", pipeline, headOutput, ...artifactCommand(), ...args], {
      env: { ...process.env, ...task.env, HTTP_PROXY: "", http_proxy: "" },
      stderr: "pipe",
    });
    const stderr = await new Response(child.stderr).text();

    expect(await child.exited).toBe(141);
    expect(stderr).toBe("");
    expect(Buffer.compare(readFileSync(headOutput), content.subarray(0, 10))).toBe(0);
  });

  test("missing output directory exits 73", async () => {
    const path = join(temp.dir, "no-such-dir", "x.bin");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain(`cannot create output ${path}: directory ${join(temp.dir, "no-such-dir")} does not exist`);
    expect(existsSync(join(temp.dir, "no-such-dir"))).toBe(false);
    expect(proxy.requests).toEqual([]);
  });

  test("read-only output directory exits 73", async () => {
    const directory = readOnlyDirectory(temp.dir);
    const path = join(directory, "x.bin");
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", path]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain(`cannot create output ${path}: directory ${directory} is not writable`);
    expect(existsSync(path)).toBe(false);
  });

  test("directory as output exits 73", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", temp.dir]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain(`output ${temp.dir} is a directory`);
  });

  test("FIFO receives the bytes after verification", async () => {
    const fifo = await makeFifo("verified.fifo");
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    const [result, received] = await Promise.all([downloadStaged(["-o", fifo]), new Response(reader.stdout).arrayBuffer()]);

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(Buffer.from(received), content)).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  test("FIFO gets no bytes when verification fails", async () => {
    const fifo = await makeFifo("rejected.fifo");
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    const received = new Response(reader.stdout).arrayBuffer();
    const result = await downloadStaged(["-o", fifo, "-q"], { fault: { kind: "flip", offset: 10 }, times: 100 });
    await closeWaitingReader(fifo);

    expect(result.exitCode).toBe(65);
    expect((await received).byteLength).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  test("FIFO reader closing early exits 73", async () => {
    const fifo = await makeFifo("head.fifo");
    const reader = Bun.spawn(["head", "-c", "10", fifo], { stdout: "pipe" });
    const [result, received] = await Promise.all([downloadStaged(["-o", fifo, "-q"]), new Response(reader.stdout).arrayBuffer()]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain(`cannot write output ${fifo}: its reader closed it early (EPIPE)`);
    expect(Buffer.compare(Buffer.from(received), content.subarray(0, 10))).toBe(0);
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  test("SIGINT while the FIFO has no reader cleans up", async () => {
    const fifo = await makeFifo("unread.fifo");
    const env = { ...task.env, TMPDIR: stagingDir() };
    const child = spawnArtifact(["download", task.taskId, "0", "public/plain.bin", "-o", fifo, "-q"], env);

    let staged = 0;
    for (let wait = 0; wait < 200 && staged < content.length; wait++) {
      await Bun.sleep(50);
      staged = readdirSync(stagingDir()).reduce((total, name) => total + statSync(join(stagingDir(), name)).size, 0);
    }
    child.kill("SIGINT");

    expect(staged).toBe(content.length);
    expect(await child.exited).toBe(130);
    expect(readdirSync(stagingDir())).toEqual([]);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test("/dev/null stays a device", async () => {
    const before = statSync("/dev/null");
    const result = await downloadStaged(["-o", "/dev/null"]);
    const after = statSync("/dev/null");

    expect(result.exitCode).toBe(0);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    expect(after.ino).toBe(before.ino);
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  // A file size limit of 1 MiB (2048 blocks of 512 bytes in dash) makes the staging file's writes
  // fail with EFBIG, as a full file system would with ENOSPC, without a mount.
  test("staging file that cannot grow names TMPDIR", async () => {
    const env = { ...task.env, TMPDIR: stagingDir() };
    const command = ["sh", "-c", 'ulimit -f 2048 && exec "$@"', "sh", ...artifactCommand(), "download", task.taskId, "0", "public/plain.bin", "-o", "/dev/null", ...fast];
    const childEnv = { ...process.env, HTTP_PROXY: "", http_proxy: "", ...env };
    const child = Bun.spawn(command, { env: childEnv, stdout: "pipe", stderr: "pipe" });
    const stderr = await new Response(child.stderr).text();

    expect(await child.exited).toBe(73);
    expect(stderr).toContain(`cannot stage output /dev/null in temporary directory ${stagingDir()}: `);
    expect(stderr).toContain("EFBIG");
    expect(stderr).toContain("set TMPDIR");
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  test("missing TMPDIR is named", async () => {
    const missing = output("no-such-staging");
    const env = { ...task.env, TMPDIR: missing };
    const result = await runArtifact(["download", task.taskId, "0", "public/plain.bin", "-o", "/dev/null", ...fast], env);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain(`cannot stage output /dev/null in temporary directory ${missing}: `);
    expect(result.stderr).toContain("set TMPDIR");
    expect(existsSync(missing)).toBe(false);
  });

  test("/dev/full exits 73 after verification", async () => {
    const result = await downloadStaged(["-o", "/dev/full"]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain("cannot write output /dev/full: ");
    expect(result.stderr).toContain("ENOSPC");
    expect(statSync("/dev/full").isCharacterDevice()).toBe(true);
    expect(readdirSync(stagingDir())).toEqual([]);
  });

  test("socket as output exits 73", async () => {
    const path = output("output.sock");
    const listener = Bun.listen({ unix: path, socket: { data() {} } });
    try {
      const result = await downloadStaged(["-o", path]);

      expect(result.exitCode).toBe(73);
      expect(result.stderr).toContain(`output ${path} is a socket`);
      expect(result.stderr).toContain("pass -o - and redirect stdout");
      expect(lstatSync(path).isSocket()).toBe(true);
      expect(proxy.requests).toEqual([]);
    } finally {
      listener.stop(true);
    }
  });

  /** Returns a private TMPDIR for the downloads below, so leftovers in it are this suite's own. */
  function stagingDir(): string {
    const directory = output("staging");
    mkdirSync(directory, { recursive: true });
    return directory;
  }

  function downloadStaged(args: string[], ...rules: Omit<FaultRule, "path">[]): Promise<CliResult> {
    proxy.clear();
    proxy.requests.length = 0;
    for (const rule of rules) proxy.inject({ ...rule, path: backend.storagePath });
    const env = { ...task.env, HTTP_PROXY: proxy.url, http_proxy: proxy.url, TMPDIR: stagingDir() };
    return runArtifact(["download", task.taskId, "0", "public/plain.bin", ...args, ...fast], env);
  }

  /**
   * Opens and closes the FIFO as an empty writer, which ends a reader still waiting in open().
   * Without O_NONBLOCK this would hang if no reader were left, so that case throws ENXIO instead.
   */
  async function closeWaitingReader(fifo: string): Promise<void> {
    for (let wait = 0; ; wait++) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENXIO" || wait === 20) throw error;
        await Bun.sleep(50);
      }
    }
  }

  async function makeFifo(name: string): Promise<string> {
    const path = output(name);
    await Bun.$`mkfifo ${path}`;
    return path;
  }

  test("empty -o exits 64", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", ""]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('invalid -o "": the output path is empty');
    expect(proxy.requests).toEqual([]);
  });

  test("output in /proc exits 73 with the errno", async () => {
    const result = await download([task.taskId, "0", "public/plain.bin", "-o", "/proc/artifact-test.out"]);

    expect(result.exitCode).toBe(73);
    expect(result.stderr).toContain("cannot create output /proc/artifact-test.out: directory /proc ");
    expect(result.stderr).toMatch(/\((ENOENT|EACCES)\)/);
    expect(result.stderr).not.toContain("does not exist");
  });

  test("verify accepts the downloaded file", async () => {
    const path = output("verified.out");
    writeFileSync(path, content);
    const result = await runArtifact(["verify", task.taskId, "0", "public/logs.txt", path, "--json"], task.env);
    const summary = JSON.parse(result.stdout.toString()) as Record<string, unknown>;

    expect(result.exitCode).toBe(0);
    expect(summary.contentLength).toBe(content.length);
  });

  test("verify rejects a changed file", async () => {
    const path = output("changed.out");
    const changed = Uint8Array.from(content);
    changed[99] = changed[99]! ^ 1;
    writeFileSync(path, changed);
    const result = await runArtifact(["verify", "--latest", task.taskId, "public/plain.bin", path], task.env);

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain(`${path} does not match public/plain.bin: content sha256 mismatch (expected `);
  });

  test("verify of a missing file exits 66", async () => {
    const path = output("never-written.out");
    const result = await runArtifact(["verify", task.taskId, "0", "public/plain.bin", path], task.env);

    expect(result.exitCode).toBe(66);
    expect(result.stderr).toContain(`cannot read ${path} (ENOENT)`);
  });

  test("verify of stdin exits 64", async () => {
    const result = await runArtifact(["verify", task.taskId, "0", "public/plain.bin", "-"], { ...task.env, TASKCLUSTER_ROOT_URL: "http://127.0.0.1:9" });

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("verify checks a file on disk, and - (standard input) is not supported");
  });

  test("--url with a queue URL downloads", async () => {
    const url = `${serve.rootUrl}/api/queue/v1/task/${task.taskId}/runs/0/artifacts/public%2Fplain.bin`;
    const result = await download(["--url", url, "-o", output("by-url.out")]);

    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(output("by-url.out")), content)).toBe(0);
  });
});

/** Returns a directory this process cannot create files in; root ignores mode bits, so it gets a sysfs directory. */
function readOnlyDirectory(parent: string): string {
  if (process.getuid?.() === 0) return "/sys/kernel";
  const directory = join(parent, "read-only");
  mkdirSync(directory, { mode: 0o555 });
  return directory;
}
