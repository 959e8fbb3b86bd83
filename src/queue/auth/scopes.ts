/**
 * Scope matching as Taskcluster defines it: a scope the client holds satisfies a required scope
 * when they are equal, or when the held scope ends in `*` and the required one starts with the
 * rest. A `*` anywhere else is an ordinary character.
 */

export function scopeSatisfies(held: string, required: string): boolean {
  if (held === required) return true;
  return held.endsWith("*") && required.startsWith(held.slice(0, -1));
}

export function hasScope(heldScopes: readonly string[], required: string): boolean {
  return heldScopes.some((held) => scopeSatisfies(held, required));
}
