import { afterAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../scripts/build.ts";
import { checkReleaseFile } from "../../scripts/release/panic-check.ts";
import { hashFile, hostTarget } from "../../scripts/release/targets.ts";
import { codecs, packSfx, type Codec } from "../../scripts/sfx/pack.ts";

const work = await mkdtemp(join(tmpdir(), "artifact-sfx-"));
afterAll(() => rm(work, { recursive: true, force: true }));

/** A small program that shows what it received: arguments, stdin, and an exit code to return. */
const echoProgram = `#!/bin/sh
for argument in "$@"; do printf '[%s]' "$argument"; done
printf '\\n'
cat
echo "to stderr" >&2
exit "\${ECHO_EXIT_CODE:-0}"
`;

let counter = 0;

async function packEcho(codec: Codec = codecs.gzip, program = echoProgram): Promise<string> {
  const source = join(work, `echo-${++counter}.sh`);
  await Bun.write(source, program);
  await chmod(source, 0o755);
  const output = join(work, `echo-${counter}.${codec.name}.sh`);
  await packSfx(source, output, codec);
  return output;
}

interface Run {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

async function run(file: string, args: string[], options: { cache: string; stdin?: Uint8Array; env?: Record<string, string> }): Promise<Run> {
  const child = Bun.spawn([file, ...args], {
    env: { PATH: process.env.PATH!, XDG_CACHE_HOME: options.cache, ...options.env },
    stdin: options.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout: Buffer.from(stdout), stderr };
}

async function cacheEntries(cache: string): Promise<string[]> {
  const root = join(cache, "artifact");
  const folders = await readdir(root).catch(() => []);
  const entries: string[] = [];
  for (const folder of folders) for (const name of await readdir(join(root, folder))) entries.push(`${folder}/${name}`);
  return entries;
}

describe("self-extracting file", () => {
  test("passes arguments, stdin, stderr and exit code", async () => {
    const file = await packEcho();
    const stdin = new Uint8Array([0, 1, 2, 255, 10, 13]);
    const result = await run(file, ["a b", "", "*", "--x=$HOME"], { cache: join(work, "cache-args"), stdin, env: { ECHO_EXIT_CODE: "42" } });

    expect(result.exitCode).toBe(42);
    const argumentLine = "[a b][][*][--x=$HOME]\n";
    expect(result.stdout.subarray(0, argumentLine.length).toString()).toBe(argumentLine);
    expect([...result.stdout.subarray(argumentLine.length)]).toEqual([...stdin]);
    expect(result.stderr).toBe("to stderr\n");
  });

  for (const codec of [codecs.gzip, codecs.xz, codecs.zstd]) {
    test(`unpacks a ${codec.name} payload`, async () => {
      const file = await packEcho(codec);
      const result = await run(file, ["x"], { cache: join(work, `cache-${codec.name}`) });

      expect(result.exitCode).toBe(0);
      expect(result.stdout.toString()).toBe("[x]\n");
    });
  }

  test("unpacks once into a folder named by SHA-256", async () => {
    const file = await packEcho();
    const cache = join(work, "cache-once");
    await run(file, [], { cache });
    const sha256 = await hashFile(join(work, `echo-${counter}.sh`), "sha256", "hex");

    expect(await cacheEntries(cache)).toEqual([`${sha256}/artifact`]);
    // Later runs exec the cached copy without tail or a decompressor: PATH holds only sh and cat.
    const second = await run(file, ["again"], { cache, env: { PATH: await pathWith(["cat"]) } });
    expect(second.exitCode).toBe(0);
    expect(second.stdout.toString()).toBe("[again]\n");
  });

  test("concurrent first runs all succeed", async () => {
    const file = await packEcho(codecs.zstd);
    const cache = join(work, "cache-concurrent");
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => run(file, [`run${index}`], { cache })));

    results.forEach((result, index) => {
      expect(result.exitCode).toBe(0);
      expect(result.stdout.toString()).toBe(`[run${index}]\n`);
    });
    expect(await cacheEntries(cache)).toHaveLength(1);
  });

  test("corrupted payload is rejected", async () => {
    const file = await packEcho();
    const bytes = await Bun.file(file).bytes();
    bytes[bytes.length - 12]! ^= 0xff;
    await Bun.write(file, bytes);
    const cache = join(work, "cache-corrupt");
    const result = await run(file, [], { cache });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain("download the release file again and check it against SHA256SUMS");
    expect(await cacheEntries(cache)).toEqual([]);
  });

  test("payload of another program is rejected", async () => {
    const file = await packEcho();
    const other = await packEcho(codecs.gzip, `${echoProgram}# another build\n`);
    const header = (await Bun.file(file).text()).slice(0, (await Bun.file(file).text()).indexOf("\nexit 70\n") + 9);
    const otherPayload = (await Bun.file(other).bytes()).subarray(Buffer.byteLength(header));
    await Bun.write(file, Buffer.concat([Buffer.from(header), otherPayload]));
    const cache = join(work, "cache-swapped");
    const result = await run(file, [], { cache });

    expect(result.exitCode).toBe(65);
    expect(result.stderr).toMatch(/unpacks to \d+ bytes with SHA-256 [0-9a-f]{64}, expected \d+ bytes/);
    expect(await cacheEntries(cache)).toEqual([]);
  });

  test("missing decompressor is named", async () => {
    const file = await packEcho(codecs.zstd);
    const path = await pathWith(["tail", "tee", "sha256sum", "mktemp", "mkdir", "wc"]);
    const result = await run(file, [], { cache: join(work, "cache-no-zstd"), env: { PATH: path } });

    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("artifact: zstd is missing but needed to unpack this release file; install zstd");
  });

  test("no HOME and no XDG_CACHE_HOME is a clear error", async () => {
    const file = await packEcho();
    const child = Bun.spawn([file], { env: { PATH: process.env.PATH! }, stderr: "pipe", stdout: "ignore" });

    expect(await child.exited).toBe(73);
    expect(await new Response(child.stderr).text()).toContain("neither XDG_CACHE_HOME nor HOME is set");
  });

  test("artifact binary keeps its stack trace", async () => {
    const binary = join(work, "artifact");
    await compile(binary);
    const fastGzip: Codec = { ...codecs.gzip, compress: ["gzip", "-1", "-n", "-c"] };
    await packSfx(binary, `${binary}.gz.sh`, fastGzip);
    const result = await checkReleaseFile(`${binary}.gz.sh`, hostTarget(), { XDG_CACHE_HOME: join(work, "cache-artifact") });

    expect(result.problems).toEqual([]);
    expect(result.runsProgram).toBe(true);
    expect(result.traceOk).toBe(true);
  }, 120_000);
});

/** Creates a PATH folder that links only the named tools and sh, hiding every other command. */
async function pathWith(tools: string[]): Promise<string> {
  const folder = join(work, `path-${++counter}`);
  await mkdir(folder);
  for (const tool of ["sh", ...tools]) await symlink(Bun.which(tool)!, join(folder, tool));
  return folder;
}
