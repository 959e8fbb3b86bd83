/**
 * Starts the built-in store for tests: in this process (`startStore`) or as a separate
 * `artifact store serve` process (`spawnStore`), each on a free port with a temporary data dir.
 */
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

export async function startStore(options: Partial<StoreOptions> = {}): Promise<RunningStore & { store: EmbeddedStore }> {
  const dataDir = await mkdtemp(join(tmpdir(), "artifact-store-test-"));
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
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `artifact store serve` from source as its own process; `pid` is for reading its memory use. */
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

export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
