import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, readdir, truncate } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "./support/files.ts";

const main = join(import.meta.dir, "../../src/cli/main.ts");
const temp = await makeTempDir("artifact-upload-cli");
const requests: string[] = [];
let queueUrl: string;
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  // Records any request, so each test can assert that none was sent.
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      requests.push(`${request.method} ${new URL(request.url).pathname}`);
      return Response.json({ code: "InternalServerError", message: "not a queue" }, { status: 500 });
    },
  });
  queueUrl = server.url.origin;
});

afterAll(async () => {
  server.stop(true);
  await temp.remove();
});

/** Runs the command without blocking, so the recording server above can respond. */
async function runUpload(args: string[], env: Record<string, string> = {}, name = "public/x.bin") {
  const child = Bun.spawn(["bun", main, "upload", "taskA", "0", name, "--root-url", queueUrl, ...args], {
    env: { ...process.env, ...env },
    stderr: "pipe",
    stdout: "pipe",
  });
  const [stderr, stdout] = await Promise.all([new Response(child.stderr).text(), new Response(child.stdout).text()]);
  return { exitCode: await child.exited, stderr, stdout };
}

describe("upload command checks", () => {
  test("missing input exits 66", async () => {
    requests.length = 0;
    const missing = join(temp.dir, "missing.bin");
    const result = await runUpload(["-i", missing]);

    expect(result.exitCode).toBe(66);
    expect(result.stderr).toBe(`artifact: input file ${missing} not found; check the path given to -i\n`);
    expect(result.stdout).toBe("");
    expect(requests).toEqual([]);
  });

  test("generated file of size 0 exits 66", async () => {
    requests.length = 0;
    const result = await runUpload(["-i", "/proc/self/status", "--quiet"]);

    expect(result.exitCode).toBe(66);
    expect(result.stderr).toStartWith("artifact: input /proc/self/status has a size of 0 but ");
    expect(result.stderr).toContain("upload it from stdin instead: -i - < /proc/self/status");
    expect(requests.filter((request) => !request.startsWith("GET "))).toEqual([]);
  });

  test("directory input exits 66", async () => {
    requests.length = 0;
    const result = await runUpload(["-i", temp.dir]);

    expect(result.exitCode).toBe(66);
    expect(result.stderr).toContain(`input ${temp.dir} is a directory`);
    expect(requests).toEqual([]);
  });

  test.skipIf(process.getuid?.() === 0)("unreadable input exits 66", async () => {
    requests.length = 0;
    const path = join(temp.dir, "secret.bin");
    await Bun.write(path, "x");
    await chmod(path, 0o000);
    const result = await runUpload(["-i", path]);

    expect(result.exitCode).toBe(66);
    expect(result.stderr).toContain(`input file ${path} is not readable`);
    expect(requests).toEqual([]);
  });

  test("invalid names exit 64 before requests", async () => {
    const path = join(temp.dir, "small.bin");
    await Bun.write(path, "x");
    const cases: Array<[string, string]> = [
      ["", "artifact name is 0 characters; it must be 1 to 1024"],
      ["p".repeat(1025), "artifact name is 1025 characters; it must be 1 to 1024"],
      [".", 'artifact name "." contains a "." segment'],
      ["..", 'artifact name ".." contains a ".." segment'],
      ["public/../x", 'artifact name "public/../x" contains a ".." segment'],
      ["public/./x", 'artifact name "public/./x" contains a "." segment'],
      ["tab\tname", "artifact name contains U+09 at index 3; only printable ASCII (0x20-0x7e) is allowed"],
    ];
    for (const [name, rule] of cases) {
      requests.length = 0;
      const result = await runUpload(["-i", path], {}, name);

      expect(result.exitCode).toBe(64);
      expect(result.stderr).toStartWith(`artifact: ${rule}`);
      expect(result.stderr).toEndWith("; rename the artifact\n");
      expect(requests).toEqual([]);
    }
  });

  test("conflicting modes exit 64", async () => {
    const path = join(temp.dir, "small.bin");
    await Bun.write(path, "x");
    const result = await runUpload(["-i", path, "--multipart", "--single-part"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("--multipart and --single-part exclude each other");
  });

  test("invalid part size exits 64", async () => {
    const path = join(temp.dir, "small.bin");
    await Bun.write(path, "x");
    const result = await runUpload(["-i", path, "--part-size", "1MiB"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("--part-size 1048576 is outside the range");
  });

  test("single part above 5 GiB sends nothing", async () => {
    requests.length = 0;
    const path = join(temp.dir, "sparse-5g");
    await Bun.write(path, "");
    await truncate(path, 5 * 1024 ** 3 + 1);
    const result = await runUpload(["-i", path, "--single-part"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("S3 limits a single PUT to 5368709120 bytes (5 GiB)");
    expect(requests).toEqual([]);
  });

  test("too many parts exit 64 before hashing", async () => {
    requests.length = 0;
    const path = join(temp.dir, "sparse-60g");
    await Bun.write(path, "");
    await truncate(path, 60 * 1024 ** 3);
    const result = await runUpload(["-i", path, "--part-size", "5M"]);

    // Hashing 60 GiB would outlast the test's timeout, so passing shows the check came first.
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toBe(
      "artifact: --part-size 5242880 needs 12288 parts for 64424509440 bytes, more than S3's limit of 10000 parts; give --part-size 7M or more\n",
    );
    expect(requests).toEqual([]);
  });

  test("threshold above 5 GiB exits 64", async () => {
    requests.length = 0;
    const result = await runUpload(["-i", "-", "--multipart-threshold", "6G"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("--multipart-threshold 6442450944 is above S3's single PUT limit of 5368709120 bytes (5 GiB)");
    expect(requests).toEqual([]);
  });
});

describe("temporary files", () => {
  for (const [signal, exitCode, extra] of [["SIGINT", 130, []], ["SIGTERM", 143, ["--gzip"]]] as const) {
    test(`${signal} while spooling stdin removes them`, async () => {
      const tmp = join(temp.dir, `tmp-${signal}`);
      await Bun.$`mkdir -p ${tmp}`;
      const child = Bun.spawn(["bun", main, "upload", "taskA", "0", "public/x.bin", "--root-url", queueUrl, "-i", "-", ...extra], {
        env: { ...process.env, TMPDIR: tmp },
        stdin: "pipe",
        stderr: "pipe",
      });
      child.stdin.write(new Uint8Array(1024 * 1024));
      await child.stdin.flush();

      for (let wait = 0; wait < 100 && (await readdir(tmp)).length === 0; wait++) await Bun.sleep(50);
      const during = await readdir(tmp);
      child.kill(signal);
      await child.exited;

      expect(during).toHaveLength(1);
      expect(during[0]).toStartWith("artifact-upload-");
      expect(child.exitCode).toBe(exitCode);
      expect(await readdir(tmp)).toEqual([]);
    });
  }

  test("failed upload removes them", async () => {
    const tmp = join(temp.dir, "tmp-failed");
    await Bun.$`mkdir -p ${tmp}`;
    const path = join(temp.dir, "to-gzip.txt");
    await Bun.write(path, "text\n".repeat(1000));
    requests.length = 0;
    const result = await runUpload(["-i", path, "--gzip", "--expires", "2030-01-01"], { TMPDIR: tmp });

    expect(result.exitCode).toBe(69);
    expect(requests[0]).toBe("POST /api/queue/v1/task/taskA/runs/0/artifacts/public%2Fx.bin");
    expect(result.stderr).toContain("answered 500 InternalServerError: not a queue after 6 attempts");
    expect(await readdir(tmp)).toEqual([]);
  }, 60_000);
});
