/** SDK Gate: at most `size` calls in flight, waiters served in call order, throws free the slot. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gate } from '../../src/drivers/sdk/index.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('no more than size calls run at once; the rest start in call order', async () => {
  const gate = new Gate(2);
  const started: number[] = [];
  const ds = [0, 1, 2, 3, 4].map(() => deferred());
  const runs = ds.map((d, i) =>
    gate.run(async () => {
      started.push(i);
      await d.promise;
      return i * 10;
    }),
  );
  // Settle handlers attached now: run 2 rejects before the end of the test.
  const settled = Promise.allSettled(runs);
  await tick();
  assert.deepEqual(started, [0, 1]);
  assert.equal(gate.inFlight, 2);
  assert.equal(gate.waiting, 3);
  ds[1]!.resolve();
  await tick();
  assert.deepEqual(started, [0, 1, 2]);
  // A newcomer does not overtake the waiters.
  const late = gate.run(async () => {
    started.push(99);
    return -1;
  });
  ds[0]!.resolve();
  await tick();
  assert.deepEqual(started, [0, 1, 2, 3]);
  ds[2]!.reject(new Error('boom'));
  await tick();
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  ds[3]!.resolve();
  ds[4]!.resolve();
  const results = [...(await settled), ...(await Promise.allSettled([late]))];
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [0, 10, 'boom', 30, 40, -1],
  );
  assert.deepEqual(started, [0, 1, 2, 3, 4, 99]);
  assert.equal(gate.inFlight, 0);
  assert.equal(gate.waiting, 0);
});

test('a size below 1 counts as 1', async () => {
  const gate = new Gate(0);
  let running = 0;
  let peak = 0;
  await Promise.all(
    [1, 2, 3].map(() =>
      gate.run(async () => {
        peak = Math.max(peak, ++running);
        await tick();
        running--;
      }),
    ),
  );
  assert.equal(peak, 1);
});
