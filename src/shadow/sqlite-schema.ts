/**
 * SQLite file layout of the shadow store and its migrations, versioned by `PRAGMA user_version`.
 * A database written by a newer fieldgate (higher version) is refused rather than guessed at.
 */
import type { Database } from 'better-sqlite3';
import { ShadowError } from './errors.ts';

/**
 * Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit a shipped one.
 *
 * - `shadows`: one row per sub-device; `report`/`desire`/`meta` are JSON (bigint tagged, see json.ts).
 *   The last-known value, timestamp and quality of every attribute live here (`report` + `meta`),
 *   so no separate last-values table is needed.
 * - `outbox`: messages for the cloud. AUTOINCREMENT so that a seq is never reused, even after the
 *   table has been drained empty: an ack for an old seq can never delete a newer message.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE shadows (
     device          TEXT PRIMARY KEY NOT NULL,
     report          TEXT NOT NULL,
     desire          TEXT NOT NULL,
     report_version  INTEGER NOT NULL,
     desire_version  INTEGER NOT NULL,
     meta            TEXT NOT NULL,
     updated_at      INTEGER NOT NULL
   );
   CREATE TABLE outbox (
     seq         INTEGER PRIMARY KEY AUTOINCREMENT,
     topic       TEXT NOT NULL,
     payload     BLOB NOT NULL,
     qos         INTEGER NOT NULL,
     created_at  INTEGER NOT NULL
   );`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Sets the connection up and brings the schema to {@link SCHEMA_VERSION}.
 *
 * `journal_mode=WAL` with `synchronous=NORMAL` (the default here): a commit appends to the WAL
 * without an fsync; the WAL is fsynced only at checkpoints.
 * - kill -9 (the process dies, the OS lives): nothing committed is lost. The WAL pages are in the
 *   OS page cache and the next open replays them. Only the batch not yet flushed (≤ batchMs of
 *   reports and appends, held in process memory) is lost.
 * - power loss or OS crash: the database stays consistent (never corrupt), but the transactions
 *   committed since the last WAL fsync may roll back, i.e. the last moments of batches.
 * `synchronous=FULL` fsyncs the WAL at every commit, so a power loss loses nothing committed, at the
 * cost of one fsync per batch. Writes that must not be lost (`desire`, `appendSync`) switch to FULL
 * for their own commit whatever the setting.
 */
export function setUp(db: Database, synchronous: 'normal' | 'full'): void {
  db.pragma('journal_mode = WAL'); // ":memory:" answers "memory"; fine, it has no file to protect
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new ShadowError(
      'SchemaTooNew',
      `shadow database schema version ${version} is newer than this fieldgate understands (${SCHEMA_VERSION})`,
      { detail: { version, supported: SCHEMA_VERSION } },
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
