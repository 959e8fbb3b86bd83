/**
 * Runs one suite against each storage backend: Ceph RGW (skipped with a reason when absent) and
 * the built-in store (skipped with a reason until src/store exists in the checkout).
 */
import { describe } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describeRgw, type S3Target } from "../../support/rgw.ts";
import { startTestQueue, type TestQueue, type TestQueueOptions } from "./queue.ts";

export type StartQueue = (options?: TestQueueOptions) => Promise<TestQueue>;

const storeSource = join(import.meta.dir, "../../../src/store/index.ts");

export function describeEachBackend(name: string, body: (start: StartQueue) => void): void {
  describeRgw(name, (target: S3Target) => body((options = {}) => startTestQueue({ rgw: target, ...options })));

  if (existsSync(storeSource)) {
    describe(`${name} (built-in store)`, () => body((options = {}) => startTestQueue(options)));
  } else {
    describe.skip(`${name} (built-in store; skipped: src/store/index.ts is not in this checkout)`, () => body(startTestQueue));
  }
}
