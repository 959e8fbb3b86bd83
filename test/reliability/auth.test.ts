/**
 * Authentication and scopes of `artifact serve`: every request without the right credentials or
 * scope is rejected with 401 or 403, and the server's log never contains a secret it was sent or
 * a signature it produced.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateMac, createBewitUrl, createHawkHeader, hawkRequestOf, type HawkCredentials } from "../../src/shared/hawk.ts";
import { niceSlugid } from "../../src/shared/slugid.ts";
import { describeRgw } from "../support/rgw.ts";
import { validCreateBody } from "./support/arbitraries.ts";
import { setupTimeoutMs } from "./support/counts.ts";
import { signedFetch, startReliabilityServer, taskBody, type ReliabilityServer } from "./support/server.ts";

/** A taskId that starts with `prefix`; slugids are random, so this draws until one matches. */
function taskIdStartingWith(prefix: string): string {
  for (let attempt = 0; attempt < 1_000_000; attempt++) {
    const taskId = niceSlugid();
    if (taskId.startsWith(prefix)) return taskId;
  }
  throw new Error(`no slugid starting with ${prefix} in 1,000,000 draws`);
}

describeRgw("authentication and scopes", (target) => {
  let server: ReliabilityServer;
  let directory: string;
  let taskId: string;
  let prefixTaskId: string;
  const statuses: number[] = [];
  const secrets: string[] = [];

  // Each client has a scope that looks close to what it needs but is not.
  const clients: Record<string, HawkCredentials & { scopes: string[] }> = {};
  const client = (id: string, scopes: string[]): HawkCredentials => {
    const credentials = { id, key: `${id.replaceAll("/", "-")}-access-token-${crypto.randomUUID()}`, scopes };
    clients[id] = credentials;
    secrets.push(credentials.key);
    return credentials;
  };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "artifact-reliability-auth-"));
    taskId = taskIdStartingWith("Ab");
    prefixTaskId = taskId.slice(0, 21);

    client("reader/none", []);
    client("writer/prefix", [`queue:create-artifact:${prefixTaskId}`]);
    client("writer/no-run", [`queue:create-artifact:${taskId}`]);
    client("writer/other-run", [`queue:create-artifact:${taskId}/1`, `queue:create-artifact:${taskId}/00`]);
    client("writer/inner-star", [`queue:*-artifact:${taskId}/0`, `queue:create-*:${taskId}/0*x`]);
    client("writer/right", [`queue:create-artifact:${taskId}/0`]);
    client("reader/private-a", ["queue:get-artifact:private/a"]);
    const clientsFile = join(directory, "clients.json");
    writeFileSync(clientsFile, JSON.stringify(Object.values(clients).map(({ id, key, scopes }) => ({ clientId: id, accessToken: key, scopes }))));

    server = await startReliabilityServer(target, { extraArgs: ["--clients-file", clientsFile] });
    secrets.push(server.root.key);

    const created = await server.api("PUT", `/task/${taskId}`, taskBody());
    expect(created.status).toBe(200);
    const claimed = await server.api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "reliability", workerId: "worker-1" });
    expect(claimed.status).toBe(200);
  }, setupTimeoutMs);

  afterAll(async () => {
    console.log(`auth: ${statuses.length} rejected requests, statuses ${JSON.stringify(countsOf(statuses))}`);
    await server?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  const rejected = async (response: Response, status: 401 | 403): Promise<void> => {
    const body = (await response.json()) as { code: string };
    statuses.push(response.status);
    expect(response.status).toBe(status);
    expect(body.code).toBe(status === 401 ? "AuthenticationFailed" : "InsufficientScopes");
  };
  const createPath = (name = "private/a") => `/task/${taskId}/runs/0/artifacts/${name}`;

  test("missing credentials get 401", async () => {
    await rejected(await server.api("POST", createPath(), validCreateBody(), null), 401);
    await rejected(await server.api("PUT", createPath(), { etags: [] }, null), 401);
    await rejected(await server.api("PUT", `/task/${niceSlugid()}`, taskBody(), null), 401);
    await rejected(await server.api("POST", `/task/${taskId}/runs/0/completed`, {}, null), 401);
    await rejected(await server.api("GET", createPath(), undefined, null), 401);
  });

  test("wrong access token gets 401", async () => {
    const wrong = { id: "root", key: `${server.root.key}x` };
    await rejected(await server.api("POST", createPath(), validCreateBody(), wrong), 401);
    await rejected(await server.api("POST", createPath(), validCreateBody(), { id: "writer/right", key: server.root.key }), 401);
  });

  test("unknown client gets 401", async () => {
    await rejected(await server.api("POST", createPath(), validCreateBody(), { id: "nobody", key: server.root.key }), 401);
    await rejected(await server.api("POST", createPath(), validCreateBody(), { id: "root ", key: server.root.key }), 401);
  });

  test("malformed Hawk headers get 401", async () => {
    const url = new URL(`${server.rootUrl}/api/queue/v1${createPath()}`);
    const valid = createHawkHeader("POST", url, server.root);
    const headers = [
      "Hawk",
      "Basic cm9vdDpyb290",
      "Bearer abc",
      valid.replace(/mac="[^"]*"/, 'mac=""'),
      valid.replace(/ts="\d+"/, `ts="${Math.floor(Date.now() / 1000) - 3_600}"`),
      valid.replace(/ts="\d+"/, `ts="${Math.floor(Date.now() / 1000) + 3_600}"`),
      `${valid}, id="other"`,
      createHawkHeader("PUT", url, server.root),
      createHawkHeader("POST", new URL(`${url}x`), server.root),
    ];
    for (const authorization of headers) {
      const response = await fetch(url, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(validCreateBody()) });
      await rejected(response, 401);
    }
  });

  test("expired or tampered bewit gets 401", async () => {
    const url = new URL(`${server.rootUrl}/api/queue/v1/task/${taskId}/runs/0/artifacts/private/a`);
    const expired = createBewitUrl(url, server.root, 60, Date.now() - 3_600_000);
    const valid = createBewitUrl(url, server.root, 600);
    const bewit = valid.searchParams.get("bewit")!;
    const decoded = Buffer.from(bewit, "base64url").toString("utf8");
    const tamperedMac = decoded.replace(/\\([^\\]+)\\$/, (_, mac: string) => `\\${mac.slice(0, -2)}${mac.endsWith("A=") ? "B=" : "A="}\\`);
    const laterExpiry = decoded.replace(/\\(\d+)\\/, (_, expiry: string) => `\\${Number(expiry) + 86_400}\\`);
    const otherPath = new URL(`${server.rootUrl}/api/queue/v1/task/${taskId}/runs/0/artifacts/private/b`);
    otherPath.searchParams.set("bewit", bewit);

    const urls = [
      expired,
      withBewit(url, Buffer.from(tamperedMac).toString("base64url")),
      withBewit(url, Buffer.from(laterExpiry).toString("base64url")),
      withBewit(url, Buffer.from(decoded.replace("root\\", "writer/right\\")).toString("base64url")),
      withBewit(url, "not-base64!"),
      withBewit(url, ""),
      otherPath,
    ];
    for (const signed of urls) await rejected(await fetch(signed, { redirect: "manual" }), 401);

    const post = await fetch(valid, { method: "POST", body: JSON.stringify(validCreateBody()), headers: { "content-type": "application/json" } });
    await rejected(post, 401);
  });

  test("client without the scope gets 403", async () => {
    for (const id of ["reader/none", "writer/prefix", "writer/no-run", "writer/other-run", "writer/inner-star", "reader/private-a"]) {
      await rejected(await server.api("POST", createPath(), validCreateBody(), clients[id]), 403);
    }
  });

  test("scope prefix grants no longer ids", async () => {
    // `queue:create-artifact:<first 21 characters>` must not cover the 22-character taskId.
    expect(taskId.startsWith(prefixTaskId)).toBe(true);
    await rejected(await server.api("POST", createPath("public/prefix"), validCreateBody(), clients["writer/prefix"]), 403);

    // `queue:get-artifact:private/a` must not cover private/ab.
    const right = await server.api("POST", createPath("private/ab"), validCreateBody(), clients["writer/right"]);
    expect(right.status).toBe(200);
    await right.body?.cancel();
    await rejected(await server.api("GET", createPath("private/ab"), undefined, clients["reader/private-a"]), 403);
  });

  test("authorizedScopes cannot widen a client", async () => {
    const url = new URL(`${server.rootUrl}/api/queue/v1${createPath()}`);
    const ext = Buffer.from(JSON.stringify({ authorizedScopes: ["*"] })).toString("base64");
    const authorization = withExt(url, clients["writer/prefix"]!, ext);
    const response = await fetch(url, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(validCreateBody()) });
    await rejected(response, 401);

    const narrowed = withExt(url, server.root, Buffer.from(JSON.stringify({ authorizedScopes: ["queue:get-artifact:*"] })).toString("base64"));
    const narrowedResponse = await fetch(url, { method: "POST", headers: { authorization: narrowed, "content-type": "application/json" }, body: JSON.stringify(validCreateBody()) });
    await rejected(narrowedResponse, 403);
  });

  test("right scope is accepted", async () => {
    const response = await server.api("POST", createPath("public/allowed"), validCreateBody(), clients["writer/right"]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { requests: Array<{ headers: Record<string, string> }> };
    const signature = /Signature=([0-9a-f]{64})/.exec(body.requests[0]!.headers.authorization ?? "")?.[1];
    expect(signature).toBeDefined();
    secrets.push(signature!);
  });

  test("log contains no secret", async () => {
    const presigned = await presignedQuery(server, taskId);
    secrets.push(presigned.search, presigned.searchParams.get("X-Amz-Signature")!);
    const bewit = createBewitUrl(new URL(`${server.rootUrl}/api/queue/v1${createPath()}`), server.root, 600).searchParams.get("bewit")!;
    await (await fetch(`${server.rootUrl}/api/queue/v1${createPath()}?bewit=${bewit}`, { redirect: "manual" })).body?.cancel();
    secrets.push(bewit);
    await Bun.sleep(200); // the log lines of the last requests arrive on the pipe after the responses

    const log = server.stderr.join("\n");
    expect(log).toContain('"event":"request"');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(log.includes(secret)).toBe(false);
    }
    for (const pattern of [/X-Amz-Signature/i, /X-Amz-Credential/i, /bewit=/i, /mac="/, /AWS4-HMAC-SHA256/]) {
      expect(log).not.toMatch(pattern);
    }
  });
});

function withBewit(url: URL, bewit: string): URL {
  const signed = new URL(url);
  signed.searchParams.set("bewit", bewit);
  return signed;
}

/** A Hawk header with an `ext` field, built by hand because createHawkHeader sends none. */
function withExt(url: URL, credentials: HawkCredentials, ext: string): string {
  const header = createHawkHeader("POST", url, credentials);
  const attributes = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value])) as Record<string, string>;
  const mac = calculateMac("header", credentials.key, hawkRequestOf("POST", url), { ts: Number(attributes.ts), nonce: attributes.nonce!, ext });
  return `Hawk id="${credentials.id}", ts="${attributes.ts}", nonce="${attributes.nonce}", ext="${ext}", mac="${mac}"`;
}

/** Uploads an empty artifact as root and returns the presigned GET URL that getArtifact redirects to. */
async function presignedQuery(server: ReliabilityServer, taskId: string): Promise<URL> {
  const path = `/task/${taskId}/runs/0/artifacts/private/presigned`;
  const created = (await (await server.api("POST", path, validCreateBody())).json()) as { requests: Array<{ url: string; method: string; headers: Record<string, string> }> };
  const [put] = created.requests;
  const stored = await fetch(put!.url, { method: put!.method, headers: put!.headers, body: new Uint8Array(0) });
  expect(stored.status).toBe(200);
  const completed = await server.api("PUT", path, { etags: [stored.headers.get("etag") ?? ""] });
  expect(completed.status).toBe(204);

  const redirect = await signedFetch(server.rootUrl, "GET", path, undefined, server.root);
  expect(redirect.status).toBe(303);
  return new URL(redirect.headers.get("location")!);
}

function countsOf(values: number[]): Record<number, number> {
  const result: Record<number, number> = {};
  for (const value of values) result[value] = (result[value] ?? 0) + 1;
  return result;
}
