/** Snapshots of a directory tree (path, size, mtime), to prove that nothing was written outside a folder. */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export type FileTree = Map<string, string>;

export function snapshotTree(root: string): FileTree {
  const tree: FileTree = new Map();
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      const stats = statSync(path, { throwIfNoEntry: false });
      if (!stats) continue;
      tree.set(relative(root, path), `${entry.isDirectory() ? "dir" : stats.size} ${stats.mtimeMs}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return tree;
}

/** Paths added, removed or changed between two snapshots. */
export function changedPaths(before: FileTree, after: FileTree): string[] {
  const changed = new Set<string>();
  for (const [path, value] of after) if (before.get(path) !== value) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}
