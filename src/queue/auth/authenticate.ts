/**
 * Hawk verification on the queue: an `Authorization: Hawk` header, or a `bewit` query parameter
 * on a GET. A request with neither is anonymous; anything present but wrong is 401.
 */
import {
  calculateMac,
  calculatePayloadHash,
  hawkRequestOf,
  macEquals,
  parseBewit,
  parseHawkHeader,
  type HawkRequest,
} from "../../shared/hawk.ts";
import { ApiError } from "../http/api-error.ts";
import { readBytes } from "../http/body.ts";
import { NonceCache } from "./nonce-cache.ts";
import { hasScope } from "./scopes.ts";
import type { Client } from "./clients.ts";

/** Hawk allows this much clock difference between client and server, in seconds. */
export const allowedSkewSeconds = 60;

export interface Caller {
  /** Undefined for anonymous requests. */
  clientId: string | undefined;
  scopes: readonly string[];
}

export const anonymous: Caller = { clientId: undefined, scopes: [] };

export class Authenticator {
  private readonly clients: Map<string, Client>;
  private readonly nonces = new NonceCache(allowedSkewSeconds);

  constructor(
    clients: Client[],
    private readonly now: () => number = Date.now,
  ) {
    this.clients = new Map(clients.map((client) => [client.clientId, client]));
  }

  /** Returns who sent `request`, or throws 401 AuthenticationFailed. */
  async authenticate(request: Request, url: URL): Promise<Caller> {
    const header = request.headers.get("authorization");
    if (header !== null) return this.verifyHeader(header, request, url);

    const resource = url.pathname + url.search;
    if (url.searchParams.has("bewit")) return this.verifyBewit(request.method, url, resource);
    return anonymous;
  }

  /**
   * Verifies the MAC, the timestamp, that the nonce is new and, when the header carries `hash`,
   * the body against it. A header replayed within the skew window fails on its nonce.
   */
  private async verifyHeader(header: string, request: Request, url: URL): Promise<Caller> {
    const attributes = parseHawkHeader(header);
    if (!attributes) throw authFailed("the Authorization header is not a valid Hawk header");

    const client = this.clientOf(attributes.id);
    const mac = calculateMac("header", client.accessToken, hawkRequestOf(request.method, url), attributes);
    if (!macEquals(mac, attributes.mac)) throw authFailed(`bad Hawk MAC for client ${client.clientId}`);

    const nowSeconds = Math.floor(this.now() / 1000);
    const skew = Math.abs(nowSeconds - attributes.ts);
    if (skew > allowedSkewSeconds) {
      throw authFailed(`Hawk timestamp is ${skew} s off the server clock (at most ${allowedSkewSeconds} s allowed)`);
    }
    if (!this.nonces.remember(client.clientId, attributes.ts, attributes.nonce, nowSeconds)) {
      throw authFailed(`Hawk nonce ${attributes.nonce} of client ${client.clientId} was already used; sign each request anew`);
    }

    if (attributes.hash) await verifyPayloadHash(request, attributes.hash, client.clientId);
    return callerOf(client, attributes.ext);
  }

  private verifyBewit(method: string, url: URL, resource: string): Caller {
    if (method !== "GET" && method !== "HEAD") throw authFailed("a bewit authorizes only GET requests");
    const bewit = parseBewit(resource);
    if (!bewit) throw authFailed("the bewit parameter is malformed");

    const client = this.clientOf(bewit.id);
    const request: HawkRequest = { ...hawkRequestOf("GET", url), resource: bewit.resource };
    const mac = calculateMac("bewit", client.accessToken, request, { ts: bewit.expiry, nonce: "", ext: bewit.ext });
    if (!macEquals(mac, bewit.mac)) throw authFailed(`bad bewit MAC for client ${client.clientId}`);

    if (bewit.expiry * 1000 <= this.now()) throw authFailed("the bewit has expired; build a new signed URL");
    return callerOf(client, bewit.ext);
  }

  private clientOf(clientId: string): Client {
    const client = this.clients.get(clientId);
    if (!client) throw authFailed(`unknown client ${clientId}`);
    return client;
  }
}

/**
 * Throws 401 unless the body matches the payload hash the MAC covered. The body is read from a
 * clone, so the handler still reads the original; both are bounded by the JSON body limit.
 */
async function verifyPayloadHash(request: Request, expected: string, clientId: string): Promise<void> {
  const body = await readBytes(request.clone() as Request);
  const actual = calculatePayloadHash(body, request.headers.get("content-type"));
  if (!macEquals(actual, expected)) {
    throw authFailed(`the body does not match the Hawk payload hash of client ${clientId}; hash the exact body and content type sent`);
  }
}

/**
 * Applies Taskcluster's `ext` field: `authorizedScopes` narrows the client's scopes (each must
 * be held); temporary credentials (`certificate`) are not issued by this queue, so they fail.
 */
function callerOf(client: Client, ext: string | undefined): Caller {
  if (!ext) return { clientId: client.clientId, scopes: client.scopes };

  let parsed: { certificate?: unknown; authorizedScopes?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(ext, "base64").toString("utf8"));
  } catch {
    throw authFailed("the Hawk ext field is not base64-encoded JSON");
  }
  if (parsed.certificate !== undefined) throw authFailed("temporary credentials are not supported by this queue");
  if (parsed.authorizedScopes === undefined) return { clientId: client.clientId, scopes: client.scopes };

  const authorized = parsed.authorizedScopes;
  if (!Array.isArray(authorized) || !authorized.every((scope) => typeof scope === "string")) {
    throw authFailed("authorizedScopes in the Hawk ext field must be an array of strings");
  }
  const unheld = authorized.find((scope) => !hasScope(client.scopes, scope));
  if (unheld !== undefined) throw authFailed(`client ${client.clientId} cannot authorize scope ${unheld}`);
  return { clientId: client.clientId, scopes: authorized };
}

function authFailed(message: string): ApiError {
  return new ApiError("AuthenticationFailed", message);
}

/** Throws 403 InsufficientScopes naming `required` unless the caller holds it; 401 when anonymous. */
export function requireScope(caller: Caller, required: string): void {
  if (hasScope(caller.scopes, required)) return;
  if (caller.clientId === undefined) {
    throw authFailed(`this request needs scope ${required}; send Hawk credentials`);
  }
  throw new ApiError("InsufficientScopes", `client ${caller.clientId} lacks scope ${required}`);
}
