import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { calculatePayloadHash, createBewitUrl, createHawkHeader } from "../../src/shared/hawk.ts";
import { hasScope, scopeSatisfies } from "../../src/queue/auth/scopes.ts";
import { describeEachBackend } from "./support/backends.ts";
import { otherClient, runningTask, type TestQueue } from "./support/queue.ts";
import { sendRequests, singlePart } from "./support/artifacts.ts";

describe("scope matching", () => {
  test("trailing star matches a suffix", () => {
    expect(scopeSatisfies("queue:get-artifact:private/*", "queue:get-artifact:private/a/b")).toBe(true);
    expect(scopeSatisfies("*", "queue:create-task:a/b")).toBe(true);
    expect(scopeSatisfies("queue:get-artifact:private/*", "queue:get-artifact:public/a")).toBe(false);
  });

  test("star elsewhere is literal", () => {
    expect(scopeSatisfies("queue:*:x", "queue:get:x")).toBe(false);
    expect(hasScope(["queue:create-artifact:abc/0"], "queue:create-artifact:abc/1")).toBe(false);
  });
});

describe("Hawk payload hash", () => {
  test("matches the hawk package", async () => {
    const Hawk = (await import("hawk")).default;
    const cases: Array<[string, string | null]> = [
      ['{"a":1}', "application/json"],
      ['{"a":1}', "Application/JSON; charset=UTF-8"],
      ["", null],
      ["line\n", " text/plain ;x=y"],
    ];
    for (const [payload, contentType] of cases) {
      const expected = Hawk.crypto.calculatePayloadHash(payload, "sha256", contentType ?? "");

      expect(calculatePayloadHash(new TextEncoder().encode(payload), contentType)).toBe(expected);
    }
  });
});

describeEachBackend("queue authentication", (start) => {
  let queue: TestQueue;
  let taskId: string;
  const other = { id: otherClient.clientId, key: otherClient.accessToken };

  beforeAll(async () => {
    queue = await start();
    taskId = await runningTask(queue);
    for (const name of ["private/secret.txt", "public/open.txt"]) {
      const artifact = singlePart(new TextEncoder().encode(name));
      const path = `/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`;
      const created = (await (await queue.api("POST", path, artifact.body)).json()) as any;
      await sendRequests(created.requests, artifact.chunks);
      await queue.api("PUT", path, { etags: [] });
    }
  });
  afterAll(async () => {
    await queue.stop();
  });

  const privatePath = () => `/task/${taskId}/runs/0/artifacts/private%2Fsecret.txt`;

  test("missing credentials are 401", async () => {
    const answer = await queue.api("GET", privatePath(), undefined, null);
    expect(answer.status).toBe(401);
    expect((await answer.json() as any).code).toBe("AuthenticationFailed");
  });

  test("wrong access token is 401", async () => {
    const answer = await queue.api("GET", privatePath(), undefined, { id: "root", key: "not-the-token" });
    expect(answer.status).toBe(401);
  });

  test("unknown client is 401", async () => {
    expect((await queue.api("GET", privatePath(), undefined, { id: "nobody", key: "x" })).status).toBe(401);
  });

  test("timestamp beyond the skew is 401", async () => {
    const url = new URL(`${queue.rootUrl}/api/queue/v1${privatePath()}`);
    const authorization = createHawkHeader("GET", url, queue.root, Date.now() - 120_000);
    const answer = await fetch(url, { headers: { authorization }, redirect: "manual" });
    expect(answer.status).toBe(401);
    expect((await answer.json() as any).message).toContain("off the server clock");
  });

  test("malformed header is 401", async () => {
    const answer = await fetch(`${queue.rootUrl}/api/queue/v1${privatePath()}`, { headers: { authorization: "Hawk nonsense" } });
    expect(answer.status).toBe(401);
  });

  test("missing scope is 403 naming it", async () => {
    const answer = await queue.api("POST", `/task/${taskId}/runs/0/artifacts/public%2Fx`, singlePart(new Uint8Array(1)).body, other);
    expect(answer.status).toBe(403);
    const body = await answer.json() as any;
    expect(body.code).toBe("InsufficientScopes");
    expect(body.message).toContain(`queue:create-artifact:${taskId}/0`);
  });

  test("private artifact needs the get-artifact scope", async () => {
    expect((await queue.api("GET", privatePath(), undefined, other)).status).toBe(303);
    expect((await queue.api("GET", `/task/${taskId}/runs/0/artifacts/public%2Fopen.txt`, undefined, null)).status).toBe(303);
  });

  test("authorizedScopes narrows the client", async () => {
    const url = new URL(`${queue.rootUrl}/api/queue/v1${privatePath()}`);
    const ext = Buffer.from(JSON.stringify({ authorizedScopes: ["queue:get-artifact:public/*"] })).toString("base64");
    const Hawk = (await import("hawk")).default;
    const { header } = Hawk.client.header(url.toString(), "GET", { credentials: { ...queue.root, algorithm: "sha256" }, ext });
    const answer = await fetch(url, { headers: { authorization: header }, redirect: "manual" });
    expect(answer.status).toBe(403);
    expect((await answer.json() as any).message).toContain("queue:get-artifact:private/secret.txt");
  });

  /** Sends a createArtifact for `name` as root, with a Hawk header whose payload hash covers `signedBody`. */
  async function createWithPayloadHash(name: string, sentBody: string, signedBody: string, contentType = "application/json") {
    const url = new URL(`${queue.rootUrl}/api/queue/v1/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`);
    const Hawk = (await import("hawk")).default;
    const { header } = Hawk.client.header(url.toString(), "POST", {
      credentials: { ...queue.root, algorithm: "sha256" },
      payload: signedBody,
      contentType,
    });
    return fetch(url, { method: "POST", headers: { authorization: header, "content-type": "application/json; charset=utf-8" }, body: sentBody });
  }

  test("payload hash of the body is accepted", async () => {
    const body = JSON.stringify(singlePart(new TextEncoder().encode("hashed")).body);
    const answer = await createWithPayloadHash("public/hashed.txt", body, body);

    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { requests: unknown[] }).requests).toHaveLength(1);
  });

  test("payload hash of another body is 401", async () => {
    const body = JSON.stringify(singlePart(new TextEncoder().encode("sent")).body);
    const signed = JSON.stringify(singlePart(new TextEncoder().encode("signed")).body);
    const answer = await createWithPayloadHash("public/altered.txt", body, signed);
    const json = (await answer.json()) as { code: string; message: string };

    expect(answer.status).toBe(401);
    expect(json.code).toBe("AuthenticationFailed");
    expect(json.message).toContain("does not match the Hawk payload hash of client root");
  });

  test("payload hash of another content type is 401", async () => {
    const body = JSON.stringify(singlePart(new TextEncoder().encode("typed")).body);
    const answer = await createWithPayloadHash("public/typed.txt", body, body, "text/plain");

    expect(answer.status).toBe(401);
  });

  test("replayed header within the skew is 401", async () => {
    const url = new URL(`${queue.rootUrl}/api/queue/v1${privatePath()}`);
    const authorization = createHawkHeader("GET", url, queue.root);
    const first = await fetch(url, { headers: { authorization }, redirect: "manual" });
    const replayed = await fetch(url, { headers: { authorization }, redirect: "manual" });
    const fresh = await fetch(url, { headers: { authorization: createHawkHeader("GET", url, queue.root) }, redirect: "manual" });
    const json = (await replayed.json()) as { code: string; message: string };

    expect(first.status).toBe(303);
    expect(replayed.status).toBe(401);
    expect(json.code).toBe("AuthenticationFailed");
    expect(json.message).toContain("was already used; sign each request anew");
    expect(fresh.status).toBe(303);
  });

  test("bewit URL authorizes a GET until it expires", async () => {
    const url = new URL(`${queue.rootUrl}/api/queue/v1${privatePath()}`);
    const valid = await fetch(createBewitUrl(url, queue.root, 60), { redirect: "manual" });
    expect(valid.status).toBe(303);

    const expired = await fetch(createBewitUrl(url, queue.root, -1), { redirect: "manual" });
    expect(expired.status).toBe(401);
    expect((await expired.json() as any).message).toContain("expired");

    const tampered = createBewitUrl(url, queue.root, 60);
    tampered.pathname = tampered.pathname.replace("secret", "secreT");
    expect((await fetch(tampered, { redirect: "manual" })).status).toBe(401);
  });

  test("request log has no secrets", async () => {
    const url = new URL(`${queue.rootUrl}/api/queue/v1${privatePath()}`);
    const signed = createBewitUrl(url, queue.root, 60);
    await fetch(signed, { redirect: "manual" });

    const logged = JSON.stringify(queue.logLines);
    expect(logged).not.toContain(signed.searchParams.get("bewit")!);
    expect(logged).not.toContain(queue.root.key);
    expect(logged).not.toContain("X-Amz-Signature");
    const line = queue.logLines.findLast((entry) => entry.event === "request")!;
    expect(line.clientId).toBe("root");
    expect(line.status).toBe(303);
    expect(typeof line.durationMs).toBe("number");
  });
});
