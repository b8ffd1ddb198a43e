/**
 * The ShadowStore contract: one suite that every implementation must pass (SQLite now, node:sqlite
 * later). A target makes a fresh, empty backing place per test; `durable` targets can be reopened
 * after `close()` and must come back with the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isShadowError } from '../../src/shadow/errors.ts';
import type { PropertyUpdate } from '../../src/shadow/state.ts';
import type { FlushInfo, ShadowStore, ShadowStoreOptions } from '../../src/shadow/store-api.ts';

export interface ContractPlace {
  open(opts?: ShadowStoreOptions): ShadowStore;
  cleanup(): void;
}

export interface ContractTarget {
  readonly name: string;
  /** True if a store opened again on the same place sees what the closed one wrote. */
  readonly durable: boolean;
  place(): ContractPlace;
}

const good = (value: PropertyUpdate['value'], ts = 1000): PropertyUpdate => ({ value, ts, quality: 'good' });

/** Runs a test with a fresh place and closes every store it opened. */
function withPlace(target: ContractTarget, fn: (open: (o?: ShadowStoreOptions) => ShadowStore) => void | Promise<void>) {
  return async () => {
    const place = target.place();
    const opened: ShadowStore[] = [];
    try {
      await fn((o) => {
        const s = place.open(o);
        opened.push(s);
        return s;
      });
    } finally {
      for (const s of opened) s.close();
      place.cleanup();
    }
  };
}

export function runShadowStoreContract(target: ContractTarget): void {
  const t = (name: string, fn: (open: (o?: ShadowStoreOptions) => ShadowStore) => void | Promise<void>) =>
    test(`${target.name}: ${name}`, withPlace(target, fn));

  t('report, get, delta, shadowAnswer round trip', (open) => {
    const s = open({ now: () => 77 });
    assert.equal(s.get('d1'), undefined);
    const out = s.report('d1', { t: good(21.5), on: good(true) });
    assert.deepEqual(out.changed, ['t', 'on']);
    assert.deepEqual(s.get('d1')?.report, { t: 21.5, on: true });
    assert.equal(s.get('d1')?.reportVersion, 1);
    s.desire('d1', { t: 25, sp: 3 });
    assert.deepEqual(s.delta('d1'), { t: 25, sp: 3 });
    assert.deepEqual(s.get('d1')?.meta.desire, { t: { ts: 77 }, sp: { ts: 77 } });
    assert.deepEqual(s.shadowAnswer('d1'), { name: 'd1', report: { t: 21.5, on: true }, desire: { t: 25, sp: 3 } });
    assert.deepEqual(s.shadowAnswer('nobody'), { name: 'nobody', report: {}, desire: {} });
    assert.deepEqual(s.delta('nobody'), {});
    s.report('d0', { x: good(1) });
    assert.deepEqual(s.devices(), ['d0', 'd1']);
  });

  t('desire: optimistic concurrency on desireVersion', (open) => {
    const s = open();
    assert.equal(s.desire('d', { a: 1 }, 0).shadow.desireVersion, 1);
    assert.throws(() => s.desire('d', { a: 2 }, 0), (e) => isShadowError(e) && e.code === 'VersionConflict' && e.detail?.current === 1);
    assert.deepEqual(s.get('d')?.desire, { a: 1 });
    assert.equal(s.desire('d', { a: 2 }, 1).shadow.desireVersion, 2);
    assert.equal(s.desire('d', { a: 3 }).shadow.desireVersion, 3, 'no version: last writer wins');
    assert.throws(() => s.desire('d', 'nope'), (e) => isShadowError(e) && e.code === 'BadPatch');
  });

  t('clearDesired and remove', (open) => {
    const s = open();
    s.desire('d', { a: 1, b: 2 });
    assert.equal(s.clearDesired('d', { a: 1, b: 99 }).changed, true);
    assert.deepEqual(s.get('d')?.desire, { b: 2 });
    assert.equal(s.clearDesired('nobody', ['a']).changed, false);
    assert.equal(s.remove('d'), true);
    assert.equal(s.get('d'), undefined);
    assert.equal(s.remove('d'), false);
  });

  t('flush writes dirty shadows and notifies listeners after commit', (open) => {
    const s = open({ batchMs: 60_000 });
    const seen: FlushInfo[] = [];
    const off = s.onFlush((i) => seen.push(i));
    s.report('a', { x: good(1) });
    s.report('a', { x: good(2) });
    s.report('b', { y: good(1) });
    assert.equal(s.stats().dirty, 2);
    const info = s.flush();
    assert.deepEqual(
      [...info.shadows].sort((p, q) => p.device.localeCompare(q.device)),
      [
        { device: 'a', reportVersion: 2, desireVersion: 0 },
        { device: 'b', reportVersion: 1, desireVersion: 0 },
      ],
    );
    assert.equal(seen.length, 1);
    assert.equal(s.stats().dirty, 0);
    assert.equal(s.stats().updates, 3);
    assert.equal(s.flush().shadows.length, 0, 'nothing left to write');
    off();
    s.report('a', { x: good(3) });
    s.flush();
    assert.equal(seen.length, 1, 'unsubscribed');
  });

  t('background batch runs within batchMs', async (open) => {
    const s = open({ batchMs: 20 });
    const flushed = new Promise<FlushInfo>((resolve) => s.onFlush(resolve));
    s.report('a', { x: good(1) });
    const info = await Promise.race([flushed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no flush in 2 s')), 2000).unref())]);
    assert.deepEqual(info.shadows, [{ device: 'a', reportVersion: 1, desireVersion: 0 }]);
    assert.equal(s.stats().dirty, 0);
  });

  t('outbox: order, peek after seq, ack, ackUpTo', (open) => {
    const s = open({ batchMs: 60_000, now: () => 1234 });
    const seqs = [1, 2, 3, 4, 5].map((i) => s.append(`t/${i}`, `m${i}`, 1));
    assert.ok(seqs.every((q) => typeof q === 'number'));
    assert.deepEqual([...seqs].sort((a, b) => a! - b!), seqs, 'seqs increase');
    assert.deepEqual(s.peek(10), [], 'not visible before its batch is written');
    assert.equal(s.stats().outbox.pending, 5);
    assert.equal(s.flush().outboxRows, 5);
    const all = s.peek(10);
    assert.deepEqual(all.map((e) => e.payload.toString()), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.deepEqual(all.map((e) => e.seq), seqs);
    assert.deepEqual(all[0], { seq: seqs[0], topic: 't/1', payload: Buffer.from('m1'), qos: 1, createdAt: 1234 });
    assert.deepEqual(s.peek(2, seqs[1]).map((e) => e.topic), ['t/3', 't/4']);
    assert.equal(s.ack(seqs[2]!), true);
    assert.equal(s.ack(seqs[2]!), false);
    assert.equal(s.ackUpTo(seqs[1]!), 2);
    assert.deepEqual(s.peek(10).map((e) => e.payload.toString()), ['m4', 'm5']);
    assert.equal(s.stats().outbox.size, 2);
    assert.equal(s.stats().outbox.acked, 3);
    const bin = Uint8Array.from([0, 255, 1]);
    s.appendSync('bin', bin, 0);
    assert.deepEqual(s.peek(1, seqs[4]), [{ seq: seqs[4]! + 1, topic: 'bin', payload: Buffer.from(bin), qos: 0, createdAt: 1234 }]);
  });

  t('outbox: seqs are never reused after a full drain', (open) => {
    const s = open();
    s.appendSync('t', 'a', 1);
    const last = s.appendSync('t', 'b', 1)!;
    assert.equal(s.ackUpTo(last), 2);
    const next = s.appendSync('t', 'c', 1)!;
    assert.ok(next > last);
  });

  t('outbox bound, drop oldest', (open) => {
    const s = open({ outboxMax: 3, dropPolicy: 'oldest', batchMs: 60_000 });
    for (let i = 1; i <= 5; i++) s.append('t', `m${i}`, 1);
    s.flush();
    assert.deepEqual(s.peek(10).map((e) => e.payload.toString()), ['m3', 'm4', 'm5']);
    s.appendSync('t', 'm6', 1);
    assert.deepEqual(s.peek(10).map((e) => e.payload.toString()), ['m4', 'm5', 'm6']);
    assert.equal(s.stats().outbox.dropped, 3);
    assert.equal(s.stats().outbox.size, 3);
  });

  t('outbox bound, drop newest', (open) => {
    const s = open({ outboxMax: 3, dropPolicy: 'newest', batchMs: 60_000 });
    const seqs = [1, 2, 3, 4, 5].map((i) => s.append('t', `m${i}`, 1));
    assert.deepEqual(seqs.map((q) => q === undefined), [false, false, false, true, true]);
    s.flush();
    assert.deepEqual(s.peek(10).map((e) => e.payload.toString()), ['m1', 'm2', 'm3']);
    assert.equal(s.stats().outbox.dropped, 2);
    s.ack(seqs[0]!);
    assert.notEqual(s.appendSync('t', 'm6', 1), undefined, 'room again after an ack');
    assert.deepEqual(s.peek(10).map((e) => e.payload.toString()), ['m2', 'm3', 'm6']);
  });

  t('closed store refuses calls; close twice is fine', (open) => {
    const s = open();
    s.close();
    s.close();
    assert.throws(() => s.report('a', { x: good(1) }), (e) => isShadowError(e) && e.code === 'Closed');
    assert.throws(() => s.append('t', 'x', 1), (e) => isShadowError(e) && e.code === 'Closed');
  });

  if (!target.durable) return;

  t('restart: shadows, versions, meta and outbox come back', (open) => {
    const a = open({ batchMs: 60_000 });
    for (let i = 1; i <= 10; i++) a.report('d1', { v: good(i, 100 + i), big: good(2n ** 63n - 1n) });
    a.report('d2', { o: good({ x: [1, 2], y: 'z' }) });
    a.report('d2', { bad: { ts: 5, quality: 'bad' } });
    a.desire('d1', { sp: 4 });
    a.append('up/1', 'one', 1);
    a.append('up/2', 'two', 0);
    const before = { d1: a.get('d1'), d2: a.get('d2') };
    a.close(); // close flushes
    const b = open();
    assert.deepEqual(b.get('d1'), before.d1);
    assert.deepEqual(b.get('d2'), before.d2);
    assert.equal(b.get('d1')?.reportVersion, 10);
    assert.equal(b.get('d1')?.desireVersion, 1);
    assert.equal(b.get('d1')?.report.big, 2n ** 63n - 1n);
    assert.deepEqual(b.get('d1')?.meta.report.v, { ts: 110, quality: 'good' });
    assert.deepEqual(b.peek(10).map((e) => [e.topic, e.payload.toString(), e.qos]), [
      ['up/1', 'one', 1],
      ['up/2', 'two', 0],
    ]);
    // Versions continue from where they were.
    assert.equal(b.report('d1', { v: good(11) }).shadow.reportVersion, 11);
    assert.equal(b.desire('d1', { sp: 5 }, 1).shadow.desireVersion, 2);
  });

  t('restart: a desire is on disk as soon as desire() returns', (open) => {
    const a = open({ batchMs: 60_000 });
    a.desire('d', { sp: 1 });
    const b = open(); // a second connection to the same place, while `a` is still open
    assert.deepEqual(b.get('d')?.desire, { sp: 1 });
    assert.equal(b.get('d')?.desireVersion, 1);
  });

  t('restart: appendSync is on disk when it returns, append only after its batch', (open) => {
    const a = open({ batchMs: 60_000 });
    a.append('t', 'batched', 1);
    const peekOther = () => {
      const b = open();
      const got = b.peek(10).map((e) => e.payload.toString());
      b.close();
      return got;
    };
    assert.deepEqual(peekOther(), []);
    a.appendSync('t', 'sync', 1);
    assert.deepEqual(peekOther(), ['batched', 'sync'], 'appendSync also writes what was pending, in order');
  });
}
