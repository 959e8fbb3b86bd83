/** The event log: messages such as artifact-created, numbered in the order they were written. */
import type { Database } from "bun:sqlite";

export interface EventRow {
  sequence: number;
  kind: string;
  payload: string;
}

export class EventTable {
  private readonly insertOne;
  private readonly selectAfter;

  constructor(db: Database) {
    this.insertOne = db.query(`INSERT INTO events (kind, payload, created_ms) VALUES (?, ?, ?)`);
    this.selectAfter = db.query<EventRow, [number, number]>(
      `SELECT sequence, kind, payload FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?`,
    );
  }

  append(kind: string, payload: unknown, nowMs: number): number {
    return Number(this.insertOne.run(kind, JSON.stringify(payload), nowMs).lastInsertRowid);
  }

  /** Returns up to `limit` events written after sequence number `after`. */
  after(after: number, limit: number): EventRow[] {
    return this.selectAfter.all(after, limit);
  }
}
