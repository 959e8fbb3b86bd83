/**
 * Compares gzip codecs for `--gzip` on build-log text: node:zlib streams at several levels,
 * fflate's streaming Gzip, CompressionStream and Bun.gzipSync. Prints MiB/s of input and the
 * compressed size for each, and the decompression speed of the formats the downloader can use.
 *
 *   bun scripts/bench-gzip.ts [--mib 200] [--runs 3]
 */
import { Gzip as FflateGzip } from "fflate";
import { parseArgs } from "node:util";
import { createGunzip, createGzip } from "node:zlib";

const { values } = parseArgs({ options: { mib: { type: "string", default: "200" }, runs: { type: "string", default: "3" } } });
const inputBytes = Number(values.mib) * 1024 * 1024;
const runs = Number(values.runs);
const chunkBytes = 1024 * 1024;

/** Build-log-like lines: timestamps, paths, compiler chatter and counters, deterministic. */
function makeLogText(bytes: number): Uint8Array[] {
  const words = ["compiling", "linking", "warning:", "src/module", "test", "passed", "ok", "cache", "hit", "miss", "fetch"];
  const chunks: Uint8Array[] = [];
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const encoder = new TextEncoder();

  for (let total = 0, line = 0; total < bytes; ) {
    let text = "";
    while (text.length < chunkBytes) {
      const count = 3 + Math.floor(random() * 8);
      const body = Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(" ");
      text += `[2026-12-04T12:00:${String(line % 60).padStart(2, "0")}Z] #${line++} ${body} ${Math.floor(random() * 1e6)}\n`;
    }
    const chunk = encoder.encode(text).subarray(0, Math.min(chunkBytes, bytes - total));
    chunks.push(chunk);
    total += chunk.length;
  }
  return chunks;
}

type Codec = (chunks: Uint8Array[]) => Promise<number>;

function zlibStream(level: number): Codec {
  return (chunks) =>
    new Promise((resolve, reject) => {
      let size = 0;
      const gzip = createGzip({ level, chunkSize: 256 * 1024 });
      gzip.on("data", (data: Buffer) => (size += data.length));
      gzip.on("end", () => resolve(size));
      gzip.on("error", reject);
      for (const chunk of chunks) gzip.write(chunk);
      gzip.end();
    });
}

function fflateStream(level: 1 | 6): Codec {
  return async (chunks) => {
    let size = 0;
    const gzip = new FflateGzip({ level, mtime: 0 }, (data) => (size += data.length));
    chunks.forEach((chunk, index) => gzip.push(chunk, index === chunks.length - 1));
    return size;
  };
}

const compressionStream: Codec = async (chunks) => {
  const stream = new Blob(chunks).stream().pipeThrough(new CompressionStream("gzip"));
  let size = 0;
  for await (const data of stream) size += data.length;
  return size;
};

const bunGzipSync: Codec = async (chunks) => Bun.gzipSync(Buffer.concat(chunks), { level: 6 }).length;

/** Times `codec` over `runs` runs; returns the median seconds and the output size. */
async function measure(codec: Codec, chunks: Uint8Array[]): Promise<{ seconds: number; size: number }> {
  const times: number[] = [];
  let size = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    size = await codec(chunks);
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)]!, size };
}

async function measureGunzip(chunks: Uint8Array[]): Promise<number> {
  const compressed = Bun.gzipSync(Buffer.concat(chunks), { level: 2 });
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on("data", () => {});
    gunzip.on("end", resolve);
    gunzip.on("error", reject);
    gunzip.end(compressed);
  });
  return (performance.now() - started) / 1000;
}

const chunks = makeLogText(inputBytes);
const mib = inputBytes / 1024 / 1024;
const codecs: Array<[string, Codec]> = [
  ["node:zlib stream, level 1", zlibStream(1)],
  ["node:zlib stream, level 2", zlibStream(2)],
  ["node:zlib stream, level 6", zlibStream(6)],
  ["fflate stream, level 1", fflateStream(1)],
  ["fflate stream, level 6", fflateStream(6)],
  ["CompressionStream (level 6)", compressionStream],
  ["Bun.gzipSync, level 6, in memory", bunGzipSync],
];

console.log(`${mib} MiB of build-log text, median of ${runs} runs, Bun ${Bun.version}\n`);
console.log("| codec | compress MiB/s | compressed size |");
console.log("|---|---:|---:|");
for (const [name, codec] of codecs) {
  const { seconds, size } = await measure(codec, chunks);
  console.log(`| ${name} | ${(mib / seconds).toFixed(0)} | ${((size / inputBytes) * 100).toFixed(1)} % |`);
}
console.log(`\nnode:zlib gunzip stream: ${(mib / (await measureGunzip(chunks))).toFixed(0)} MiB/s of decoded output`);
