import packageJson from "../../package.json" with { type: "json" };

/** Set by `bun build --define` in scripts/build.ts; absent when running from source. */
declare const ARTIFACT_BUILD_COMMIT: string | undefined;

export const version: string = packageJson.version;

export const buildCommit: string =
  typeof ARTIFACT_BUILD_COMMIT === "string" && ARTIFACT_BUILD_COMMIT ? ARTIFACT_BUILD_COMMIT : "unknown (run from source)";

/** The `--version` line: version and the git commit the binary was built from. */
export function versionLine(): string {
  return `artifact ${version} (commit ${buildCommit})`;
}
