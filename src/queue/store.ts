/** The built-in S3-compatible store, opened under the queue's data directory. */
import type { EmbeddedStore } from "../store/index.ts";

export type { EmbeddedStore };

/** Loaded on first use, so a queue configured for an external S3 endpoint never loads the store. */
export async function openBuiltInStore(dataDir: string): Promise<EmbeddedStore> {
  const { openStore } = await import("../store/index.ts");
  return openStore({ dataDir });
}
