/**
 * Opens a SQLite database in WAL mode and holds its write lock until it is closed. The lock keeps
 * a second process off the same file, and it spares every transaction the file-lock calls and the
 * shared-memory index that sharing would need.
 */
import { Database } from "bun:sqlite";
import { UnavailableError } from "./errors.ts";

/** Throws UnavailableError (exit 69) with `inUse` and `hint` when another process holds the lock. */
export function openExclusiveDatabase(path: string, inUse: { message: string; hint: string }): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    // Set before WAL is first used, so SQLite keeps the WAL index in memory, not in a -shm file.
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("PRAGMA journal_mode = WAL");
    db.run("BEGIN EXCLUSIVE");
    db.run("COMMIT");
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    throw new UnavailableError(inUse.message, { hint: inUse.hint, cause: error });
  }
}
