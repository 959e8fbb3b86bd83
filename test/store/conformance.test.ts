/** The shared S3 conformance suite, unchanged, against the built-in store. */
import { afterAll } from "bun:test";
import { defineS3Conformance } from "../s3/conformance.ts";
import { startStore, type RunningStore } from "./support.ts";

let running: RunningStore | undefined;

defineS3Conformance("built-in store", async () => {
  running = await startStore();
  return running;
});

afterAll(async () => {
  await running?.stop();
});
