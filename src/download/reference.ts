/**
 * The artifact a command names, in one of three forms: a run (`TASKID RUNID NAME`), the latest
 * run (`--latest TASKID NAME`), or a queue URL (`--url URL`, for example one with a bewit).
 */
import type { ArtifactLocation } from "../client/location.ts";
import type { QueueClient } from "../client/queue-client.ts";
import { UsageError } from "../shared/errors.ts";

export type ArtifactReference =
  | { kind: "run"; taskId: string; runId: number; name: string }
  | { kind: "latest"; taskId: string; name: string }
  | { kind: "url"; url: URL; name: string };

export interface ReferenceOptions {
  latest?: boolean;
  url?: string;
}

/** Reads the reference from the positional arguments; `extra` names trailing ones the command takes, such as FILE. */
export function parseReference(positionals: string[], options: ReferenceOptions, extra: string[] = []): { reference: ArtifactReference; rest: string[] } {
  if (options.latest && options.url !== undefined) throw new UsageError("--latest and --url exclude each other", { hint: "pass one of them" });

  const { form, forms } = formOf(options);
  const expected = [...forms, ...extra];
  if (positionals.length !== expected.length) {
    throw new UsageError(`expected ${expected.join(" ") || "no arguments"} for ${form}, got ${positionals.length} arguments`, {
      hint: "see --help for the three forms",
    });
  }
  const rest = positionals.slice(forms.length);

  if (options.url !== undefined) return { reference: urlReference(options.url), rest };
  if (options.latest) return { reference: { kind: "latest", taskId: checkTaskId(positionals[0]!), name: checkName(positionals[1]!) }, rest };
  return {
    reference: { kind: "run", taskId: checkTaskId(positionals[0]!), runId: parseRunId(positionals[1]!), name: checkName(positionals[2]!) },
    rest,
  };
}

function formOf(options: ReferenceOptions): { form: string; forms: string[] } {
  if (options.url !== undefined) return { form: "--url URL", forms: [] };
  if (options.latest) return { form: "--latest", forms: ["TASKID", "NAME"] };
  return { form: "a run", forms: ["TASKID", "RUNID", "NAME"] };
}

/** Returns the function that requests from the queue for the artifact's record and presigned URL. */
export function locatorFor(queue: QueueClient, reference: ArtifactReference): () => Promise<ArtifactLocation> {
  switch (reference.kind) {
    case "run":
      return () => queue.artifactLocation(reference.taskId, reference.runId, reference.name);
    case "latest":
      return () => queue.artifactLocation(reference.taskId, "latest", reference.name);
    case "url":
      return () => queue.artifactLocationOfUrl(reference.url);
  }
}

function urlReference(text: string): ArtifactReference {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid --url ${JSON.stringify(text)}`, { hint: "pass the artifact's full queue URL" });
  }
  const match = /\/artifacts\/(.+)$/.exec(url.pathname);
  if (!match || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`--url ${url.origin}${url.pathname} is not an artifact URL of the queue`, {
      hint: "expected .../api/queue/v1/task/<taskId>/runs/<runId>/artifacts/<name>",
    });
  }
  return { kind: "url", url, name: decodeURIComponent(match[1]!) };
}

function checkTaskId(taskId: string): string {
  if (!/^[A-Za-z0-9_-]{22}$/.test(taskId)) {
    throw new UsageError(`invalid taskId ${JSON.stringify(taskId)}`, { hint: "a taskId is 22 characters of URL-safe base64" });
  }
  return taskId;
}

function parseRunId(text: string): number {
  if (!/^\d{1,4}$/.test(text)) throw new UsageError(`invalid runId ${JSON.stringify(text)}`, { hint: "a runId is a number such as 0" });
  return Number(text);
}

function checkName(name: string): string {
  if (name.length === 0) throw new UsageError("missing artifact name", { hint: "for example public/build.tar.gz" });
  return name;
}
