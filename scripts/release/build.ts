/**
 * Release build: `dist/artifact-<target>` for Linux x64 and arm64, glibc and musl, each with its
 * source map `dist/artifact-<target>.map`, the zstd self-extracting file
 * `dist/artifact-<target>.zst.sh`, and `dist/SHA256SUMS` over all of them. The binaries are
 * compiled onto Bun's npm-packaged runtimes, so Bun downloads nothing. Usage:
 *   bun scripts/release/build.ts [--out dist] [--target linux-x64 ...] [--no-sfx]
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bytecodeFlags, compile } from "../build.ts";
import { codecs, packSfx } from "../sfx/pack.ts";
import { hashFile, hostTarget, runtimeFor, targets, type Target } from "./targets.ts";

export interface ReleaseOptions {
  out: string;
  targets: Target[];
  sfx: boolean;
}

/** Target and runtime flags; bytecode only for this machine's own target (see scripts/build.ts). */
export function compileFlags(target: Target, runtime: string): string[] {
  const flags = [`--target=bun-${target.name}`, `--compile-executable-path=${runtime}`];
  return target.name === hostTarget().name ? [...flags, ...bytecodeFlags] : flags;
}

/**
 * Builds every requested target into `out`, then writes SHA256SUMS. Earlier release files are
 * removed first; `dist/artifact` from `npm run build` stays, because tests run it.
 */
export async function buildRelease(options: ReleaseOptions): Promise<void> {
  await mkdir(options.out, { recursive: true });
  for (const name of await releaseFiles(options.out)) await rm(join(options.out, name), { force: true });
  await rm(join(options.out, "SHA256SUMS"), { force: true });

  for (const target of options.targets) {
    const binary = join(options.out, `artifact-${target.name}`);
    await compile(binary, compileFlags(target, await runtimeFor(target)));
    if (options.sfx) await packSfx(binary, `${binary}.zst.sh`, codecs.zstd);
    console.error(`release: built ${binary}${options.sfx ? " and its .zst.sh" : ""}`);
  }

  await writeChecksums(options.out);
}

/** Writes SHA256SUMS in the format `sha256sum -c` reads: hash, two spaces, file name. */
export async function writeChecksums(folder: string): Promise<void> {
  const lines: string[] = [];
  for (const name of await releaseFiles(folder)) lines.push(`${await hashFile(join(folder, name), "sha256", "hex")}  ${name}`);
  await Bun.write(join(folder, "SHA256SUMS"), `${lines.join("\n")}\n`);
}

async function releaseFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.startsWith("artifact-")).sort();
}

function parseOptions(argv: string[]): ReleaseOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string", default: "dist" },
      target: { type: "string", multiple: true },
      "no-sfx": { type: "boolean", default: false },
    },
  });

  const names = values.target ?? targets.map((target) => target.name);
  const selected = names.map((name) => {
    const target = targets.find((candidate) => candidate.name === name);
    if (!target) throw new Error(`unknown target ${name}; expected one of ${targets.map((t) => t.name).join(", ")}`);
    return target;
  });
  return { out: values.out!, targets: selected, sfx: !values["no-sfx"] };
}

if (import.meta.main) {
  const started = performance.now();
  await buildRelease(parseOptions(process.argv.slice(2)));
  console.error(`release: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
