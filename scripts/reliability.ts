/**
 * The nightly reliability run: the suite in test/reliability with its full trial counts (10,000
 * malformed bodies, 10,000 load requests, 10 client kills, 50 uploads through a server kill, ...),
 * against the Ceph RGW that ARTIFACT_TEST_RGW_* describe. `npm test` runs the same suite with
 * reduced counts.
 *
 *   bun scripts/reliability.ts [--seed N] [bun test options]
 *
 * Prints the suite's figures (counts, statuses, latency percentiles, server memory) again at the
 * end and exits with bun test's exit code.
 */
import { join } from "node:path";

const repository = join(import.meta.dir, "..");

if (!process.env.ARTIFACT_TEST_RGW_ENDPOINT) {
  console.error("reliability: ARTIFACT_TEST_RGW_ENDPOINT is not set; start Ceph RGW with scripts/rgw/up.sh and source its env file first");
  process.exit(64);
}

const args = process.argv.slice(2);
const env: Record<string, string | undefined> = { ...process.env, ARTIFACT_RELIABILITY: "nightly" };
const seedIndex = args.indexOf("--seed");
if (seedIndex !== -1) {
  env.ARTIFACT_RELIABILITY_SEED = args[seedIndex + 1];
  args.splice(seedIndex, 2);
}

const child = Bun.spawn([process.execPath, "test", "--timeout", "1800000", join(repository, "test/reliability"), ...args], {
  cwd: repository,
  env,
  stdout: "pipe",
  stderr: "pipe",
});

/** Copies a stream to `write` and keeps the suite's figure lines, which start with a known label. */
async function copy(stream: ReadableStream<Uint8Array>, write: (text: string) => void, figures: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const bytes of stream) {
    const text = decoder.decode(bytes, { stream: true });
    write(text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    figures.push(...lines.filter((line) => /^(hostile input|auth|load|faults|crashes|store):/.test(line)));
  }
}

const figures: string[] = [];
await Promise.all([
  copy(child.stdout, (text) => process.stdout.write(text), figures),
  copy(child.stderr, (text) => process.stderr.write(text), figures),
]);
const code = await child.exited;

console.log("\nreliability figures (nightly counts):");
for (const line of figures) console.log(`  ${line}`);
process.exit(code);
