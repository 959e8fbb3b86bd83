/** GroupSync: each caller waits for a sync that started after its call, and callers share syncs. */
import { expect, test } from "bun:test";
import { GroupSync } from "../../src/shared/group-sync.ts";

/** Returns a sync that finishes only when the test calls `finishNext`; `pending` lists the ones running. */
function controlledSync() {
  const pending: Array<() => void> = [];
  return {
    finishNext: async () => {
      pending.shift()?.();
      await Bun.sleep(0);
    },
    sync: () => new Promise<void>((resolve) => pending.push(resolve)),
    pending,
  };
}

test("callers during a sync share the next", async () => {
  const control = controlledSync();
  let idle = 0;
  const group = new GroupSync(control.sync, () => idle++);
  const settled: string[] = [];

  void group.request().then(() => settled.push("first"));
  void group.request().then(() => settled.push("second"));
  void group.request().then(() => settled.push("third"));
  expect(control.pending.length).toBe(1);

  await control.finishNext();
  expect(settled).toEqual(["first"]);
  expect(control.pending.length).toBe(1);

  await control.finishNext();
  expect(settled).toEqual(["first", "second", "third"]);
  expect(control.pending.length).toBe(0);
  expect(idle).toBe(1);
});

test("failed sync rejects, queued sync runs", async () => {
  let calls = 0;
  const group = new GroupSync(async () => {
    calls++;
    if (calls === 1) throw new Error("EIO");
  });

  const first = group.request();
  const second = group.request();
  await expect(first).rejects.toThrow("EIO");
  await expect(second).resolves.toBeUndefined();
  expect(calls).toBe(2);
});
