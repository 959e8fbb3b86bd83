/**
 * The queue's SQLite schema as an ordered list of migrations. `PRAGMA user_version` holds the
 * number of migrations applied, so a data directory written by an older version is brought up
 * to date on open, each step in its own transaction.
 */
import type { Database } from "bun:sqlite";
import { InputFileError } from "../../shared/errors.ts";
import { checkNoForeignTables } from "../../shared/exclusive-database.ts";

const migrations: string[] = [
  `
  CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    task_queue_id TEXT NOT NULL,
    created TEXT NOT NULL,
    deadline TEXT NOT NULL,
    expires TEXT NOT NULL,
    definition TEXT NOT NULL
  );

  CREATE TABLE runs (
    task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    worker_group TEXT,
    worker_id TEXT,
    scheduled TEXT NOT NULL,
    started TEXT,
    resolved TEXT,
    PRIMARY KEY (task_id, run_id)
  );

  CREATE TABLE artifacts (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    object_key TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    content_encoding TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    content_length INTEGER NOT NULL,
    transfer_sha256 TEXT NOT NULL,
    transfer_length INTEGER NOT NULL,
    parts TEXT,
    upload_id TEXT,
    present INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (task_id, run_id, name),
    FOREIGN KEY (task_id, run_id) REFERENCES runs (task_id, run_id)
  );
  CREATE INDEX artifacts_by_expiry ON artifacts (expires_ms);
  CREATE INDEX artifacts_pending_uploads ON artifacts (created_ms) WHERE present = 0;

  CREATE TABLE events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );
  `,
];

export const schemaVersion = migrations.length;

/** Applies every migration newer than the database's `user_version`. */
export function migrate(db: Database, path: string): void {
  const { user_version: current } = db.query("PRAGMA user_version").get() as { user_version: number };
  if (current > migrations.length) {
    throw new InputFileError(`${path} has schema version ${current} but this program knows only ${migrations.length}`, {
      hint: "run a newer artifact",
    });
  }
  if (current === 0) checkNoForeignTables(db, path);

  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.run(migrations[version]!);
      db.run(`PRAGMA user_version = ${version + 1}`);
    })();
  }
}
