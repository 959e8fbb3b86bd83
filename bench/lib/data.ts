/** The test files: random bytes (incompressible) and log-like text (compresses like real build logs). */
import { open } from "node:fs/promises";
import { runChecked } from "./tools.ts";

export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  await runChecked(["sh", "-c", 'head -c "$0" /dev/urandom > "$1"', String(bytes), path]);
}

const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const steps = ["compile", "link", "test", "fetch", "cache", "upload"];

/** Writes exactly `bytes` bytes of build-log lines with varying numbers, paths and hashes (seeded, so reruns match). */
export async function writeLogText(path: string, bytes: number): Promise<void> {
  const file = await open(path, "w");
  const random = xorshift(0x9e3779b9);
  const chunkBytes = 1024 * 1024;
  let written = 0;
  let time = Date.UTC(2026, 0, 1);

  try {
    while (written < bytes) {
      let text = "";
      while (text.length < chunkBytes) {
        time += random() % 50;
        text += logLine(time, random);
      }
      const chunk = Buffer.from(text.slice(0, Math.min(text.length, bytes - written)));
      await file.write(chunk);
      written += chunk.byteLength;
    }
  } finally {
    await file.close();
  }
}

function logLine(time: number, random: () => number): string {
  const level = levels[random() % levels.length]!;
  const step = steps[random() % steps.length]!;
  const module = `src/${step}/module_${random() % 5000}.ts`;
  const hash = (random() >>> 0).toString(16).padStart(8, "0");
  return `${new Date(time).toISOString()} worker-${random() % 16} ${level} [${step}] ${module} done in ${random() % 3000} ms (cache ${random() % 3 === 0 ? "miss" : "hit"}, sha ${hash})\n`;
}

/** A small, fast 32-bit xorshift generator; returns unsigned integers. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}
