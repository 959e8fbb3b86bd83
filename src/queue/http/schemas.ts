/** JSON schemas of the request bodies, checked with ajv before any handler runs. */
import Ajv, { type ValidateFunction } from "ajv";
import { inputError, ApiError } from "./api-error.ts";

const sha256 = { type: "string", pattern: "^[0-9a-fA-F]{64}$" } as const;
const length = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const dateTime = { type: "string", format: "date-time" } as const;

export const createTaskSchema = {
  type: "object",
  required: ["taskQueueId", "created", "deadline", "payload", "metadata"],
  properties: {
    taskQueueId: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,38}/[a-zA-Z0-9_-]{1,38}$" },
    created: dateTime,
    deadline: dateTime,
    expires: dateTime,
    payload: { type: "object" },
    metadata: {
      type: "object",
      required: ["name", "description", "owner", "source"],
      properties: {
        name: { type: "string", maxLength: 255 },
        description: { type: "string", maxLength: 32768 },
        owner: { type: "string", maxLength: 255 },
        source: { type: "string", maxLength: 4096 },
      },
    },
  },
} as const;

export const claimSchema = {
  type: "object",
  required: ["workerGroup", "workerId"],
  properties: {
    workerGroup: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,38}$" },
    workerId: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,38}$" },
  },
} as const;

export const resolveSchema = { type: "object" } as const;

export const createArtifactSchema = {
  type: "object",
  required: ["storageType", "expires", "contentType", "contentSha256", "contentLength"],
  additionalProperties: false,
  properties: {
    storageType: { const: "blob" },
    expires: dateTime,
    contentType: { type: "string", minLength: 1, maxLength: 255 },
    contentEncoding: { enum: ["identity", "gzip"] },
    contentSha256: sha256,
    contentLength: length,
    transferSha256: sha256,
    transferLength: length,
    parts: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["sha256", "size"],
        additionalProperties: false,
        properties: { sha256, size: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
      },
    },
  },
} as const;

export const completeArtifactSchema = {
  type: "object",
  required: ["etags"],
  properties: { etags: { type: "array", maxItems: 10_000, items: { type: "string", maxLength: 1024 } } },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
ajv.addFormat("date-time", { type: "string", validate: isDateTime });

/** Returns true for an RFC 3339 date-time that Date can read. */
function isDateTime(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value));
}

export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** Returns `body` typed as T, or throws 400 InputValidationError naming the first invalid field. */
export function validated<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (validate(body)) return body;
  const [first] = validate.errors ?? [];
  const where = first?.instancePath ? first.instancePath.slice(1).replaceAll("/", ".") : "body";
  const detail = first?.keyword === "additionalProperties" ? `has unknown field ${first.params.additionalProperty}` : first?.message;
  throw new ApiError("InputValidationError", `${where} ${detail}`);
}

/** Parses an ISO date-time that the schema already checked; throws 400 for the rare value Date rejects. */
export function parseTime(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw inputError(`${field} is not a valid date-time: ${value}`);
  return ms;
}
