/** The built-in S3-compatible store, opened under the queue's data directory. */
import type { StructuredLogger } from "../shared/log.ts";
import type { EmbeddedStore } from "../store/index.ts";

export type { EmbeddedStore };

/** Loaded on first use, so a queue configured for an external S3 endpoint never loads the store. */
export async function openBuiltInStore(dataDir: string, logger?: StructuredLogger): Promise<EmbeddedStore> {
  const { openStore } = await import("../store/index.ts");
  return openStore({ dataDir, logger });
}

/**
 * Returns a fetch for the queue's own S3 requests that hands those aimed at the built-in store's
 * origin straight to `store.handle`, in this process, instead of over loopback HTTP. The request
 * is the one the signer built, plus the Host header an HTTP client would send, so the store
 * verifies its SigV4 signature and body hash exactly as for a request from outside.
 * Requests given as Request objects or aimed at another origin go to `fallback`.
 */
export function inProcessFetch(store: EmbeddedStore, storeOrigin: string, fallback: typeof fetch = fetch): typeof fetch {
  const origin = new URL(storeOrigin).origin;
  const send = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (input instanceof Request) return fallback(input, init);
    const url = new URL(input);
    if (url.origin !== origin || url.pathname.startsWith("/api/")) return fallback(input, init);

    const headers = new Headers(init?.headers);
    headers.set("host", url.host);
    return store.handle(new Request(url.href, { method: init?.method ?? "GET", headers, body: init?.body ?? null }));
  };
  return Object.assign(send, { preconnect: fallback.preconnect }) as typeof fetch;
}
