/** Opens the queue's SQLite database, held exclusively, and brings its schema up to date. */
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openExclusiveDatabase } from "../../shared/exclusive-database.ts";
import { migrate } from "./migrations.ts";

export function openDatabase(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "queue.sqlite");
  const db = openExclusiveDatabase(path, {
    message: `${path} is in use by another artifact serve`,
    hint: "stop that server, or give this one another --data-dir",
  });

  // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  migrate(db, path);
  return db;
}
