/**
 * The durable cloud outbox on SQLite: messages wait here, in seq order, until the cloud link has
 * its PUBACK. Appends are queued in memory and inserted by the store's batch transaction (so they
 * cost one row insert in a shared commit, not a commit each); acks delete at once.
 *
 * The bound counts rows. `oldest` deletes the oldest rows in the same transaction that made the
 * outbox too long; `newest` refuses the message being appended. The latest shadow state is never
 * at risk from either: it lives in the `shadows` table, and the sync layer can always re-send it.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DropPolicy, OutboxEntry, Qos } from './store-api.ts';

interface Row {
  seq: number;
  topic: string;
  payload: Buffer;
  qos: number;
  created_at: number;
}

/** What one batch wrote; applied to the counters only once the transaction has committed. */
export interface OutboxWrite {
  readonly inserted: number;
  readonly droppedRows: number;
  readonly lastSeq: number | undefined;
}

/** The outbox half of the SQLite store; used by store.ts only. */
export class SqliteOutbox {
  private pending: OutboxEntry[] = [];
  private dbCount: number;
  private nextSeq: number;
  private lastSeqOnDisk: number | undefined;
  appended = 0;
  acked = 0;
  dropped = 0;
  private readonly insert: Statement<[number, string, Buffer, number, number]>;
  private readonly dropOldest: Statement<[number]>;
  private readonly select: Statement<[number, number], Row>;
  private readonly deleteOne: Statement<[number]>;
  private readonly deleteUpTo: Statement<[number]>;

  constructor(
    db: Database,
    private readonly max: number,
    private readonly policy: DropPolicy,
    private readonly now: () => number,
  ) {
    this.dbCount = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    // sqlite_sequence keeps the highest seq ever handed out, even once the table is empty.
    const last = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    this.lastSeqOnDisk = last?.seq;
    this.nextSeq = (last?.seq ?? 0) + 1;
    this.insert = db.prepare('INSERT INTO outbox (seq, topic, payload, qos, created_at) VALUES (?, ?, ?, ?, ?)');
    this.dropOldest = db.prepare('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)');
    this.select = db.prepare<[number, number], Row>(
      'SELECT seq, topic, payload, qos, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.deleteOne = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.deleteUpTo = db.prepare('DELETE FROM outbox WHERE seq <= ?');
  }

  /** Rows waiting for an ack: on disk plus pending. */
  get size(): number {
    return this.dbCount + this.pending.length;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Queues a message; returns its seq or `undefined` if the bound refused it (`newest`). */
  append(topic: string, payload: string | Uint8Array, qos: Qos): number | undefined {
    if (this.policy === 'newest' && this.size >= this.max) {
      this.dropped++;
      return undefined;
    }
    const seq = this.nextSeq++;
    const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
    this.pending.push({ seq, topic, payload: buf, qos, createdAt: this.now() });
    this.appended++;
    // Only reachable while batches keep failing (disk full): bound the memory too.
    if (this.policy === 'oldest' && this.pending.length > this.max) {
      this.pending.shift();
      this.dropped++;
    }
    return seq;
  }

  /** Inserts the pending rows and applies the bound. Call inside the batch transaction. */
  write(): OutboxWrite {
    for (const p of this.pending) this.insert.run(p.seq, p.topic, p.payload, p.qos, p.createdAt);
    let droppedRows = 0;
    const excess = this.dbCount + this.pending.length - this.max;
    if (this.policy === 'oldest' && excess > 0) droppedRows = this.dropOldest.run(excess).changes;
    const last = this.pending.at(-1);
    return { inserted: this.pending.length, droppedRows, lastSeq: last?.seq ?? this.lastSeqOnDisk };
  }

  /** Call after the transaction that ran {@link write} has committed. */
  committed(w: OutboxWrite): void {
    this.dbCount += w.inserted - w.droppedRows;
    this.dropped += w.droppedRows;
    this.lastSeqOnDisk = w.lastSeq;
    this.pending = [];
  }

  get lastSeq(): number | undefined {
    return this.lastSeqOnDisk;
  }

  peek(n: number, afterSeq: number): OutboxEntry[] {
    if (n <= 0) return [];
    return this.select.all(afterSeq, n).map((r) => ({
      seq: r.seq,
      topic: r.topic,
      payload: r.payload,
      qos: r.qos as Qos,
      createdAt: r.created_at,
    }));
  }

  ack(seq: number): boolean {
    const first = this.pending[0];
    if (first !== undefined && seq >= first.seq) {
      const i = this.pending.findIndex((p) => p.seq === seq);
      if (i < 0) return false;
      this.pending.splice(i, 1);
      this.acked++;
      return true;
    }
    const n = this.deleteOne.run(seq).changes;
    this.dbCount -= n;
    this.acked += n;
    return n > 0;
  }

  ackUpTo(seq: number): number {
    let n = this.deleteUpTo.run(seq).changes;
    this.dbCount -= n;
    const keep = this.pending.filter((p) => p.seq > seq);
    n += this.pending.length - keep.length;
    this.pending = keep;
    this.acked += n;
    return n;
  }
}
