/**
 * `artifact store serve`: runs the built-in S3-compatible store alone, for tests and for S3
 * clients that need a local endpoint. `artifact serve` runs the same store on the queue's port.
 */
import { defineCommand } from "citty";
import { defineServerCommand } from "./command.ts";
import { prepareDataDir } from "./data-dir.ts";
import { UsageError } from "../shared/errors.ts";
import { openStore } from "../store/index.ts";
import { serveStore } from "../store/server.ts";

const serve = defineServerCommand({
  meta: { name: "serve", description: "Serve the built-in S3-compatible store (path-style) until interrupted" },
  args: {
    port: { type: "string", required: true, description: "TCP port to listen on; 0 picks a free port" },
    "data-dir": { type: "string", required: true, description: "Folder for objects, uploads and the generated credentials" },
    host: { type: "string", default: "127.0.0.1", description: "Address to listen on" },
    region: { type: "string", default: "us-east-1", description: "Region that signatures must name" },
    bucket: { type: "string", default: "artifacts", description: "Bucket created on start" },
  },
  async run({ args, logger }) {
    const port = parsePort(args.port);
    prepareDataDir(args["data-dir"]);
    const store = await openStore({ dataDir: args["data-dir"], region: args.region, bucket: args.bucket });
    const server = serveStore(store, args.host, port);

    logger.info(`listening on ${server.url}`);
    logger.info(`credentials in ${store.credentialsFile}; bucket ${store.bucket}, region ${store.region}`);
    await waitForSignal();
    await server.stop();
    await store.close();
  },
});

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) {
    throw new UsageError(`invalid --port ${JSON.stringify(value)}`, { hint: "pass a TCP port from 0 to 65535" });
  }
  return port;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

export default defineCommand({
  meta: { name: "store", description: "Run the built-in S3-compatible object store" },
  subCommands: { serve: () => Promise.resolve(serve) },
});
