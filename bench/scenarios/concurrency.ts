/**
 * Multipart upload with 1, 2, 4 and 8 parts in flight over a link with a fixed one-way delay, to
 * the built-in store, everything inside a network namespace of our own. Uses netem when the
 * kernel has it, else bench/delay-proxy.ts between client and server.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { choosePartSize } from "../../src/signer/part-size.ts";
import { UnavailableError } from "../../src/shared/errors.ts";
import { measureWithOutput } from "../lib/measure.ts";
import { withNamespace, type Namespace } from "../lib/netns.ts";
import type { BenchOptions } from "../lib/options.ts";
import type { ConcurrencyResult, ConcurrencyRow } from "../lib/results.ts";
import { createRunningTask, deleteObject, queueEnv, startStoreTarget, type Target } from "../lib/targets.ts";
import { writeRandomFile } from "../lib/data.ts";

/** Ports inside the namespace, which has a port space of its own. */
const servePort = 18080;
const proxyPort = 18081;

export async function measureConcurrency(binary: string, options: BenchOptions, log: (line: string) => void): Promise<ConcurrencyResult> {
  const file = join(options.workDir, "concurrency.bin");
  await writeRandomFile(file, options.sizeBytes);

  return withNamespace(options.delayMs, async (namespace) => {
    const proxy = namespace.netem ? undefined : await startDelayProxy(namespace, options.delayMs);
    const rootUrl = proxy ? `http://127.0.0.1:${proxyPort}` : undefined;
    const dataDir = join(options.workDir, "serve-concurrency");
    mkdirSync(dataDir, { recursive: true });

    try {
      const target = await startStoreTarget(binary, dataDir, namespace.wrapper, rootUrl, servePort);
      try {
        const rows = await measureLevels(binary, target, namespace, file, options, log);
        return {
          sizeBytes: options.sizeBytes,
          delayMs: options.delayMs,
          method: proxy
            ? `bench/delay-proxy.ts (${options.delayMs} ms each way, window ${proxy.windowBytes} bytes): this kernel has no netem qdisc`
            : `tc qdisc netem delay ${options.delayMs}ms on the namespace's loopback`,
          rows,
        };
      } finally {
        await target.stop();
      }
    } finally {
      await proxy?.stop();
    }
  });
}

async function measureLevels(binary: string, target: Target, namespace: Namespace, file: string, options: BenchOptions, log: (line: string) => void): Promise<ConcurrencyRow[]> {
  const env = queueEnv(target.queue);
  const taskId = await createRunningTask(binary, target, namespace.wrapper);

  const rows: ConcurrencyRow[] = options.concurrencyLevels.map((partsInFlight) => ({ partsInFlight, partSizeBytes: choosePartSize(options.sizeBytes), runs: [], sendSeconds: [] }));
  for (let run = 1; run <= options.runs; run++) {
    for (const row of rows) {
      const name = `public/bench/concurrency-${row.partsInFlight}-${run}`;
      const argv = [...namespace.wrapper, binary, "upload", taskId, "0", name, "-i", file, "--multipart", "--concurrency", String(row.partsInFlight), "-q", "--json"];
      const { measurement, stdout } = await measureWithOutput({ label: `artifact upload --concurrency ${row.partsInFlight}`, argv, env }, target.serverPids, options.workDir);
      row.runs.push(measurement);
      row.sendSeconds!.push(sendSecondsOf(stdout));
      await deleteObject(target, `${taskId}/0/${name}`, namespace.wrapper);
      log(`concurrency ${row.partsInFlight} run ${run}/${options.runs}: ${measurement.wallSeconds.toFixed(2)} s, send step ${row.sendSeconds!.at(-1)!.toFixed(2)} s`);
    }
  }
  return rows;
}

/** Returns the send step's seconds from the upload's --json summary: the parts in flight, without hashing before and completing after. */
function sendSecondsOf(stdout: string): number {
  const seconds = (JSON.parse(stdout) as { sendSeconds?: unknown }).sendSeconds;
  if (typeof seconds !== "number") throw new UnavailableError(`artifact upload --json printed no sendSeconds: ${stdout.trim()}`, { hint: "rebuild dist/artifact from this checkout" });
  return seconds;
}

interface DelayProxy {
  windowBytes: number;
  stop(): Promise<void>;
}

async function startDelayProxy(namespace: Namespace, delayMs: number): Promise<DelayProxy> {
  const windowBytes = sendWindowBytes();
  const script = resolve(import.meta.dir, "..", "delay-proxy.ts");
  const argv = [...namespace.wrapper, process.execPath, script, "--listen", String(proxyPort), "--target", String(servePort), "--delay-ms", String(delayMs), "--window-bytes", String(windowBytes)];
  const child = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
  const onExit = () => child.kill("SIGTERM");
  process.once("exit", onExit);

  const reader = child.stderr.getReader();
  const first = await reader.read();
  const line = new TextDecoder().decode(first.value ?? new Uint8Array());
  if (!line.includes("proxy listening")) {
    process.off("exit", onExit);
    child.kill();
    throw new UnavailableError(`the delay proxy did not start: ${line.trim() || "no output"}`, { hint: `run ${argv.join(" ")} by hand` });
  }
  reader.releaseLock();
  void child.stderr.pipeTo(new WritableStream()).catch(() => {});

  return {
    windowBytes,
    stop: async () => {
      process.off("exit", onExit);
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** The largest TCP send buffer Linux grows a socket to (third field of tcp_wmem): it bounds the bytes in flight per connection. */
function sendWindowBytes(): number {
  const fields = readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/);
  return Number(fields[2] ?? 4 * 1024 * 1024);
}

