/**
 * Options every command accepts, and the strict parsing that citty leaves to us: citty accepts
 * unknown options silently, but a misspelled flag in a Makefile must fail with exit 64.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../shared/errors.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import type { HawkCredentials } from "../shared/hawk.ts";

/** Options of every command, servers included. */
export const logArgs = {
  quiet: { type: "boolean", alias: "q", description: "Print nothing but errors on stderr" },
  verbose: { type: "boolean", alias: "v", description: "Print details of each request and retry on stderr" },
} as const satisfies ArgsDef;

/** Options of every client command. */
export const globalArgs = {
  "root-url": { type: "string", description: "Root URL of the queue (env TASKCLUSTER_ROOT_URL)" },
  "client-id": { type: "string", description: "Client id for Hawk authentication (env TASKCLUSTER_CLIENT_ID)" },
  "access-token": { type: "string", description: "Access token for Hawk authentication (env TASKCLUSTER_ACCESS_TOKEN)" },
  ...logArgs,
  json: { type: "boolean", description: "Print one JSON object with the result on stdout" },
} as const satisfies ArgsDef;

export interface GlobalOptions {
  "root-url"?: string;
  "client-id"?: string;
  "access-token"?: string;
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
}

export function loggerFor(options: GlobalOptions): Logger {
  if (options.quiet) return createLogger("quiet");
  return createLogger(options.verbose ? "verbose" : "normal");
}

export interface QueueConfig {
  rootUrl: string;
  credentials: HawkCredentials | undefined;
}

/** Resolves the queue's root URL and credentials from options, then the Taskcluster env names. */
export function queueConfigOf(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): QueueConfig {
  const rootUrl = options["root-url"] ?? env.TASKCLUSTER_ROOT_URL;
  if (!rootUrl) {
    throw new UsageError("missing root URL of the queue", { hint: "set TASKCLUSTER_ROOT_URL or pass --root-url" });
  }
  if (!isHttpUrl(rootUrl)) {
    throw new UsageError(`invalid root URL ${JSON.stringify(rootUrl)}`, { hint: "pass an absolute http(s) URL" });
  }

  const clientId = options["client-id"] ?? env.TASKCLUSTER_CLIENT_ID;
  const accessToken = options["access-token"] ?? env.TASKCLUSTER_ACCESS_TOKEN;
  if (Boolean(clientId) !== Boolean(accessToken)) {
    throw new UsageError("a client id needs an access token and the other way round", {
      hint: "set both TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, or neither",
    });
  }
  return { rootUrl, credentials: clientId && accessToken ? { id: clientId, key: accessToken } : undefined };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Throws a UsageError for an option the command does not define, a missing value, or more
 * positional arguments than it takes.
 */
export function checkRawArgs(rawArgs: string[], argsDef: ArgsDef): void {
  const known = new Map<string, "boolean" | "string">();
  let positionalCount = 0;
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") {
      positionalCount++;
      continue;
    }
    const kind = def.type === "boolean" ? "boolean" : "string";
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const alias of [name, ...aliases]) known.set(alias, kind);
  }

  let positionals = 0;
  for (let index = 0; index < rawArgs.length; index++) {
    const token = rawArgs[index]!;
    if (token === "--") {
      positionals += rawArgs.length - index - 1;
      break;
    }
    if (token === "-" || !token.startsWith("-")) {
      positionals++;
      continue;
    }

    const [flag, inlineValue] = splitFlag(token);
    const kind = known.get(flag) ?? (flag.startsWith("no-") && known.get(flag.slice(3)) === "boolean" ? "boolean" : undefined);
    if (!kind) throw new UsageError(`unknown option ${token.split("=")[0]}`, { hint: "see --help for the options" });
    if (kind === "string" && inlineValue === undefined) {
      const next = rawArgs[index + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !isNegativeNumber(next))) {
        throw new UsageError(`option ${token} needs a value`, { hint: "see --help for its unit and default" });
      }
      index++;
    }
  }
  if (positionals > positionalCount) {
    throw new UsageError(`too many arguments (${positionals}; this command takes ${positionalCount})`, {
      hint: "quote names that contain spaces",
    });
  }
}

/** A value such as `-5`: the command's own check then names it as out of range. */
function isNegativeNumber(token: string): boolean {
  return /^-\d/.test(token);
}

function splitFlag(token: string): [string, string | undefined] {
  const body = token.replace(/^--?/, "");
  const equals = body.indexOf("=");
  return equals === -1 ? [body, undefined] : [body.slice(0, equals), body.slice(equals + 1)];
}
