/**
 * The console's live hub and its bounded histories, driven by hand (no timers): sparkline
 * series keep the window and the sample budget, the lifecycle log keeps changes only, and the hub
 * turns snapshot changes into values, lifecycle and status events per device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveHub } from '../../src/gateway/console/hub.ts';
import type { HubEvent, WatchedDevice } from '../../src/gateway/console/hub.ts';
import { LifecycleLog, Series } from '../../src/gateway/console/series.ts';

test('a series keeps the window, thins samples closer than window/maxSamples, and always the newest', () => {
  const s = new Series({ windowMs: 10_000, maxSamples: 10 }); // spacing 1000 ms
  for (let t = 0; t <= 3000; t += 250) s.add(t, t / 100);
  const pts = s.points();
  assert.deepEqual(pts[pts.length - 1], [3000, 30], 'the newest sample is kept');
  for (let i = 1; i < pts.length - 1; i++) assert.ok(pts[i]![0] - pts[i - 1]![0] >= 750, `spacing at ${i}: ${JSON.stringify(pts)}`);
  s.add(3000, 99);
  assert.deepEqual(s.points()[s.size - 1], [3000, 30], 'a sample not newer than the last is ignored');
  s.add(20_000, 1);
  assert.ok(s.points().every(([t]) => t >= 10_000), 'samples older than the window are dropped');
  const many = new Series({ windowMs: 1_000_000, maxSamples: 5 });
  for (let t = 0; t < 100; t++) many.add(t * 300_000, t);
  assert.equal(many.size, 4, 'window 1000 s at 300 s steps holds 4');
  const budget = new Series({ windowMs: 100_000, maxSamples: 5 });
  for (let t = 0; t < 50; t++) budget.add(t * 20_000 + 1, t);
  assert.ok(budget.size <= 5);
});

test('the lifecycle log keeps changes only, up to its size', () => {
  const log = new LifecycleLog(3);
  assert.equal(log.add({ at: 1, online: true }), true);
  assert.equal(log.add({ at: 2, online: true }), false, 'same state again is no change');
  log.add({ at: 3, online: false, error: { code: 'Timeout', message: 'no answer' } });
  log.add({ at: 4, online: true });
  log.add({ at: 5, online: false });
  assert.deepEqual(
    log.list().map((e) => [e.at, e.online]),
    [
      [3, false],
      [4, true],
      [5, false],
    ],
  );
});

interface FakeDevice extends WatchedDevice {
  isOnline: boolean | undefined;
  lastPollAt: number | undefined;
  lastError: { code: string; message: string } | undefined;
  values: Map<string, { value: number | boolean | bigint | undefined; quality: 'good' | 'bad'; ts: number; error?: { code: string; message: string } }>;
}

function fake(name: string): FakeDevice {
  const values: FakeDevice['values'] = new Map();
  return { name, isOnline: undefined, lastPollAt: undefined, lastError: undefined, values, snapshot: () => values as never };
}

test('the hub emits new samples, lifecycle changes and status per device, and records histories', () => {
  const a = fake('a');
  const b = fake('b');
  const devices = new Map<string, WatchedDevice>([
    ['a', a],
    ['b', b],
  ]);
  let now = 1000;
  const hub = new LiveHub({ devices: () => devices, now: () => now, windowMs: 60_000, maxSamples: 60 });
  const all: HubEvent[] = [];
  const onlyA: HubEvent[] = [];
  hub.subscribe(undefined, (e) => all.push(e));
  hub.subscribe('a', (e) => onlyA.push(e));

  hub.tick();
  assert.equal(all.length, 0, 'nothing known yet');

  a.isOnline = true;
  a.lastPollAt = 1000;
  a.values.set('t', { value: 20.5, quality: 'good', ts: 1000 });
  a.values.set('big', { value: 12345678901234567890n, quality: 'good', ts: 1000 });
  a.values.set('on', { value: true, quality: 'good', ts: 1000 });
  b.isOnline = false;
  b.lastError = { code: 'Timeout', message: 'no answer' };
  b.lastPollAt = 1000;
  now = 1100;
  hub.tick();
  assert.deepEqual(all.find((e) => e.type === 'values'), {
    type: 'values',
    device: 'a',
    properties: { t: { value: 20.5, quality: 'good', ts: 1000 }, big: { value: '12345678901234567890', quality: 'good', ts: 1000 }, on: { value: true, quality: 'good', ts: 1000 } },
  });
  assert.deepEqual(all.find((e) => e.type === 'lifecycle' && e.device === 'b'), { type: 'lifecycle', device: 'b', entry: { at: 1100, online: false, error: { code: 'Timeout', message: 'no answer' } } });
  assert.deepEqual(all.find((e) => e.type === 'status'), { type: 'status', devices: ['a', 'b'] });
  assert.ok(onlyA.every((e) => e.type === 'status' || e.device === 'a'), 'a device listener hears only its device');
  assert.ok(!onlyA.some((e) => e.type === 'lifecycle' && e.device === 'b'));

  // An unchanged snapshot emits nothing; a new sample of one attribute emits just that one.
  all.length = 0;
  hub.tick();
  assert.equal(all.length, 0);
  a.values.set('t', { value: 21, quality: 'good', ts: 2000 });
  a.values.set('on', { value: undefined, quality: 'bad', ts: 2000, error: { code: 'Exception', message: 'illegal address' } });
  a.lastPollAt = 2000;
  hub.tick();
  assert.deepEqual(all[0], {
    type: 'values',
    device: 'a',
    properties: { t: { value: 21, quality: 'good', ts: 2000 }, on: { value: null, quality: 'bad', ts: 2000, error: { code: 'Exception', message: 'illegal address' } } },
  });
  assert.deepEqual(all[1], { type: 'status', devices: ['a'] });

  a.isOnline = false;
  now = 2500;
  hub.tick();
  const h = hub.history('a')!;
  assert.deepEqual(h.series.t, [
    [1000, 20.5],
    [2000, 21],
  ]);
  assert.deepEqual(h.series.big, [[1000, 12345678901234567000]], 'bigint samples are plotted as numbers');
  assert.equal(h.series.on, undefined, 'booleans have no sparkline');
  assert.deepEqual(
    h.lifecycle.map((e) => [e.at, e.online]),
    [
      [1100, true],
      [2500, false],
    ],
  );
  assert.equal(hub.history('nope'), undefined);

  // A removed device is forgotten and reported in a status event.
  devices.delete('b');
  all.length = 0;
  hub.tick();
  assert.deepEqual(all, [{ type: 'status', devices: ['b'] }]);
});

test('the hub stops when told to, once, and ignores ticks afterwards', () => {
  let stopping = false;
  let stops = 0;
  const d = fake('d');
  const hub = new LiveHub({ devices: () => new Map([['d', d]]), stopWhen: () => stopping, onStop: () => stops++ });
  const seen: HubEvent[] = [];
  hub.subscribe(undefined, (e) => seen.push(e));
  stopping = true;
  d.isOnline = true;
  hub.tick();
  hub.tick();
  hub.stop();
  assert.equal(hub.isStopped, true);
  assert.equal(stops, 1);
  assert.equal(seen.length, 0);
});
