/**
 * Reads the outbox rows of a gateway's SQLite file while the gateway is not running (after a
 * SIGKILL): what it had stored and not yet had acknowledged. Opened read-only and closed before the
 * gateway starts again.
 */
import Database from 'better-sqlite3';

/** One stored outbox row, by its stream position. */
export interface StoredRow {
  readonly device: string;
  readonly epoch: number;
  readonly seq: number;
  readonly payload: string;
}

export function readOutbox(file: string): StoredRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT topic, payload FROM outbox ORDER BY seq').all() as { topic: string; payload: Buffer }[];
    const out: StoredRow[] = [];
    for (const r of rows) {
      const m = /^fieldgate\/[^/]+\/shadow\/([^/]+)\//.exec(r.topic);
      if (m === null) continue;
      const text = Buffer.from(r.payload).toString('utf8');
      const c = (JSON.parse(text) as { content: { epoch: number; seq: number } }).content;
      out.push({ device: m[1]!, epoch: c.epoch, seq: c.seq, payload: text });
    }
    return out;
  } finally {
    db.close();
  }
}
