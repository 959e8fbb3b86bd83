/** Opens the queue's SQLite database in WAL mode and brings its schema up to date. */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { migrate } from "./migrations.ts";

export function openDatabase(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "queue.sqlite"), { create: true, strict: true });

  db.run("PRAGMA journal_mode = WAL");
  // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  db.run("PRAGMA busy_timeout = 5000");

  migrate(db);
  return db;
}
