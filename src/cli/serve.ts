/** `artifact serve`: runs the queue, with the built-in store unless an S3 endpoint is configured. */
import { UsageError } from "../shared/errors.ts";
import { prepareDataDir } from "./data-dir.ts";
import type { Addressing } from "../signer/types.ts";
import { readClientsFile } from "../queue/auth/clients.ts";
import { startQueueServer, type ExternalS3 } from "../queue/server.ts";
import { testSweepOf } from "../queue/sweeper.ts";
import { defineServerCommand } from "./command.ts";

const s3Args = {
  "s3-endpoint": { type: "string", description: "S3 endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com (env ARTIFACT_S3_ENDPOINT); default: the built-in store" },
  "s3-region": { type: "string", description: "S3 region (env ARTIFACT_S3_REGION, default us-east-1)" },
  "s3-bucket": { type: "string", description: "S3 bucket (env ARTIFACT_S3_BUCKET)" },
  "s3-prefix": { type: "string", description: "Prefix of every object key, empty or ending in / (env ARTIFACT_S3_PREFIX). The sweeper aborts stale multipart uploads under it that no artifact names" },
  "s3-access-key-id": { type: "string", description: "S3 access key id (env ARTIFACT_S3_ACCESS_KEY_ID)" },
  "s3-secret-access-key": { type: "string", description: "S3 secret access key (env ARTIFACT_S3_SECRET_ACCESS_KEY)" },
  "s3-addressing": { type: "string", description: "path or virtual-host (env ARTIFACT_S3_ADDRESSING, default path)" },
} as const;

export default defineServerCommand({
  meta: { name: "serve", description: "Run the queue API and, unless an S3 endpoint is given, the built-in S3-compatible store" },
  args: {
    port: { type: "string", description: "TCP port to listen on; 0 picks a free port", default: "8080" },
    host: { type: "string", description: "Address to listen on", default: "127.0.0.1" },
    "root-url": { type: "string", description: "Root URL that clients use, when it is not http://<host>:<port> (behind a proxy, say)" },
    "data-dir": { type: "string", description: "Directory for the SQLite database, root credentials and built-in store; created if missing", default: "./artifact-data" },
    "clients-file": { type: "string", description: 'JSON file of further clients: [{"clientId", "accessToken", "scopes"}]' },
    "stale-upload-hours": { type: "string", description: "Abort multipart uploads not completed after this many hours", default: "24" },
    "verify-max-bytes": { type: "string", description: "Read back multipart objects up to this many bytes (1073741824 is 1 GiB) to check their SHA-256", default: "1073741824" },
    ...s3Args,
  },
  async run({ args }) {
    const staleUploadAgeMs = integerOption("--stale-upload-hours", args["stale-upload-hours"], 1, 24 * 365) * 3_600_000;
    const testSweep = testSweepOf(process.env);
    const rootUrl = args["root-url"] === undefined ? undefined : checkRootUrl(args["root-url"]);
    prepareDataDir(args["data-dir"]);
    const server = await startQueueServer({
      host: args.host,
      port: integerOption("--port", args.port, 0, 65535),
      dataDir: args["data-dir"],
      rootUrl,
      s3: externalS3Of(args, process.env),
      clients: args["clients-file"] ? readClientsFile(args["clients-file"]) : [],
      rootAccessToken: process.env.ARTIFACT_ROOT_ACCESS_TOKEN || undefined,
      sweepIntervalMs: testSweep.intervalMs,
      settings: {
        staleUploadAgeMs: testSweep.staleUploadAgeMs ?? staleUploadAgeMs,
        verifyMultipartMaxBytes: integerOption("--verify-max-bytes", args["verify-max-bytes"], 0, Number.MAX_SAFE_INTEGER),
      },
    });
    process.stderr.write(`listening on ${server.rootUrl}\n`);

    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    process.stderr.write(`${signal} received, stopping\n`);
    await server.stop();
  },
});

/** Throws a UsageError unless `text` is an absolute http(s) URL without query or fragment. */
function checkRootUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new UsageError(`invalid --root-url ${JSON.stringify(text)}`, { hint: "give an absolute http(s) URL such as https://queue.example.com" });
  }
  return text;
}

type S3Options = { [K in keyof typeof s3Args]?: string };

/** Returns the external S3 settings from flags, then ARTIFACT_S3_* variables; undefined selects the built-in store. */
export function externalS3Of(args: S3Options, env: NodeJS.ProcessEnv): ExternalS3 | undefined {
  const value = (name: keyof typeof s3Args) => args[name] ?? env[`ARTIFACT_${name.toUpperCase().replaceAll("-", "_")}`];
  const endpoint = value("s3-endpoint");
  if (!endpoint) {
    const stray = (Object.keys(s3Args) as Array<keyof typeof s3Args>).find((name) => value(name) !== undefined);
    if (stray) throw new UsageError(`--${stray} is set but --s3-endpoint is not`, { hint: "give --s3-endpoint (or ARTIFACT_S3_ENDPOINT) too, or drop the S3 options to use the built-in store" });
    return undefined;
  }

  const required = (name: keyof typeof s3Args): string => {
    const found = value(name);
    if (!found) throw new UsageError(`--${name} is required with --s3-endpoint`, { hint: `pass --${name} or set ARTIFACT_${name.toUpperCase().replaceAll("-", "_")}` });
    return found;
  };
  const addressing = value("s3-addressing") ?? "path";
  if (addressing !== "path" && addressing !== "virtual-host") {
    throw new UsageError(`invalid --s3-addressing ${JSON.stringify(addressing)}`, { hint: "use path or virtual-host" });
  }

  return {
    endpoint,
    region: value("s3-region") ?? "us-east-1",
    bucket: required("s3-bucket"),
    keyPrefix: value("s3-prefix") ?? "",
    accessKeyId: required("s3-access-key-id"),
    secretAccessKey: required("s3-secret-access-key"),
    addressing: addressing as Addressing,
  };
}

function integerOption(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}`, { hint: `give an integer from ${min} to ${max}` });
  }
  return Number(text);
}
