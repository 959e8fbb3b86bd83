/**
 * `artifact serve`: the queue API under `/api/queue/v1` on Bun.serve, with SQLite under the data
 * directory and either a configured S3 endpoint or the built-in store. The built-in store shares
 * the port: every path outside `/api/` goes to it, so its S3 endpoint is the queue's root URL.
 * The queue's own S3 requests to the built-in store skip the loopback connection (inProcessFetch).
 */
import type { Server } from "bun";
import { S3Client } from "../signer/s3-client.ts";
import { S3Signer } from "../signer/signer.ts";
import type { S3Config } from "../signer/types.ts";
import { UnavailableError } from "../shared/errors.ts";
import { createStructuredLogger, type StructuredLogger } from "../shared/log.ts";
import { Authenticator } from "./auth/authenticate.ts";
import { checkBucket } from "./check-bucket.ts";
import { rootClient, type Client } from "./auth/clients.ts";
import { QueueContext, defaultSettings, type QueueSettings } from "./context.ts";
import { openDatabase } from "./db/open.ts";
import { ApiError, errorResponse } from "./http/api-error.ts";
import { dispatch } from "./http/dispatch.ts";
import { apiPrefix } from "./http/routes.ts";
import { stderrLines } from "./line-buffer.ts";
import { Sweeper } from "./sweeper.ts";
import { inProcessFetch, openBuiltInStore, type EmbeddedStore } from "./store.ts";
import { serverOptionsOf } from "../store/server.ts";

/** S3 settings of an external endpoint; without them the built-in store is used. */
export type ExternalS3 = S3Config;

export interface QueueServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /** The URL clients use; defaults to `http://<host>:<port>`. */
  rootUrl?: string;
  s3?: ExternalS3;
  /** Time the startup HeadBucket of `s3` may take; defaultBucketCheckTimeoutMs when absent. */
  bucketCheckTimeoutMs?: number;
  /** Clients besides `root`. */
  clients?: Client[];
  /** Access token of `root`; generated and kept in `<dataDir>/root-credentials.json` when absent. */
  rootAccessToken?: string;
  settings?: Partial<QueueSettings>;
  sweepIntervalMs?: number;
  logger?: StructuredLogger;
  now?: () => number;
}

export interface QueueServer {
  rootUrl: string;
  rootCredentials: { clientId: string; accessToken: string };
  context: QueueContext;
  sweeper: Sweeper;
  stop(): Promise<void>;
}

export async function startQueueServer(options: QueueServerOptions): Promise<QueueServer> {
  const logger = options.logger ?? createStructuredLogger(stderrLines.write);
  if (options.s3) await checkBucket(options.s3, options.bucketCheckTimeoutMs);
  const db = openDatabase(options.dataDir);
  const store = options.s3 ? undefined : await openBuiltInStore(options.dataDir, logger);

  let handler: (request: Request, server: Server<undefined>) => Promise<Response> = async () =>
    errorResponse(new ApiError("InternalServerError", "the queue is starting"));
  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: options.host,
      port: options.port,
      // The store's body limit and idle timeout: a 5 GiB PUT, and a completion that reads a large
      // multipart object back before answering, outlast Bun's defaults of 128 MiB and 10 s.
      ...serverOptionsOf(),
      fetch: (request, server) => handler(request, server),
    });
  } catch (error) {
    await store?.close();
    db.close();
    throw new UnavailableError(`cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, {
      hint: "pick another --port or --host",
      cause: error,
    });
  }

  const rootUrl = (options.rootUrl ?? `http://${hostForUrl(options.host)}:${server.port}`).replace(/\/+$/, "");
  const s3Config = options.s3 ?? builtInS3Config(rootUrl, store!);
  const now = options.now ?? Date.now;
  const signer = new S3Signer(s3Config, () => new Date(now()));
  const settings = { ...defaultSettings, ...options.settings };
  const s3Client = new S3Client(signer, store ? inProcessFetch(store, s3Config.endpoint) : undefined);
  const context = new QueueContext(db, signer, s3Client, logger, settings, now);
  if (store) context.storedObjects = store.storedObjects;

  const root = rootClient(options.dataDir, rootUrl, options.rootAccessToken);
  const authenticator = new Authenticator([root, ...(options.clients ?? [])], now);
  handler = (request, server) => route(context, authenticator, store, request, server);

  const sweeper = new Sweeper(context, options.sweepIntervalMs ?? 60_000);
  sweeper.start();
  logger.log("started", { rootUrl, storage: options.s3 ? s3Config.endpoint : "built-in", bucket: s3Config.bucket });
  stderrLines.flush();

  return {
    rootUrl,
    rootCredentials: { clientId: root.clientId, accessToken: root.accessToken },
    context,
    sweeper,
    stop: async () => {
      await sweeper.stop();
      await server.stop(true);
      await store?.close();
      db.close();
      logger.log("stopped", { rootUrl });
      stderrLines.flush();
    },
  };
}

async function route(
  context: QueueContext,
  authenticator: Authenticator,
  store: EmbeddedStore | undefined,
  request: Request,
  server: Server<undefined>,
): Promise<Response> {
  // Bun joins repeated Host headers with ", " and builds the URL from the first. HTTP/1.1 requires
  // a 400 for them, and Hawk and SigV4 both sign the host, so an ambiguous host is rejected.
  if (request.headers.get("host")?.includes(",")) {
    context.logger.log("request", { method: request.method, status: 400, error: "more than one Host header" });
    return errorResponse(new ApiError("InputError", "the request has more than one Host header; send exactly one"));
  }
  const url = new URL(request.url);
  if (url.pathname === apiPrefix || url.pathname.startsWith(`${apiPrefix}/`)) {
    // Event streams stay open; Bun's idle timeout would otherwise close them.
    if (url.pathname === `${apiPrefix}/events`) server.timeout(request, 0);
    return dispatch(context, authenticator, request, url);
  }
  if (store && !url.pathname.startsWith("/api/")) return store.handle(request);
  return errorResponse(new ApiError("ResourceNotFound", `no endpoint at ${url.pathname}`));
}

/** Returns the S3 settings that address the built-in store at the queue's root URL. */
export function builtInS3Config(rootUrl: string, store: EmbeddedStore): S3Config {
  return {
    endpoint: new URL(rootUrl).origin,
    region: store.region,
    bucket: store.bucket,
    keyPrefix: "",
    accessKeyId: store.credentials.accessKeyId,
    secretAccessKey: store.credentials.secretAccessKey,
    addressing: "path",
  };
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
