import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreLayout } from "../../src/store/layout.ts";
import { signedFetch, startStore } from "./support.ts";

let store: Awaited<ReturnType<typeof startStore>>;

beforeAll(async () => {
  store = await startStore();
});

afterAll(async () => {
  await store.stop();
});

describe("DeleteBucket racing CreateMultipartUpload", () => {
  test("every upload started is listed or refused", async () => {
    for (let round = 0; round < 24; round++) {
      const bucket = `upload-race-${round}`;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);

      const creates = Array.from({ length: 6 }, (_, index) => signedFetch(store, "POST", `/${bucket}/k${index}?uploads`));
      await Bun.sleep(round % 3);
      const deleted = signedFetch(store, "DELETE", `/${bucket}`);
      const statuses = (await Promise.all(creates)).map((response) => response.status);
      const deleteStatus = (await deleted).status;

      for (const status of statuses) expect([200, 404]).toContain(status);
      const started = statuses.filter((status) => status === 200).length;
      if (deleteStatus === 204) {
        expect(started).toBe(0);
        continue;
      }

      expect(deleteStatus).toBe(409);
      const listing = await (await signedFetch(store, "GET", `/${bucket}?uploads`)).text();
      expect(listing.match(/<UploadId>/g)?.length ?? 0).toBe(started);
    }
  });
});

describe("DeleteBucket racing reads and deletes", () => {
  test("listings answer 200 or 404", async () => {
    for (let round = 0; round < 20; round++) {
      const bucket = `list-race-${round}`;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);

      const listings = () => [
        ...Array.from({ length: 8 }, () => signedFetch(store, "GET", `/${bucket}?uploads`)),
        ...Array.from({ length: 8 }, () => signedFetch(store, "GET", `/${bucket}?list-type=2`)),
      ];
      const before = listings();
      const deleted = signedFetch(store, "DELETE", `/${bucket}`);
      const after = listings();
      const statuses = (await Promise.all([...before, ...after])).map((response) => response.status);

      expect((await deleted).status).toBe(204);
      for (const status of statuses) expect([200, 404]).toContain(status);
    }
  });

  test("one of three DeleteBuckets succeeds", async () => {
    for (let round = 0; round < 20; round++) {
      const bucket = `delete-race-${round}`;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);

      const deletes = Array.from({ length: 3 }, () => signedFetch(store, "DELETE", `/${bucket}`));
      const statuses = (await Promise.all(deletes)).map((response) => response.status).sort();

      expect(statuses).toEqual([204, 404, 404]);
    }
  });
});

describe("DeleteBucket racing bucket creation and listing", () => {
  test("ListBuckets answers 200", async () => {
    for (let round = 0; round < 20; round++) {
      const bucket = `all-race-${round}`;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);

      const before = Array.from({ length: 4 }, () => signedFetch(store, "GET", "/"));
      const deleted = signedFetch(store, "DELETE", `/${bucket}`);
      const after = Array.from({ length: 4 }, () => signedFetch(store, "GET", "/"));
      const statuses = (await Promise.all([...before, ...after])).map((response) => response.status);

      expect((await deleted).status).toBe(204);
      expect(statuses).toEqual(Array(8).fill(200));
    }
  });

  test("bucket ends whole or gone", async () => {
    for (let round = 0; round < 20; round++) {
      const bucket = `create-race-${round}`;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);

      const deleted = signedFetch(store, "DELETE", `/${bucket}`);
      await Bun.sleep(round % 2);
      const creates = await Promise.all(Array.from({ length: 4 }, () => signedFetch(store, "PUT", `/${bucket}`)));
      expect((await deleted).status).toBe(204);
      for (const response of creates) expect([200, 409]).toContain(response.status);

      const head = (await signedFetch(store, "HEAD", `/${bucket}`)).status;
      const listed = (await (await signedFetch(store, "GET", "/")).text()).includes(`<Name>${bucket}</Name>`);
      expect(listed).toBe(head === 200);
      if (head === 404) continue;

      expect(head).toBe(200);
      expect((await signedFetch(store, "PUT", `/${bucket}/k`, { body: "x" })).status).toBe(200);
      expect((await signedFetch(store, "GET", `/${bucket}?uploads`)).status).toBe(200);
      expect((await signedFetch(store, "DELETE", `/${bucket}/k`)).status).toBe(204);
      expect((await signedFetch(store, "DELETE", `/${bucket}`)).status).toBe(204);
    }
  });
});

describe("start after a crash during DeleteBucket", () => {
  test("half buckets and removed folders are cleaned up", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "artifact-store-restart-"));
    try {
      await crashedDeletesIn(dataDir);
      const layout = new StoreLayout(dataDir);
      const removed = join(layout.tmpDir, "deleted-bucket-gone-0000");

      const store = await startStore({ dataDir });
      try {
        expect((await signedFetch(store, "GET", "/objects-only?uploads")).status).toBe(200);
        expect((await signedFetch(store, "DELETE", "/objects-only")).status).toBe(204);
        expect((await signedFetch(store, "HEAD", "/uploads-only")).status).toBe(404);
        expect(existsSync(layout.bucketDir("uploads-only"))).toBe(false);
        expect((await signedFetch(store, "HEAD", "/whole")).status).toBe(200);
        expect(existsSync(removed)).toBe(false);
      } finally {
        await store.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Leaves in `dataDir` what a store that crashed while deleting buckets could: a bucket without
 * its uploads folder, one without its objects folder, and a deleted bucket's folder in tmp/.
 */
async function crashedDeletesIn(dataDir: string): Promise<void> {
  const layout = new StoreLayout(dataDir);
  const first = await startStore({ dataDir });
  for (const bucket of ["objects-only", "uploads-only", "whole"]) {
    expect((await signedFetch(first, "PUT", `/${bucket}`)).status).toBe(200);
  }
  await first.stop();

  rmSync(layout.uploadsDir("objects-only"), { recursive: true });
  rmSync(layout.objectsDir("uploads-only"), { recursive: true });
  const removed = join(layout.tmpDir, "deleted-bucket-gone-0000");
  mkdirSync(join(removed, "objects"), { recursive: true });
  writeFileSync(join(removed, "objects", "leftover"), "x");
}
