/**
 * Compiles `dist/artifact` for this machine: one self-contained executable with names and a
 * source map kept, so stack traces point at `src/...ts`. Never strip the result: the pointer to
 * the embedded program lies outside every ELF section and strip zero-fills it.
 */
import { $ } from "bun";

export const releaseFlags = ["--format=esm", "--minify-whitespace", "--minify-syntax", "--sourcemap"];

/**
 * Precompiled bytecode saves parsing the bundle at every start: `artifact --version` took 26 ms
 * without it and 8 ms with it in the startup table of docs/benchmarks.md. JavaScriptCore's
 * bytecode only loads in the runtime that wrote it, so a binary for another architecture or libc
 * must not carry any. Bun's issue tracker has reports of such binaries crashing at start.
 */
export const bytecodeFlags = ["--bytecode"];

/** Returns the commit of the checkout, with `-dirty` when the work tree has changes. */
export async function gitCommit(): Promise<string> {
  const commit = (await $`git rev-parse --short=12 HEAD`.nothrow().quiet().text()).trim();
  if (!commit) return "unknown";
  const status = (await $`git status --porcelain --untracked-files=no`.nothrow().quiet().text()).trim();
  return status ? `${commit}-dirty` : commit;
}

/** Compiles for this machine unless `extraFlags` name another target; pass bytecodeFlags only for this machine. */
export async function compile(outfile: string, extraFlags: string[] = bytecodeFlags): Promise<void> {
  const commit = await gitCommit();
  await $`bun build src/cli/main.ts --compile ${releaseFlags} ${extraFlags} --define ARTIFACT_BUILD_COMMIT=${JSON.stringify(commit)} --outfile ${outfile}`.quiet();
}

if (import.meta.main) {
  const started = performance.now();
  await compile("dist/artifact");
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(`built dist/artifact in ${seconds} s`);
}
