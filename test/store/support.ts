/**
 * Starts the built-in store for tests: in this process (`startStore`) or as a separate
 * `artifact store serve` process (`spawnStore`), each on a free port with a temporary data dir.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import aws4 from "aws4";
import { openStore, type EmbeddedStore, type StoreOptions } from "../../src/store/index.ts";
import { serveStore } from "../../src/store/server.ts";
import type { StructuredLogger } from "../../src/shared/log.ts";

export interface RunningStore {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Collects the store's log events instead of printing them. */
export function memoryLogger(): StructuredLogger & { events: string[] } {
  const events: string[] = [];
  return { events, log: (event) => events.push(event) };
}

/** Opens a store in this process; on a given `dataDir`, which stop() then keeps, else on a new temporary one. */
export async function startStore(options: Partial<StoreOptions> = {}): Promise<RunningStore & { store: EmbeddedStore }> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "artifact-store-test-")));
  const store = await openStore({ logger: memoryLogger(), ...options, dataDir });
  const server = serveStore(store, "127.0.0.1", 0);
  return {
    store,
    endpoint: server.url,
    region: store.region,
    ...store.credentials,
    bucket: store.bucket,
    dataDir,
    stop: async () => {
      await server.stop();
      await store.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function spawnStore(dataDir: string): Promise<RunningStore & { pid: number }> {
  const main = join(import.meta.dir, "../../src/cli/main.ts");
  const child = Bun.spawn([process.execPath, main, "store", "serve", "--port", "0", "--data-dir", dataDir], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const endpoint = await waitForListening(child.stderr);
  const credentials = JSON.parse(await readFile(join(dataDir, "store", "credentials.json"), "utf8"));
  return {
    endpoint,
    region: "us-east-1",
    ...credentials,
    bucket: "artifacts",
    dataDir,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Resolves with the URL from the `listening on` line, then keeps draining stderr so the child never blocks on a full pipe. */
async function waitForListening(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`artifact store serve exited before listening:\n${text}`);
    text += decoder.decode(value, { stream: true });
    const match = /listening on (http:\/\/\S+)/.exec(text);
    if (match) {
      void drain(reader);
      return match[1]!;
    }
  }
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  while (!(await reader.read()).done);
}

/** Sends one request signed with the store's keys, as any SigV4 client would. */
export function signedFetch(
  target: RunningStore,
  method: string,
  path: string,
  options: { body?: string | Uint8Array; headers?: Record<string, string>; now?: Date } = {},
): Promise<Response> {
  const url = new URL(path, target.endpoint);
  const request = {
    host: url.host,
    method,
    path: url.pathname + url.search,
    service: "s3",
    region: target.region,
    body: options.body as string | Buffer | undefined,
    headers: { ...options.headers },
  };
  if (options.now) (request.headers as Record<string, string>)["x-amz-date"] = amzDate(options.now);
  const signed = aws4.sign(request, { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey });
  return fetch(url, { method, headers: signed.headers as Record<string, string>, body: options.body, decompress: false });
}

/**
 * Sends a PUT as aws-chunked with valid chunk signatures. `tamper` changes the first byte of each
 * chunk after signing; `decodedLength` declares another x-amz-decoded-content-length than the chunks add up to.
 */
export function chunkedFetch(
  target: RunningStore,
  path: string,
  chunks: Uint8Array[],
  options: { tamper?: boolean; decodedLength?: number } = {},
): Promise<Response> {
  const url = new URL(path, target.endpoint);
  const date = amzDate(new Date());
  const scope = `${date.slice(0, 8)}/${target.region}/s3/aws4_request`;
  const framing = [...chunks, new Uint8Array(0)].map((chunk) => `${chunk.length.toString(16)};chunk-signature=${"0".repeat(64)}\r\n\r\n`.length + chunk.length);
  const headers: Record<string, string> = {
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": String(options.decodedLength ?? chunks.reduce((sum, chunk) => sum + chunk.length, 0)),
    "content-length": String(framing.reduce((sum, length) => sum + length, 0)),
    "x-amz-date": date,
  };
  const signed = aws4.sign(
    { host: url.host, method: "PUT", path: url.pathname + url.search, service: "s3", region: target.region, headers },
    { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  );
  let previous = /Signature=([0-9a-f]{64})/.exec((signed.headers as Record<string, string>).Authorization!)![1]!;

  const signingKey = [date.slice(0, 8), target.region, "s3", "aws4_request"].reduce<Buffer | string>(
    (key, part) => createHmac("sha256", key).update(part).digest(),
    `AWS4${target.secretAccessKey}`,
  );
  const pieces: Uint8Array[] = [];
  for (const chunk of [...chunks, new Uint8Array(0)]) {
    const text = ["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, sha256Hex(""), sha256Hex(chunk)].join("\n");
    previous = createHmac("sha256", signingKey).update(text).digest("hex");
    const data = options.tamper && chunk.length > 0 ? Buffer.from(chunk).fill(0x41, 0, 1) : chunk;
    pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), data, Buffer.from("\r\n"));
  }
  return fetch(url, { method: "PUT", headers: signed.headers as Record<string, string>, body: Buffer.concat(pieces) });
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
