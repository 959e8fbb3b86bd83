/**
 * The artifact name rule, shared by the queue (400 on its routes) and the client (exit 64 before
 * any request). A name is 1 to 1024 characters of printable ASCII (0x20-0x7e). Neither the whole
 * name nor any `/`-separated segment may be `.` or `..`, because URL resolution removes them and
 * the request would reach another route.
 */
import { UsageError } from "./errors.ts";

export const maxArtifactNameLength = 1024;

/** Returns the rule that `name` breaks, or undefined when it is a valid artifact name. */
export function artifactNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > maxArtifactNameLength) {
    return `artifact name is ${name.length} characters; it must be 1 to ${maxArtifactNameLength}`;
  }

  const bad = /[^\x20-\x7e]/.exec(name);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).padStart(2, "0").toUpperCase();
    return `artifact name contains U+${code} at index ${bad.index}; only printable ASCII (0x20-0x7e) is allowed`;
  }

  const dotSegment = name.split("/").find((segment) => segment === "." || segment === "..");
  if (dotSegment !== undefined) {
    return `artifact name ${JSON.stringify(name)} contains a "${dotSegment}" segment, which URL resolution removes; "." and ".." may not be the whole name or a part between slashes`;
  }
  return undefined;
}

/** S3's limit on an object key, in bytes. */
const maxObjectKeyBytes = 1024;

/**
 * Throws a UsageError (exit 64) when the object key `<taskId>/<runId>/<name>` is over S3's limit,
 * so an upload fails before it hashes the input. A queue that adds a prefix to its keys can still
 * reject a name this check lets through.
 */
export function checkObjectKeyLength(taskId: string, runId: number, name: string): void {
  const prefix = `${taskId}/${runId}/`;
  const bytes = prefix.length + name.length;
  if (bytes <= maxObjectKeyBytes) return;

  throw new UsageError(`artifact name of ${name.length} characters makes the object key ${prefix}... ${bytes} bytes, over S3's limit of ${maxObjectKeyBytes}`, {
    hint: `shorten the name to at most ${maxObjectKeyBytes - prefix.length} characters`,
  });
}

/** Throws a UsageError (exit 64) naming the broken rule unless `name` is a valid artifact name. */
export function checkArtifactName(name: string): void {
  const problem = artifactNameProblem(name);
  if (problem) throw new UsageError(problem, { hint: "rename the artifact" });
}
