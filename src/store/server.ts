/** Serving the store alone over HTTP with Bun.serve (`artifact store serve`). */
import { UnavailableError } from "../shared/errors.ts";
import { maxPutBytes } from "./context.ts";
import type { EmbeddedStore } from "./index.ts";

/**
 * Bun.serve rejects bodies above 128 MiB by default; S3 allows 5 GiB per PUT, and aws-chunked
 * framing adds about 90 bytes per chunk, so the limit leaves room for that.
 */
export const maxRequestBodyBytes = maxPutBytes + 64 * 1024 * 1024;
/**
 * Seconds a connection may stay silent. Bun's default of 10 s is shorter than completing a
 * multi-GiB multipart upload, during which the store copies the parts and sends nothing.
 */
const idleTimeoutSeconds = 255;

/**
 * Options any Bun.serve that hands requests to the store needs.
 *
 * NOTE: Bun 1.4 answers `Expect: 100-continue` with 100 Continue only when the value is lowercase
 * (oven-sh/bun#30248). A client that sends `100-Continue` waits its own timeout before each
 * body: rclone 1.60 does so for its 5 MiB parts and waits 1 s each. `artifact upload` sends no
 * Expect header; curl sends it in lowercase.
 */
export function serverOptionsOf() {
  return { maxRequestBodySize: maxRequestBodyBytes, idleTimeout: idleTimeoutSeconds };
}

export interface StoreServer {
  url: string;
  stop(): Promise<void>;
}

export function serveStore(store: EmbeddedStore, host: string, port: number): StoreServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: host, port, ...serverOptionsOf(), fetch: (request) => store.handle(request) });
  } catch (error) {
    throw new UnavailableError(`cannot listen on ${host}:${port}: ${(error as Error).message}`, {
      hint: "choose a free --port, or 0 for any free port",
      cause: error,
    });
  }
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${server.port}`,
    stop: async () => {
      await server.stop(true);
    },
  };
}
