import { expect, test } from "bun:test";
import { adminRequest, createTestBucket, describeRgw } from "../support/rgw.ts";

describeRgw("signed requests", (target) => {
  test("PUT then GET returns the same bytes", async () => {
    const bucket = await createTestBucket(target);
    const body = "the bytes that were produced\n";

    const put = await adminRequest(target, "PUT", `/${bucket}/smoke.txt`, body);
    expect(put.status).toBe(200);

    const get = await adminRequest(target, "GET", `/${bucket}/smoke.txt`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe(body);
  });
});
