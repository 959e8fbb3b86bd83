/**
 * A deliberate crash before any command runs, for checking that a release binary still prints a
 * stack trace that names the original source file, line and function. Set
 * ARTIFACT_DEBUG_PANIC=1 to trigger it; it is not a public option.
 */
export function panicIfRequested(env: NodeJS.ProcessEnv = process.env): void {
  if (env.ARTIFACT_DEBUG_PANIC === "1") throwDeliberateStartupPanic();
}

function throwDeliberateStartupPanic(): never {
  throw new Error("deliberate startup panic (ARTIFACT_DEBUG_PANIC=1)");
}
