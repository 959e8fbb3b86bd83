/**
 * Opens the queue's SQLite database in WAL mode, holding it exclusively, and brings its schema up
 * to date. The exclusive lock keeps a second `artifact serve` off the same data directory, and it
 * spares every transaction the file-lock calls and shared-memory index that sharing would need.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "../../shared/errors.ts";
import { migrate } from "./migrations.ts";

export function openDatabase(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "queue.sqlite");
  const db = new Database(path, { create: true, strict: true });

  try {
    lockExclusively(db);
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    throw new UnavailableError(`${path} is in use by another artifact serve`, {
      hint: "stop that server, or give this one another --data-dir",
      cause: error,
    });
  }

  // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

/** Takes the write lock now and keeps it until the database is closed. */
function lockExclusively(db: Database): void {
  // Set before WAL is first used, so SQLite keeps the WAL index in memory, not in a -shm file.
  db.run("PRAGMA locking_mode = EXCLUSIVE");
  db.run("PRAGMA journal_mode = WAL");
  db.run("BEGIN EXCLUSIVE");
  db.run("COMMIT");
}
