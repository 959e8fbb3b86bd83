/**
 * Opens a SQLite database in WAL mode and holds its write lock until it is closed. The lock keeps
 * a second process off the same file, and it spares every transaction the file-lock calls and the
 * shared-memory index that sharing would need.
 */
import { Database } from "bun:sqlite";
import { InputFileError, UnavailableError } from "./errors.ts";

/**
 * Attempts at the lock. Two processes that start together both take a shared lock on the way to
 * the exclusive one, so both fail, and each must let go and try again for one of them to win.
 */
const lockAttempts = 10;

/**
 * Throws UnavailableError (exit 69) with `inUse` when another process holds the lock, and
 * InputFileError (exit 66) when the file is not a SQLite database.
 */
export function openExclusiveDatabase(path: string, inUse: { message: string; hint: string }): Database {
  for (let attempt = 1; ; attempt++) {
    try {
      return openLocked(path);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code === "SQLITE_CANTOPEN") throw notADatabase(path, error);
      if (code !== "SQLITE_BUSY") throw error;
      if (attempt === lockAttempts) throw new UnavailableError(inUse.message, { hint: inUse.hint, cause: error });
      // A random pause, so that two processes retrying together do not collide again.
      Bun.sleepSync(50 + Math.random() * 100);
    }
  }
}

/**
 * Throws InputFileError when a database without a schema version already has tables: another
 * program wrote it, and migrating it would fail or mix the two.
 */
export function checkNoForeignTables(db: Database, path: string): void {
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  if (tables.length === 0) return;
  throw new InputFileError(`${path} has tables (${tables.map((table) => table.name).join(", ")}) but no schema version of artifact`, {
    hint: "give artifact another --data-dir, since another program wrote this file",
  });
}

function openLocked(path: string): Database {
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
    throw error;
  }
}

function notADatabase(path: string, cause: unknown): InputFileError {
  return new InputFileError(`${path} is not a valid SQLite database (${(cause as Error).message})`, {
    hint: `restore it from a backup, or move it and ${path}-wal away to start without what it contained`,
    cause,
  });
}
