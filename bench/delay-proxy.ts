/**
 * A TCP proxy that delays every chunk by a fixed one-way delay in each direction, for kernels
 * without the netem qdisc. It models a TCP send window too: at most `--window-bytes` per direction
 * may be unacknowledged, and a chunk counts as acknowledged one more delay after it was delivered,
 * so one connection carries at most window / (2 x delay) bytes per second, as over a real link.
 *
 *   bun bench/delay-proxy.ts --listen PORT --target PORT --delay-ms 20 --window-bytes 4194304
 *
 * Listens on 127.0.0.1 only; prints `proxy listening on PORT` on stderr when ready.
 */
import { createConnection, createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  strict: true,
  options: {
    listen: { type: "string" },
    target: { type: "string" },
    "delay-ms": { type: "string", default: "20" },
    "window-bytes": { type: "string", default: String(4 * 1024 * 1024) },
  },
});
const listenPort = Number(values.listen);
const targetPort = Number(values.target);
const delayMs = Number(values["delay-ms"]);
const windowBytes = Number(values["window-bytes"]);
if (![listenPort, targetPort, delayMs, windowBytes].every(Number.isInteger)) {
  process.stderr.write("usage: bun bench/delay-proxy.ts --listen PORT --target PORT [--delay-ms N] [--window-bytes N]\n");
  process.exit(64);
}

/** Forwards `from` to `to`, each chunk `delayMs` later, pausing `from` while a window of bytes is unacknowledged. */
function forwardDelayed(from: Socket, to: Socket): void {
  let unacknowledged = 0;

  from.on("data", (chunk: Buffer) => {
    unacknowledged += chunk.byteLength;
    if (unacknowledged >= windowBytes) from.pause();

    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
      setTimeout(() => {
        unacknowledged -= chunk.byteLength;
        if (unacknowledged < windowBytes && from.isPaused()) from.resume();
      }, delayMs);
    }, delayMs);
  });
  from.on("end", () => setTimeout(() => to.end(), delayMs));
  from.on("error", () => to.destroy());
  from.on("close", () => setTimeout(() => to.destroy(), delayMs * 2));
}

const server = createServer((client) => {
  const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  forwardDelayed(client, upstream);
  forwardDelayed(upstream, client);
});

server.listen(listenPort, "127.0.0.1", () => process.stderr.write(`proxy listening on ${listenPort}\n`));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
