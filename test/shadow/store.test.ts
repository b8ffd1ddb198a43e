import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openShadowStore } from '../../src/shadow/store.ts';
import { SCHEMA_VERSION } from '../../src/shadow/sqlite-schema.ts';
import { isShadowError, type ShadowError } from '../../src/shadow/errors.ts';
import { runShadowStoreContract } from './contract.ts';

function tempFile(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-shadow-'));
  return { dir, file: join(dir, 'data', 'shadow.db') };
}

runShadowStoreContract({
  name: 'sqlite file',
  durable: true,
  place() {
    const { dir, file } = tempFile();
    return { open: (o) => openShadowStore(file, o), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
});

runShadowStoreContract({
  name: 'sqlite file, synchronous full',
  durable: true,
  place() {
    const { dir, file } = tempFile();
    return {
      open: (o) => openShadowStore(file, { ...o, synchronous: 'full' }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

runShadowStoreContract({
  name: 'sqlite :memory:',
  durable: false,
  place: () => ({ open: (o) => openShadowStore(':memory:', o), cleanup: () => {} }),
});

test('sqlite: file layout: WAL, user_version, tables and rows', () => {
  const { dir, file } = tempFile();
  try {
    const s = openShadowStore(file, { now: () => 42 });
    s.report('dev', { t: { value: 1.5, ts: 9, quality: 'good' } });
    s.desire('dev', { sp: 2 });
    s.appendSync('topic/a', 'payload', 1);
    s.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const row = db.prepare('SELECT * FROM shadows').get();
      assert.deepEqual(row, {
        device: 'dev',
        report: '{"t":1.5}',
        desire: '{"sp":2}',
        report_version: 1,
        desire_version: 1,
        meta: '{"report":{"t":{"ts":9,"quality":"good"}},"desire":{"sp":{"ts":42}}}',
        updated_at: 42,
      });
      assert.deepEqual(db.prepare('SELECT * FROM outbox').all(), [
        { seq: 1, topic: 'topic/a', payload: Buffer.from('payload'), qos: 1, created_at: 42 },
      ]);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a database from a newer schema is refused with SchemaTooNew', () => {
  const { dir, file } = tempFile();
  try {
    openShadowStore(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openShadowStore(file), (e) => isShadowError(e) && e.code === 'SchemaTooNew');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: not a database -> Storage error naming the file', () => {
  const { dir } = tempFile();
  const file = join(dir, 'junk.db');
  writeFileSync(file, 'this is not an sqlite file, just text that is long enough to have a header'.repeat(10));
  try {
    assert.throws(
      () => openShadowStore(file),
      (e) => isShadowError(e) && e.code === 'Storage' && e.message.includes(file),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: database full -> clear Storage error, data served from memory, recovers after acks', async () => {
  const { dir, file } = tempFile();
  const errors: ShadowError[] = [];
  let recovered = 0;
  const s = openShadowStore(file, { batchMs: 5, maxDbBytes: 256 * 1024, onError: (e) => errors.push(e), onRecovered: () => recovered++ });
  try {
    s.report('a', { x: { value: 1, ts: 1, quality: 'good' } });
    s.flush();
    const big = Buffer.alloc(16 * 1024, 7);
    let failed: unknown;
    for (let i = 0; i < 64 && failed === undefined; i++) {
      s.append('t', big, 1);
      try {
        s.flush();
      } catch (e) {
        failed = e;
      }
    }
    assert.ok(isShadowError(failed) && failed.code === 'Storage', 'a flush failed with Storage');
    assert.equal((failed as ShadowError).detail?.sqlite, 'SQLITE_FULL');
    assert.equal(s.stats().persisting, false);
    assert.match(s.stats().lastError ?? '', /full/);
    // Live data keeps flowing in memory while nothing persists.
    s.report('a', { x: { value: 2, ts: 2, quality: 'good' } });
    assert.equal(s.get('a')?.report.x, 2);
    assert.throws(() => s.desire('a', { sp: 1 }), (e) => isShadowError(e) && e.code === 'Storage');
    assert.deepEqual(s.get('a')?.desire, {}, 'a desire that could not be stored is not kept');
    // The background batch reports the failure through onError.
    const deadline = Date.now() + 2000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(errors.length > 0 && errors[0]!.code === 'Storage');
    // The cloud drains the outbox: room again, the next batch writes everything that waited.
    const stored = s.peek(1000);
    assert.equal(recovered, 0);
    s.ackUpTo(stored.at(-1)!.seq);
    s.flush();
    assert.equal(s.stats().persisting, true);
    assert.equal(recovered, 1, 'onRecovered once the first batch after the failures is written');
    s.close();
    const again = openShadowStore(file);
    assert.equal(again.get('a')?.report.x, 2);
    assert.equal(again.peek(10).length, 1, 'the message that did not fit is written after the drain');
    again.close();
  } finally {
    try {
      s.close();
    } catch {
      // already failing: keep the first error
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a report that only refreshes timestamps is written at most once per tsRefreshMs', () => {
  const { dir, file } = tempFile();
  let now = 1_000_000;
  const s = openShadowStore(file, { batchMs: 1000, tsRefreshMs: 60_000, now: () => now });
  try {
    s.report('a', { x: { value: 1, ts: now, quality: 'good' } });
    s.flush();
    const flushes = s.stats().flushes;
    // The same value read again, ts newer: in memory at once, not written.
    now += 1000;
    s.report('a', { x: { value: 1, ts: now, quality: 'good' } });
    assert.equal(s.get('a')?.meta.report.x?.ts, now, 'memory has the newest ts');
    s.flush();
    assert.equal(s.stats().flushes, flushes, 'nothing to write for a ts-only report');
    // A changed quality is a change: written.
    now += 1000;
    s.report('a', { x: { value: 1, ts: now, quality: 'uncertain' } });
    s.flush();
    assert.equal(s.stats().flushes, flushes + 1);
    // After tsRefreshMs a ts-only report is written again.
    now += 60_000;
    s.report('a', { x: { value: 1, ts: now, quality: 'uncertain' } });
    s.flush();
    assert.equal(s.stats().flushes, flushes + 2);
    s.close();
    const again = openShadowStore(file);
    assert.equal(again.get('a')?.meta.report.x?.ts, now, 'the refreshed ts is on disk');
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
