/**
 * Test inputs written to disk in 1 MiB chunks: random bytes (incompressible) and log-like text
 * (what CI artifacts mostly are, compressing about as real build logs do).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const chunkSize = 1024 * 1024;

export async function writeRandomFile(path: string, size: number): Promise<void> {
  const writer = Bun.file(path).writer();
  for (let written = 0; written < size; written += chunkSize) {
    writer.write(randomBytes(Math.min(chunkSize, size - written)));
    await writer.flush();
  }
  await writer.end();
}

const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const words = ["compiled", "linked", "fetched", "cached", "tested", "skipped", "uploaded", "resolved"];
const paths = ["src/queue/routes.ts", "src/store/object.ts", "lib/net/http.c", "pkg/cache/lru.go", "third_party/zlib/inflate.c"];

/** Writes `size` bytes of build-log-like lines; the same seed gives the same bytes. */
export async function writeLogFile(path: string, size: number, seed = 1): Promise<void> {
  let state = seed >>> 0;
  const next = (limit: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % limit;
  };

  const writer = Bun.file(path).writer();
  let time = Date.UTC(2026, 0, 1);
  for (let written = 0; written < size; ) {
    let chunk = "";
    while (chunk.length < chunkSize) {
      time += next(250);
      const hash = (state.toString(16) + next(0xffffff).toString(16)).padStart(14, "0");
      chunk += `${new Date(time).toISOString()} ${levels[next(levels.length)]} [worker-${next(8)}] ${words[next(words.length)]} ${paths[next(paths.length)]}:${next(4000)} in ${next(900)} ms (object ${hash})\n`;
    }
    const bytes = Buffer.from(chunk.slice(0, Math.min(chunk.length, size - written)));
    writer.write(bytes);
    await writer.flush();
    written += bytes.length;
  }
  await writer.end();
}

/** Creates a private temporary folder under the system temp dir and returns it with its cleanup. */
export async function makeTempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
