import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PollTimer, staggerOffset } from '../../src/gateway/runtime/scheduler.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

test('poll timer ticks at origin + k*interval without drift, even when polls take time', async () => {
  const clock = new FakeClock();
  const starts: number[] = [];
  const timer = new PollTimer({
    clock,
    interval: 1000,
    offset: 250,
    poll: async () => {
      starts.push(clock.monotonic());
      // each poll takes 300 ms of (fake) time
      await new Promise<void>((r) => clock.setTimeout(r, 300));
    },
  });
  timer.start();
  await clock.advance(5000);
  timer.stop();
  assert.deepEqual(starts, [250, 1250, 2250, 3250, 4250]);
  assert.equal(timer.overruns, 0);
});

test('a tick that finds the previous poll still running is skipped and counted', async () => {
  const clock = new FakeClock();
  const starts: number[] = [];
  const skipped: number[] = [];
  const timer = new PollTimer({
    clock,
    interval: 1000,
    offset: 0,
    poll: async () => {
      starts.push(clock.monotonic());
      await new Promise<void>((r) => clock.setTimeout(r, 2500)); // longer than two intervals
    },
    onOverrun: (n) => skipped.push(n),
  });
  timer.start();
  await clock.advance(6100);
  timer.stop();
  // polls at 0 (ends 2500), skip 1000 and 2000, poll 3000 (ends 5500), skip 4000 and 5000, poll 6000
  assert.deepEqual(starts, [0, 3000, 6000]);
  assert.equal(timer.overruns, 4);
  assert.deepEqual(skipped, [1, 1, 1, 1]);
});

test('after stop, no more polls', async () => {
  const clock = new FakeClock();
  let polls = 0;
  const timer = new PollTimer({ clock, interval: 100, offset: 0, poll: async () => void polls++ });
  timer.start();
  await clock.advance(250);
  timer.stop();
  await clock.advance(1000);
  assert.equal(polls, 3);
  assert.equal(clock.pending, 0);
});

test('stagger spreads devices evenly over the interval', () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => staggerOffset(i, 4, 1000)), [0, 250, 500, 750]);
  assert.equal(staggerOffset(0, 1, 1000), 0);
});
