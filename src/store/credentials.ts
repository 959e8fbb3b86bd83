/** The store's one access key pair: given by the caller, or generated once and kept in the data dir. */
import { randomBytes, randomInt } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { DataError } from "../shared/errors.ts";
import type { StoreCredentials } from "./auth.ts";

const accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Reads `path`, or writes new credentials there (mode 0600) when it does not exist. */
export async function loadOrCreateCredentials(path: string): Promise<StoreCredentials> {
  try {
    return parseCredentials(await readFile(path, "utf8"), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }

  const credentials = generateCredentials();
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  await rename(temporary, path);
  return credentials;
}

/** Generates an AWS-shaped pair: a 20-character access key id and a 40-character secret. */
export function generateCredentials(): StoreCredentials {
  let accessKeyId = "AKST";
  while (accessKeyId.length < 20) accessKeyId += accessKeyAlphabet[randomInt(accessKeyAlphabet.length)];
  return { accessKeyId, secretAccessKey: randomBytes(30).toString("base64url") };
}

function parseCredentials(text: string, path: string): StoreCredentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataError(`invalid JSON in the store's credentials file ${path}`, { hint: "fix it or delete it to generate new credentials", cause: error });
  }
  const { accessKeyId, secretAccessKey } = (value ?? {}) as Partial<StoreCredentials>;
  if (typeof accessKeyId !== "string" || typeof secretAccessKey !== "string" || !accessKeyId || !secretAccessKey) {
    throw new DataError(`the store's credentials file ${path} needs string fields accessKeyId and secretAccessKey`, {
      hint: "fix it or delete it to generate new credentials",
    });
  }
  return { accessKeyId, secretAccessKey };
}
