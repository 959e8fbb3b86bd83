/**
 * Measures every way to make the release binary smaller, on one commit and this machine,
 * and writes docs/release-builds.md (table) and docs/release-size.svg (chart). Takes about five
 * minutes on two cores, most of it `xz -9e`, so it is not part of `npm test`. Usage:
 *   bun scripts/release/size-report.ts [--commit REV]   (default: HEAD)
 */
import { copyFile, mkdir, mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "bun";
import { codecs, packSfx, type Codec } from "../sfx/pack.ts";
import { checkReleaseFile } from "./panic-check.ts";
import { writeReport, type Row } from "./report-doc.ts";
import { measureStartup } from "./startup.ts";
import { hostTarget, runtimeFor, targets, type Target } from "./targets.ts";
import { ensureTools } from "./tools.ts";

const shippedFlags = ["--minify-whitespace", "--minify-syntax", "--sourcemap"];

interface Built {
  file: string;
  seconds: number;
}

/** Times one step and returns its result with the elapsed seconds. */
async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await step();
  return [result, (performance.now() - started) / 1000];
}

/** The commit being measured; set before the first build. */
let commit = "unknown";

async function compileVariant(work: string, name: string, flags: string[], target = hostTarget()): Promise<Built> {
  const file = join(work, name, "artifact");
  await mkdir(join(work, name), { recursive: true });
  const runtime = await runtimeFor(target);
  const [, seconds] = await timed(() =>
    $`bun build src/cli/main.ts --compile ${flags} --target=bun-${target.name} --compile-executable-path=${runtime} --define ARTIFACT_BUILD_COMMIT=${JSON.stringify(commit)} --outfile ${file}`.quiet(),
  );
  return { file, seconds };
}

/** Copies the shipped binary and runs one post-processing command on the copy. */
async function postProcess(work: string, name: string, base: Built, command: (file: string) => Promise<unknown>): Promise<Built> {
  const file = join(work, name, "artifact");
  await mkdir(join(work, name), { recursive: true });
  await copyFile(base.file, file);
  const [, seconds] = await timed(() => command(file));
  return { file, seconds: base.seconds + seconds };
}

async function wrap(work: string, base: Built, codec: Codec): Promise<Built> {
  const file = join(work, `sfx-${codec.name}`, "artifact");
  await mkdir(join(work, `sfx-${codec.name}`), { recursive: true });
  const [, seconds] = await timed(() => packSfx(base.file, file, codec));
  return { file, seconds: base.seconds + seconds };
}

async function measureRow(work: string, method: string, built: Built, plainSize: number, target = hostTarget(), note = ""): Promise<Row> {
  const size = (await stat(built.file)).size;
  const cacheHome = join(work, "unpack-cache");
  const check = await checkReleaseFile(built.file, target, { XDG_CACHE_HOME: cacheHome });
  const startup = check.mode === "run" && check.runsProgram ? await measureStartup(built.file, cacheHome) : undefined;
  const saved = plainSize - size;
  console.error(`size-report: ${method}: ${size} bytes, ${built.seconds.toFixed(1)} s`);

  return {
    method,
    size,
    percentOfPlain: (100 * size) / plainSize,
    buildSeconds: built.seconds,
    nsPerByteSaved: saved > 0 ? (built.seconds * 1e9) / saved : undefined,
    coldMs: startup?.coldMs,
    warmMs: startup?.warmMs,
    mode: check.mode,
    runsProgram: check.runsProgram,
    traceOk: check.traceOk,
    note: [note, ...check.problems].filter(Boolean).join("; "),
  };
}

async function measureAll(work: string): Promise<Row[]> {
  const plain = await compileVariant(work, "plain", []);
  const plainSize = (await stat(plain.file)).size;
  const shipped = await compileVariant(work, "shipped", shippedFlags);
  const musl = targets.find((target) => target.name === "linux-x64-musl")!;
  const rows: Row[] = [];
  const add = async (method: string, built: Built, target?: Target, note?: string) => rows.push(await measureRow(work, method, built, plainSize, target, note));

  await add("plain `--compile`", plain);
  await add("`--minify`", await compileVariant(work, "minify", ["--minify"]));
  await add("`--minify-whitespace --minify-syntax --sourcemap` (shipped)", shipped);
  // --bytecode switches the output format to CommonJS, which rejects main.ts's top-level await.
  await add("shipped + `--bytecode --format=esm`", await compileVariant(work, "bytecode", [...shippedFlags, "--bytecode", "--format=esm"]));
  await add("shipped on the musl runtime", await compileVariant(work, "musl", shippedFlags, musl), musl, "cannot run on this glibc machine: checked for structure only");
  await add("shipped, then `strip`", await postProcess(work, "strip", shipped, (file) => $`strip ${file}`.quiet()));
  await add("shipped, then `strip --strip-debug`", await postProcess(work, "strip-debug", shipped, (file) => $`strip --strip-debug ${file}`.quiet()));
  for (const level of ["-1", "-9"]) rows.push(await upxRow(work, level, shipped, plainSize));
  for (const codec of [codecs.gzip, codecs.xz, codecs.zstd]) {
    await add(`self-extracting, ${codec.compress.slice(0, -1).join(" ")}`, await wrap(work, shipped, codec));
  }
  return rows;
}

async function upxRow(work: string, level: string, shipped: Built, plainSize: number): Promise<Row> {
  const method = `shipped, then \`upx ${level}\``;
  if (!Bun.which("upx")) {
    return { method, size: undefined, percentOfPlain: undefined, buildSeconds: undefined, nsPerByteSaved: undefined, coldMs: undefined, warmMs: undefined, mode: "skipped", runsProgram: false, traceOk: false, note: "skipped: upx is not on PATH and has no package for this machine" };
  }
  return measureRow(work, method, await postProcess(work, `upx${level}`, shipped, (file) => $`upx -q ${level} ${file}`.quiet()), plainSize);
}

/**
 * Exports the committed tree of a commit, so every row measures the same code even while the
 * work tree changes. The export links node_modules from the checkout.
 */
async function exportCommit(work: string, revision: string): Promise<string> {
  const snapshot = join(work, "source");
  await mkdir(snapshot);
  await $`git archive --format=tar ${revision} | tar -x -C ${snapshot}`.quiet();
  await symlink(resolve("node_modules"), join(snapshot, "node_modules"));
  return snapshot;
}

if (import.meta.main) {
  await ensureTools(["strip", "gzip", "xz", "zstd", "dd", "grep"]);
  const repository = process.cwd();
  const work = await mkdtemp(join(tmpdir(), "artifact-size-report-"));
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { commit: { type: "string", default: "HEAD" } } });
    commit = (await $`git rev-parse --short=12 ${values.commit!}`.quiet().text()).trim();
    process.chdir(await exportCommit(work, commit));
    const rows = await measureAll(work);
    process.chdir(repository);
    await writeReport(rows, { commit, machine: await describeMachine() });
    console.error("size-report: wrote docs/release-builds.md and docs/release-size.svg");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function describeMachine(): Promise<string> {
  const cpu = (await $`sh -c "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"`.quiet().text()).trim();
  const cores = (await $`nproc`.quiet().text()).trim();
  const os = (await Bun.file("/etc/os-release").text()).match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "unknown Linux";
  return `${os}, ${cores} cores (${cpu}), Bun ${Bun.version}`;
}
