import { describe, expect, test } from "bun:test";
import Hawk from "hawk";
import {
  calculateMac,
  createBewitUrl,
  createHawkHeader,
  hawkRequestOf,
  macEquals,
  parseBewit,
  parseHawkHeader,
} from "../../src/shared/hawk.ts";

const credentials = { id: "project/ci", key: "secret-token-value" };
const url = new URL("http://127.0.0.1:8080/api/queue/v1/task/abc/runs/0/artifacts/public%2Flog.txt?x=1");

describe("Hawk header", () => {
  test("header from this module verifies with the hawk package", () => {
    const header = createHawkHeader("POST", url, credentials);
    const attributes = parseHawkHeader(header)!;
    const expected = Hawk.crypto.calculateMac("header", { ...credentials, algorithm: "sha256" }, {
      ts: attributes.ts,
      nonce: attributes.nonce,
      method: "POST",
      resource: url.pathname + url.search,
      host: "127.0.0.1",
      port: 8080,
    });

    expect(attributes.id).toBe(credentials.id);
    expect(attributes.mac).toBe(expected);
  });

  test("header from the hawk package verifies with this module", () => {
    const { header } = Hawk.client.header(url.toString(), "GET", {
      credentials: { ...credentials, algorithm: "sha256" },
      ext: "taskcluster-ext",
    });
    const attributes = parseHawkHeader(header)!;
    const mac = calculateMac("header", credentials.key, hawkRequestOf("GET", url), attributes);

    expect(macEquals(mac, attributes.mac)).toBe(true);
  });

  test("malformed headers parse to undefined", () => {
    for (const header of [
      "",
      "Basic abc",
      'Hawk id="a"',
      'Hawk id="a", ts="x", nonce="n", mac="m"',
      'Hawk id="a", ts="1", nonce="n", mac="m", mac="m"',
      'Hawk id="a", ts="1", nonce="n", mac="m", bogus="1"',
      'Hawk id="a", ts="1", nonce="n", mac="m" trailing',
    ]) {
      expect(parseHawkHeader(header)).toBeUndefined();
    }
  });
});

describe("Hawk bewit", () => {
  test("bewit from this module verifies with the hawk package's MAC", () => {
    const signed = createBewitUrl(url, credentials, 60);
    const bewit = parseBewit(signed.pathname + signed.search)!;
    const expected = Hawk.crypto.calculateMac("bewit", { ...credentials, algorithm: "sha256" }, {
      ts: bewit.expiry,
      nonce: "",
      method: "GET",
      resource: bewit.resource,
      host: "127.0.0.1",
      port: 8080,
    });

    expect(bewit.resource).toBe(url.pathname + url.search);
    expect(bewit.mac).toBe(expected);
  });

  test("bewit from the hawk package parses and keeps the other query parameters", () => {
    const bewit = Hawk.client.getBewit(url.toString(), {
      credentials: { ...credentials, algorithm: "sha256" },
      ttlSec: 60,
    });
    const parsed = parseBewit(`${url.pathname}${url.search}&bewit=${bewit}`)!;
    const mac = calculateMac("bewit", credentials.key, { ...hawkRequestOf("GET", url), resource: parsed.resource }, {
      ts: parsed.expiry,
      nonce: "",
    });

    expect(parsed.resource).toBe(url.pathname + url.search);
    expect(macEquals(mac, parsed.mac)).toBe(true);
  });

  test("two bewit parameters are rejected", () => {
    const signed = createBewitUrl(url, credentials, 60);
    const doubled = `${signed.pathname}${signed.search}&bewit=abc`;

    expect(parseBewit(doubled)).toBeUndefined();
  });
});
