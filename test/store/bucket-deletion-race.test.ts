import { afterAll, beforeAll, describe, expect, test } from "bun:test";
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
