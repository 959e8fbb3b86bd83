/**
 * Static clients: `root`, whose access token comes from the environment or is generated on
 * first start and kept in `<dataDir>/root-credentials.json`, and others from a JSON file of
 * `[{clientId, accessToken, scopes}]`.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Ajv from "ajv";
import { InputFileError, UsageError } from "../../shared/errors.ts";

export interface Client {
  clientId: string;
  accessToken: string;
  scopes: string[];
}

export const rootClientId = "root";

const clientsFileSchema = {
  type: "array",
  items: {
    type: "object",
    required: ["clientId", "accessToken", "scopes"],
    additionalProperties: false,
    properties: {
      clientId: { type: "string", pattern: "^[A-Za-z0-9!@/:.+|_-]{1,128}$" },
      accessToken: { type: "string", minLength: 22, maxLength: 256 },
      scopes: { type: "array", items: { type: "string", pattern: "^[\\x20-\\x7e]*$" } },
    },
  },
} as const;

const validateClientsFile = new Ajv({ allErrors: true }).compile<Client[]>(clientsFileSchema);

/** Reads the root credentials, creating them (mode 0600) when neither the file nor `envToken` exists. */
export function rootClient(dataDir: string, rootUrl: string, envToken: string | undefined): Client {
  const path = join(dataDir, "root-credentials.json");
  if (envToken) {
    writeRootCredentials(path, rootUrl, envToken);
    return { clientId: rootClientId, accessToken: envToken, scopes: ["*"] };
  }

  let accessToken = randomBytes(33).toString("base64url");
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, "utf8")) as { accessToken?: unknown };
    if (typeof stored.accessToken !== "string" || stored.accessToken === "") {
      throw new UsageError(`${path} has no accessToken`, { hint: "delete the file to generate new root credentials" });
    }
    accessToken = stored.accessToken;
  }
  writeRootCredentials(path, rootUrl, accessToken);
  return { clientId: rootClientId, accessToken, scopes: ["*"] };
}

/** Writes the file users read the root token from; rewritten each start so its rootUrl is current. */
function writeRootCredentials(path: string, rootUrl: string, accessToken: string): void {
  writeFileSync(path, `${JSON.stringify({ rootUrl, clientId: rootClientId, accessToken }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Reads and validates a clients file; throws a UsageError naming the first invalid entry. */
export function readClientsFile(path: string): Client[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputFileError(`cannot read clients file ${path}: ${(error as Error).message}`, { cause: error });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`clients file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!validateClientsFile(parsed)) {
    const [first] = validateClientsFile.errors ?? [];
    throw new UsageError(`clients file ${path} is invalid at ${first?.instancePath || "/"}: ${first?.message}`, {
      hint: 'write an array of {"clientId", "accessToken", "scopes"}',
    });
  }
  if (parsed.some((client) => client.clientId === rootClientId)) {
    throw new UsageError(`clients file ${path} defines ${rootClientId}, which the queue defines itself`);
  }
  return parsed;
}
