/**
 * Small objects: record and data in one row of a SQLite database, `<store>/objects.sqlite`, in
 * place of a file each. A new file costs an inode, an fsync of the file and one of its folder.
 * On the ext4 disk of the test machine, that was most of the store's CPU time for 64-byte bodies.
 * A row costs a page of the write-ahead log, and one fsync of the log, shared by all PUTs in
 * flight, makes every row committed before it durable.
 *
 * Commits do not sync (synchronous = NORMAL); `put` and `remove` sync the log themselves before
 * they resolve, and SQLite syncs it before each checkpoint copies it into the database.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fsync, openSync } from "node:fs";
import { InputFileError } from "../shared/errors.ts";
import { checkNoForeignTables, openExclusiveDatabase } from "../shared/exclusive-database.ts";
import { GroupSync } from "../shared/group-sync.ts";
import type { ObjectRecord } from "./object-file.ts";

/** Largest object kept in a row. A row's body is held in memory while it is received, so this caps that memory per PUT. */
export const inlineMaxBytes = 64 * 1024;

const schemaVersion = 1;

export interface InlineObject {
  record: ObjectRecord;
  data: Uint8Array;
}

export class InlineObjects {
  private readonly db: Database;
  private readonly logSync: GroupSync;
  private logFd: number | undefined;

  constructor(private readonly path: string) {
    // Two processes serving one store folder would remove each other's bodies in flight.
    this.db = openExclusiveDatabase(path, {
      message: `${path} is in use by another artifact process`,
      hint: "stop that process, or give this one another --data-dir",
    });
    this.db.run("PRAGMA synchronous = NORMAL");
    migrate(this.db, path);
    this.logSync = new GroupSync(() => this.syncLog());
  }

  /** Stores the object, replacing any row of the same key; resolves once the row is durable. */
  async put(bucket: string, record: ObjectRecord, data: Uint8Array): Promise<void> {
    this.db
      .query("INSERT INTO objects (bucket, key, record, data) VALUES (?, ?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET record = excluded.record, data = excluded.data")
      .run(bucket, record.key, JSON.stringify(record), data);
    await this.logSync.request();
  }

  /** Removes the object's row, if any; resolves once the removal is durable. */
  async remove(bucket: string, key: string): Promise<boolean> {
    const { changes } = this.db.query("DELETE FROM objects WHERE bucket = ? AND key = ?").run(bucket, key);
    if (changes === 0) return false;
    await this.logSync.request();
    return true;
  }

  /** Removes every row of a deleted bucket; resolves once the removal is durable. */
  async removeBucket(bucket: string): Promise<void> {
    const { changes } = this.db.query("DELETE FROM objects WHERE bucket = ?").run(bucket);
    if (changes > 0) await this.logSync.request();
  }

  record(bucket: string, key: string): ObjectRecord | undefined {
    const row = this.db.query<{ record: string }, [string, string]>("SELECT record FROM objects WHERE bucket = ? AND key = ?").get(bucket, key);
    return row ? (JSON.parse(row.record) as ObjectRecord) : undefined;
  }

  get(bucket: string, key: string): InlineObject | undefined {
    const row = this.db
      .query<{ record: string; data: Uint8Array }, [string, string]>("SELECT record, data FROM objects WHERE bucket = ? AND key = ?")
      .get(bucket, key);
    return row ? { record: JSON.parse(row.record) as ObjectRecord, data: row.data } : undefined;
  }

  records(bucket: string): ObjectRecord[] {
    const rows = this.db.query<{ record: string }, [string]>("SELECT record FROM objects WHERE bucket = ?").all(bucket);
    return rows.map((row) => JSON.parse(row.record) as ObjectRecord);
  }

  /** Returns the bucket and key of every row. */
  keys(): Array<{ bucket: string; key: string }> {
    return this.db.query<{ bucket: string; key: string }, []>("SELECT bucket, key FROM objects").all();
  }

  count(bucket: string): number {
    return this.db.query<{ count: number }, [string]>("SELECT count(*) AS count FROM objects WHERE bucket = ?").get(bucket)!.count;
  }

  close(): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
    this.db.close();
  }

  /**
   * Fsyncs the write-ahead log through a descriptor of our own, on the thread pool: a sync on the
   * event loop would hold every request behind the disk. The log exists once a commit wrote to it,
   * and SQLite reuses the file rather than replace it while the database is open.
   */
  private syncLog(): Promise<void> {
    this.logFd ??= openSync(`${this.path}-wal`, "r");
    const fd = this.logFd;
    return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  }
}

function migrate(db: Database, path: string): void {
  const { user_version: version } = db.query<{ user_version: number }, []>("PRAGMA user_version").get()!;
  if (version === schemaVersion) return;
  if (version > schemaVersion) {
    throw new InputFileError(`${path} has schema version ${version} but this program knows only ${schemaVersion}`, {
      hint: "run a newer artifact",
    });
  }
  if (version === 0) checkNoForeignTables(db, path);

  db.transaction(() => {
    db.run(`CREATE TABLE objects (
      bucket TEXT NOT NULL,
      key TEXT NOT NULL,
      record TEXT NOT NULL,
      data BLOB NOT NULL,
      PRIMARY KEY (bucket, key)
    )`);
    db.run(`PRAGMA user_version = ${schemaVersion}`);
  })();
}
