/**
 * Hostile input to `artifact serve`: fuzzed and malformed bodies, limit-breaking sizes, hostile
 * artifact names, and raw HTTP that breaks framing. Every response must be a 4xx, the process must
 * stay up, and its resident memory must stay bounded.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { describeRgw } from "../support/rgw.ts";
import { malformedJson, validCreateBody, wrongTypedCreateBody } from "./support/arbitraries.ts";
import { counts, seed, setupTimeoutMs } from "./support/counts.ts";
import { sendRawRequest, type RawAnswer } from "./support/raw-http.ts";
import { runningTask, startReliabilityServer, type ReliabilityServer } from "./support/server.ts";
import { createHawkHeader } from "../../src/shared/hawk.ts";

const MiB = 1024 * 1024;
/** Growth of the server's resident memory that the whole file may cause. */
const maxRssGrowth = 150 * MiB;

describeRgw("hostile input to the queue", (target) => {
  let server: ReliabilityServer;
  let taskId: string;
  let baselineRss: number;
  const statuses = new Map<number, number>();

  const count = (status: number): number => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    return status;
  };
  const artifactPath = (name: string) => `/task/${taskId}/runs/0/artifacts/${name}`;

  beforeAll(async () => {
    server = await startReliabilityServer(target);
    taskId = await runningTask(server);
    baselineRss = server.rss();
  }, setupTimeoutMs);

  afterAll(async () => {
    console.log(`hostile input: seed ${seed}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    await server?.stop();
  });

  test(`${counts.malformedBodies} malformed JSON bodies get 400`, async () => {
    const paths: Array<[string, string]> = [
      ["POST", artifactPath("public/fuzz")],
      ["PUT", artifactPath("public/fuzz")],
      ["PUT", "/task/Y4mxdxPLQHOVgEJwXDjm8Q"],
      ["POST", `/task/${taskId}/runs/0/claim`],
    ];
    let index = 0;

    await fc.assert(
      fc.asyncProperty(malformedJson, async (text) => {
        const [method, path] = paths[index++ % paths.length]!;
        const response = await server.api(method, path, text);
        const answer = (await response.json()) as { code: string };
        expect(count(response.status)).toBe(400);
        expect(answer.code).toBe("InputValidationError");
      }),
      { numRuns: counts.malformedBodies, seed },
    );
  }, 600_000);

  test(`${counts.randomBodies} wrongly typed fields get 400`, async () => {
    await fc.assert(
      fc.asyncProperty(wrongTypedCreateBody, async ({ body }) => {
        const response = await server.api("POST", artifactPath("public/typed"), body);
        await response.body?.cancel();
        expect(count(response.status)).toBe(400);
      }),
      { numRuns: counts.randomBodies, seed },
    );
  }, 600_000);

  test("sizes beyond the limits get 400", async () => {
    const fiveMiBPart = { sha256: "a".repeat(64), size: 5 * MiB };
    const cases: Array<[string, Record<string, unknown>]> = [
      ["negative length", { contentLength: -1 }],
      ["length beyond 2^53", { contentLength: 2 ** 53 + 2 }],
      ["length 1e308", { contentLength: 1e308 }],
      ["single part over 5 GiB", { contentLength: 5 * 1024 * MiB + 1 }],
      ["11,000 parts", { contentLength: 11_000 * 5 * MiB, parts: Array.from({ length: 11_000 }, () => fiveMiBPart) }],
      ["part of size 0", { contentLength: 0, parts: [{ sha256: "a".repeat(64), size: 0 }] }],
      ["negative part size", { contentLength: 5 * MiB, parts: [{ ...fiveMiBPart, size: -5 * MiB }] }],
      ["part under 5 MiB before the last", { contentLength: 5 * MiB + 2, parts: [{ ...fiveMiBPart, size: 1 }, { ...fiveMiBPart, size: 5 * MiB + 1 }] }],
      ["parts not summing to the length", { contentLength: 10 * MiB + 1, parts: [fiveMiBPart, fiveMiBPart] }],
      ["part over 5 GiB", { contentLength: 6 * 1024 * MiB, parts: [{ ...fiveMiBPart, size: 6 * 1024 * MiB }] }],
      ["transfer length differing from identity content", { contentLength: 5, transferLength: 6 }],
      ["gzip without transfer values", { contentEncoding: "gzip" }],
    ];

    for (const [name, fields] of cases) {
      const response = await server.api("POST", artifactPath(`public/limits/${encodeURIComponent(name)}`), { ...validCreateBody(), ...fields });
      const text = await response.text();
      expect(`${name}: ${count(response.status)}`).toBe(`${name}: 400`);
      expect(text).toContain("message");
    }
  }, 60_000);

  test("hostile artifact names get 4xx", async () => {
    const controls = Array.from({ length: 32 }, (_, code) => `public/a%${code.toString(16).padStart(2, "0")}b`);
    const names = [
      ...controls,
      "public/a%7Fb",
      "public/%2e%2e%2fescape",
      "%2e%2e",
      "public/%zz",
      "public/%",
      "public/%c0%ae%c0%ae",
      "public/%ff",
      "public/%e2%80%8b",
      `public/${"n".repeat(2_000)}`,
      `public/${"%2F".repeat(1_100)}`,
    ];

    // Sent on a raw socket, because fetch resolves `%2e%2e` segments before sending.
    for (const name of names) {
      const answer = await rawApi(server, "POST", `/api/queue/v1${artifactPath(name)}`, JSON.stringify(validCreateBody()));
      expect(`${name.slice(0, 40)}: ${count(answer.status)}`).toMatch(/: 4\d\d$/);
    }
  }, 60_000);

  test("encoded dot segments resolve within the task", async () => {
    // Bun resolves `%2e%2e` segments before routing, as WHATWG URL parsing does, and the Hawk MAC
    // covers the resolved path, so the name the queue acts on is the one the client signed.
    const cases: Array<[string, string]> = [
      ["public/%2E%2E/escaped", "escaped"],
      ["public/.%2e/escaped", "escaped"],
      ["public/%2e/resolved", "public/resolved"],
    ];
    for (const [name, resolved] of cases) {
      const answer = await rawApi(server, "POST", `/api/queue/v1${artifactPath(name)}`, JSON.stringify(validCreateBody()));
      const body = JSON.parse(answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4)) as { requests: Array<{ url: string }> };

      expect(count(answer.status)).toBe(200);
      expect(new URL(body.requests[0]!.url).pathname).toEndWith(`/${taskId}/0/${resolved}`);
    }
  });

  test("double-encoded names stay literal", async () => {
    const response = await server.api("POST", artifactPath("public/%252e%252e%252fx"), validCreateBody());
    const answer = (await response.json()) as { requests: Array<{ url: string }> };

    expect(count(response.status)).toBe(200);
    expect(answer.requests).toHaveLength(1);
    expect(new URL(answer.requests[0]!.url).pathname).toEndWith(`/${taskId}/0/public/%252e%252e%252fx`);
  });

  test("bodies over 4 MiB get 413", async () => {
    const declared = await server.api("POST", artifactPath("public/huge"), `"${"x".repeat(5 * MiB)}"`);
    await declared.body?.cancel();
    expect(count(declared.status)).toBe(413);

    const url = new URL(`${server.rootUrl}/api/queue/v1${artifactPath("public/huge-stream")}`);
    const streamed = await fetch(url, {
      method: "POST",
      headers: { authorization: createHawkHeader("POST", url, server.root), "content-type": "application/json" },
      body: endlessSpaces(256 * MiB),
    });
    await streamed.body?.cancel();
    expect(count(streamed.status)).toBe(413);
  }, 120_000);

  test("broken HTTP framing gets 4xx", async () => {
    const port = Number(new URL(server.rootUrl).port);
    const path = `/api/queue/v1${artifactPath("public/raw")}`;
    const authorization = `authorization: ${createHawkHeader("POST", new URL(server.rootUrl + path), server.root)}`;
    const body = JSON.stringify(validCreateBody());
    const length = `content-length: ${body.length}`;
    const host = `host: ${new URL(server.rootUrl).host}`;
    const cases: Record<string, string[]> = {
      "CR/LF injected into a header": [`POST ${path} HTTP/1.1`, host, "x-note: a\r\nx-injected: 1\rx-more: 2", authorization, length],
      "bare LF inside a header": [`POST ${path} HTTP/1.1`, host, "x-note: a\nx-injected: 1", authorization, length],
      "NUL inside a header": [`POST ${path} HTTP/1.1`, host, "x-note: a\0b", authorization, length],
      "obsolete line folding": [`POST ${path} HTTP/1.1`, host, "x-note: a", " folded: b", authorization, length],
      "duplicate differing Content-Length": [`POST ${path} HTTP/1.1`, host, authorization, length, `content-length: ${body.length + 5}`],
      "Content-Length and chunked": [`POST ${path} HTTP/1.1`, host, authorization, length, "transfer-encoding: chunked"],
      "negative Content-Length": [`POST ${path} HTTP/1.1`, host, authorization, "content-length: -1"],
      "Content-Length beyond 2^64": [`POST ${path} HTTP/1.1`, host, authorization, "content-length: 99999999999999999999999"],
      "duplicate Authorization": [`POST ${path} HTTP/1.1`, host, authorization, authorization, length],
      "duplicate Host": [`POST ${path} HTTP/1.1`, host, "host: example.invalid", authorization, length],
      "header name with a space": [`POST ${path} HTTP/1.1`, host, "x bad: 1", authorization, length],
      "200 KiB header": [`POST ${path} HTTP/1.1`, host, `x-big: ${"a".repeat(200 * 1024)}`, authorization, length],
      "5,000 headers": [`POST ${path} HTTP/1.1`, host, ...Array.from({ length: 5_000 }, (_, i) => `x-h${i}: v`), authorization, length],
    };

    for (const [name, head] of Object.entries(cases)) {
      const answer = await sendRawRequest(port, head, body);
      expect(`${name}: ${count(answer.status)}`).toMatch(/: 4\d\d$/);
      expect(answer.text.toLowerCase()).not.toContain("x-injected");
    }
  }, 60_000);

  test("raw dot segments never escape the API", async () => {
    const port = Number(new URL(server.rootUrl).port);
    for (const path of [`/api/queue/v1/task/${taskId}/runs/0/artifacts/../../../../status`, "/api/queue/v1/../../../etc/passwd", "/api/queue/v1/%2e%2e/%2e%2e/ping"]) {
      const answer = await sendRawRequest(port, [`GET ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: close"]);
      expect(`${path}: ${count(answer.status)}`).toMatch(/: 4\d\d$/);
      expect(answer.text).not.toContain("root:");
    }
  });

  test("server stays up with bounded memory", async () => {
    const ping = await server.api("GET", "/ping");
    expect(ping.status).toBe(200);
    expect(server.alive()).toBe(true);

    const growth = server.rss() - baselineRss;
    console.log(`hostile input: server RSS ${(baselineRss / MiB).toFixed(0)} MiB before, ${(server.rss() / MiB).toFixed(0)} MiB after`);
    expect(growth).toBeLessThan(maxRssGrowth);
    expect(server.stderr.filter((line) => line.includes('"status":5'))).toEqual([]);
    expect([...statuses.keys()].filter((status) => status >= 500 || status === 0)).toEqual([]);
  });
});

/** Sends a request signed as root with its path exactly as given. */
function rawApi(server: ReliabilityServer, method: string, path: string, body = ""): Promise<RawAnswer> {
  const authorization = createHawkHeader(method, new URL(server.rootUrl + path), server.root);
  const head = [`${method} ${path} HTTP/1.1`, `host: ${new URL(server.rootUrl).host}`, `authorization: ${authorization}`, `content-length: ${Buffer.byteLength(body)}`, "connection: close"];
  return sendRawRequest(Number(new URL(server.rootUrl).port), head, body);
}

/** Returns a request body of `bytes` spaces, produced on demand so the test keeps none of it in memory. */
function endlessSpaces(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(MiB).fill(0x20);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}
