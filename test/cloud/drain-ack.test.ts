/**
 * The outbox drain when deleting acknowledged rows fails (a full disk: SQLite needs room even to
 * delete): the failure is reported, never thrown from the timer, and the delete is retried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboxDrain } from '../../src/shadow/sync/outbox-drain.ts';
import type { OutboxEntry } from '../../src/shadow/store-api.ts';

test('a failed delete of acknowledged rows is reported and retried, not thrown', async () => {
  const rows: OutboxEntry[] = [1, 2, 3].map((seq) => ({ seq, topic: 't', payload: Buffer.from('x'), qos: 1, createdAt: 0 }));
  const acks: number[] = [];
  let failNext = true;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let now = 0;
  let ids = 0;
  const errors: unknown[] = [];
  const drain = new OutboxDrain({
    store: {
      peek: (limit: number, after = 0) => rows.filter((r) => r.seq > after).slice(0, limit),
      ackUpTo: (seq: number) => {
        acks.push(seq);
        if (failNext) {
          failNext = false;
          throw new Error('cannot delete from the outbox: database or disk is full');
        }
        return 0;
      },
    } as never,
    send: () => Promise.resolve(),
    isOnline: () => true,
    ratePerSec: 1000,
    maxInFlight: 10,
    timers: {
      monotonic: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn, id: ++ids };
        timers.push(t);
        return t.id;
      },
      clearTimeout: (h) => {
        const i = timers.findIndex((t) => t.id === h);
        if (i >= 0) timers.splice(i, 1);
      },
    },
    onAckError: (e) => errors.push(e),
  });
  const runTimers = (until: number): void => {
    now = until;
    for (let t = timers.sort((a, b) => a.at - b.at)[0]; t !== undefined && t.at <= now; t = timers.sort((a, b) => a.at - b.at)[0]) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  drain.kick();
  await new Promise((r) => setImmediate(r)); // the PUBACKs (resolved sends)
  assert.equal(drain.confirmedSeq, 3);
  assert.doesNotThrow(() => runTimers(10), 'the ack timer does not throw');
  assert.deepEqual(acks, [3]);
  assert.equal(errors.length, 1, 'the failure is reported');
  runTimers(2000);
  assert.deepEqual(acks, [3, 3], 'retried after the pause, and then done');
  runTimers(10_000);
  assert.deepEqual(acks, [3, 3], 'nothing left to delete');
  drain.stop();
});
