/**
 * The SQLite shadow store (better-sqlite3, WAL): all shadows live in memory and are written in
 * batched transactions, so a report costs a merge and a Set insert, and 100,000 property updates
 * per second become a few commits per second. Desired values and `appendSync` are written before
 * the call returns. See store-api.ts for the contract and sqlite-schema.ts for what a crash can lose.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { ShadowError, isShadowError } from './errors.ts';
import { decodeJson, encodeJson, type ShadowDoc } from './json.ts';
import { setUp } from './sqlite-schema.ts';
import { SqliteOutbox, type OutboxWrite } from './sqlite-outbox.ts';
import {
  applyDesire,
  clearDesired,
  delta,
  emptyShadow,
  mergeReportInPlace,
  shadowAnswer,
  type DesireOutcome,
  type PropertyUpdate,
  type ReportOutcome,
  type Shadow,
  type ShadowAnswer,
} from './state.ts';
import type { FlushInfo, OutboxEntry, Qos, ShadowStore, ShadowStoreOptions, ShadowStoreStats } from './store-api.ts';

const DEFAULT_BATCH_MS = 50;
/** See ShadowStoreOptions.tsRefreshMs. */
const DEFAULT_TS_REFRESH_MS = 60_000;
const DEFAULT_OUTBOX_MAX = 1_000_000;
/** Longest pause between retries of a failing background batch. */
const MAX_RETRY_MS = 5_000;

/**
 * Opens (creating if needed, with its folder) the shadow database at `file`; `:memory:` for a
 * throwaway one. Loads every shadow into memory.
 * @throws ShadowError `Storage` (cannot open or read), `SchemaTooNew`.
 */
export function openShadowStore(file: string, opts: ShadowStoreOptions = {}): ShadowStore {
  return new SqliteShadowStore(file, opts);
}

interface ShadowRow {
  device: string;
  report: string;
  desire: string;
  report_version: number;
  desire_version: number;
  meta: string;
}

function storageError(e: unknown, what: string): ShadowError {
  if (isShadowError(e)) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new ShadowError('Storage', `${what}: ${msg}`, {
    cause: e,
    detail: typeof code === 'string' ? { sqlite: code } : undefined,
  });
}

class SqliteShadowStore implements ShadowStore {
  private readonly db: Database.Database;
  private readonly outbox: SqliteOutbox;
  private readonly shadows = new Map<string, Shadow>();
  private readonly dirty = new Set<string>();
  /** When each device's row was last written (for `tsRefreshMs`). */
  private readonly writtenAt = new Map<string, number>();
  private readonly tsRefreshMs: number;
  private readonly listeners = new Set<(info: FlushInfo) => void>();
  private readonly upsert: Statement<[string, string, string, number, number, string, number]>;
  private readonly deleteShadow: Statement<[string]>;
  private readonly batchMs: number;
  private readonly synchronous: 'normal' | 'full';
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private updates = 0;
  private flushes = 0;
  private lastFlushMs = 0;
  private maxFlushMs = 0;
  private lastError: string | undefined;

  constructor(
    file: string,
    private readonly opts: ShadowStoreOptions,
  ) {
    this.batchMs = opts.batchMs ?? DEFAULT_BATCH_MS;
    this.synchronous = opts.synchronous ?? 'normal';
    this.now = opts.now ?? Date.now;
    this.tsRefreshMs = opts.tsRefreshMs ?? DEFAULT_TS_REFRESH_MS;
    try {
      if (file !== ':memory:' && file !== '') mkdirSync(dirname(file), { recursive: true });
      this.db = new Database(file);
    } catch (e) {
      throw storageError(e, `cannot open shadow database ${file}`);
    }
    try {
      setUp(this.db, this.synchronous);
      if (opts.maxDbBytes !== undefined) {
        const pageSize = this.db.pragma('page_size', { simple: true }) as number;
        this.db.pragma(`max_page_count = ${Math.max(1, Math.ceil(opts.maxDbBytes / pageSize))}`);
      }
      const rows = this.db
        .prepare('SELECT device, report, desire, report_version, desire_version, meta FROM shadows')
        .all() as ShadowRow[];
      for (const r of rows) {
        this.shadows.set(r.device, {
          name: r.device,
          report: decodeJson(r.report) as ShadowDoc,
          desire: decodeJson(r.desire) as ShadowDoc,
          reportVersion: r.report_version,
          desireVersion: r.desire_version,
          meta: decodeJson(r.meta) as Shadow['meta'],
        });
      }
      this.outbox = new SqliteOutbox(this.db, opts.outboxMax ?? DEFAULT_OUTBOX_MAX, opts.dropPolicy ?? 'oldest', this.now);
      this.upsert = this.db.prepare(
        `INSERT INTO shadows (device, report, desire, report_version, desire_version, meta, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device) DO UPDATE SET report = excluded.report, desire = excluded.desire,
           report_version = excluded.report_version, desire_version = excluded.desire_version,
           meta = excluded.meta, updated_at = excluded.updated_at`,
      );
      this.deleteShadow = this.db.prepare('DELETE FROM shadows WHERE device = ?');
    } catch (e) {
      this.db.close();
      throw storageError(e, `cannot read shadow database ${file}`);
    }
  }

  report(device: string, props: Readonly<Record<string, PropertyUpdate>>): ReportOutcome {
    this.assertOpen();
    // The store's shadows are its own: merge in place (no copy of the maps per sample). A shadow
    // that was handed out by get() and is still held by a caller sees the change (documented).
    let shadow = this.shadows.get(device);
    if (shadow === undefined) {
      shadow = emptyShadow(device);
      this.shadows.set(device, shadow);
    }
    const out = mergeReportInPlace(shadow, props);
    for (const _ in props) this.updates++;
    // Only timestamps moved: the row waits until a value changes or `tsRefreshMs` has passed.
    if (out.touched && (out.changed.length > 0 || this.now() - (this.writtenAt.get(device) ?? -Infinity) >= this.tsRefreshMs)) {
      this.dirty.add(device);
      this.schedule();
    }
    return { shadow, changed: out.changed, touched: out.touched };
  }

  get(device: string): Shadow | undefined {
    return this.shadows.get(device);
  }

  devices(): string[] {
    return [...this.shadows.keys()].sort();
  }

  desire(device: string, patch: unknown, version?: number): DesireOutcome {
    this.assertOpen();
    const prev = this.shadows.get(device);
    const out = applyDesire(prev ?? emptyShadow(device), patch, { version, ts: this.now() });
    if (out.changed) this.replaceDurably(device, prev, out.shadow);
    return out;
  }

  clearDesired(device: string, keys: readonly string[] | ShadowDoc): DesireOutcome {
    this.assertOpen();
    const prev = this.shadows.get(device);
    if (prev === undefined) return { shadow: emptyShadow(device), changed: false };
    const out = clearDesired(prev, keys);
    if (out.changed) this.replaceDurably(device, prev, out.shadow);
    return out;
  }

  delta(device: string): ShadowDoc {
    const s = this.shadows.get(device);
    return s === undefined ? {} : delta(s);
  }

  shadowAnswer(device: string): ShadowAnswer {
    return shadowAnswer(this.shadows.get(device) ?? emptyShadow(device));
  }

  remove(device: string): boolean {
    this.assertOpen();
    const prev = this.shadows.get(device);
    if (prev === undefined) return false;
    const wasDirty = this.dirty.delete(device);
    this.shadows.delete(device);
    try {
      this.commit(true, () => this.deleteShadow.run(device));
    } catch (e) {
      this.shadows.set(device, prev);
      if (wasDirty) this.dirty.add(device);
      throw e;
    }
    this.writtenAt.delete(device);
    return true;
  }

  append(topic: string, payload: string | Uint8Array, qos: Qos): number | undefined {
    this.assertOpen();
    const seq = this.outbox.append(topic, payload, qos);
    if (seq !== undefined) this.schedule();
    return seq;
  }

  appendSync(topic: string, payload: string | Uint8Array, qos: Qos): number | undefined {
    this.assertOpen();
    const seq = this.outbox.append(topic, payload, qos);
    // On failure the message stays queued in memory and a later batch retries it.
    if (seq !== undefined) this.commit(true);
    return seq;
  }

  peek(n: number, afterSeq = 0): OutboxEntry[] {
    this.assertOpen();
    return this.guard(() => this.outbox.peek(n, afterSeq), 'cannot read the outbox');
  }

  ack(seq: number): boolean {
    this.assertOpen();
    return this.guard(() => this.outbox.ack(seq), 'cannot delete from the outbox');
  }

  ackUpTo(seq: number): number {
    this.assertOpen();
    return this.guard(() => this.outbox.ackUpTo(seq), 'cannot delete from the outbox');
  }

  flush(): FlushInfo {
    this.assertOpen();
    return this.commit(false);
  }

  onFlush(listener: (info: FlushInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): ShadowStoreStats {
    return {
      devices: this.shadows.size,
      dirty: this.dirty.size,
      updates: this.updates,
      flushes: this.flushes,
      lastFlushMs: this.lastFlushMs,
      maxFlushMs: this.maxFlushMs,
      persisting: this.lastError === undefined,
      lastError: this.lastError,
      outbox: {
        size: this.outbox.size,
        pending: this.outbox.pendingCount,
        appended: this.outbox.appended,
        acked: this.outbox.acked,
        dropped: this.outbox.dropped,
      },
    };
  }

  close(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.commit(false);
    } finally {
      this.closed = true;
      if (this.timer !== undefined) clearTimeout(this.timer); // a failed last flush schedules a retry
      this.timer = undefined;
      this.db.close();
    }
  }

  /** Puts `next` in place and writes it (fsynced) before returning; on failure puts `prev` back. */
  private replaceDurably(device: string, prev: Shadow | undefined, next: Shadow): void {
    const wasDirty = this.dirty.has(device);
    this.shadows.set(device, next);
    this.dirty.add(device);
    try {
      this.commit(true);
    } catch (e) {
      if (prev === undefined) this.shadows.delete(device);
      else this.shadows.set(device, prev);
      if (!wasDirty) this.dirty.delete(device);
      throw e;
    }
  }

  /**
   * Writes every dirty shadow and pending outbox row in one transaction. `durable` forces an fsync
   * of this commit (synchronous=FULL for it alone; the pragma cannot change inside a transaction).
   */
  private commit(durable: boolean, extra?: () => void): FlushInfo {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const devices = [...this.dirty];
    if (devices.length === 0 && this.outbox.pendingCount === 0 && extra === undefined) {
      return { shadows: [], outboxRows: 0, lastSeq: this.outbox.lastSeq, durationMs: 0 };
    }
    const t0 = performance.now();
    const updatedAt = this.now();
    const written: { device: string; reportVersion: number; desireVersion: number }[] = [];
    let w: OutboxWrite | undefined;
    const tx = this.db.transaction(() => {
      for (const device of devices) {
        const s = this.shadows.get(device);
        if (s === undefined) continue;
        this.upsert.run(device, encodeJson(s.report), encodeJson(s.desire), s.reportVersion, s.desireVersion, encodeJson(s.meta), updatedAt);
        written.push({ device, reportVersion: s.reportVersion, desireVersion: s.desireVersion });
      }
      w = this.outbox.write();
      extra?.();
    });
    const switchSync = durable && this.synchronous !== 'full';
    try {
      if (switchSync) this.db.pragma('synchronous = FULL');
      tx();
    } catch (e) {
      const err = storageError(e, 'cannot write the shadow database');
      this.lastError = err.message;
      this.failures++;
      this.retryLater();
      throw err;
    } finally {
      if (switchSync) this.db.pragma('synchronous = NORMAL');
    }
    if (w !== undefined) this.outbox.committed(w);
    // Only what was written is clean: nothing can run between the commit and here (synchronous).
    for (const device of devices) {
      this.dirty.delete(device);
      this.writtenAt.set(device, updatedAt);
    }
    if (this.lastError !== undefined) this.opts.onRecovered?.();
    this.lastError = undefined;
    this.failures = 0;
    const durationMs = performance.now() - t0;
    this.flushes++;
    this.lastFlushMs = durationMs;
    if (durationMs > this.maxFlushMs) this.maxFlushMs = durationMs;
    const info: FlushInfo = { shadows: written, outboxRows: w?.inserted ?? 0, lastSeq: this.outbox.lastSeq, durationMs };
    for (const l of this.listeners) {
      try {
        l(info);
      } catch (e) {
        // A listener's bug must not look like a storage failure; surface it on its own.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    return info;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => this.backgroundFlush(), this.batchMs);
  }

  private backgroundFlush(): void {
    this.timer = undefined;
    if (this.closed) return;
    try {
      this.commit(false);
    } catch (e) {
      // commit() has already scheduled the retry; everything stays in memory until then.
      this.opts.onError?.(storageError(e, 'background flush failed'));
    }
  }

  /** After a failed commit: try again later, backing off so that a full disk is not hammered. */
  private retryLater(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const delay = Math.min(MAX_RETRY_MS, Math.max(1, this.batchMs) * 2 ** Math.min(this.failures, 16));
    this.timer = setTimeout(() => this.backgroundFlush(), delay);
  }

  private guard<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ShadowError('Closed', 'the shadow store is closed');
  }
}
