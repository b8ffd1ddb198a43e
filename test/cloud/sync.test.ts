import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE, rig } from './setup.ts';
import { sleep, waitUntil } from './helpers.ts';

test('reports reach the cloud in order with versions; lifecycle and node status too', async () => {
  const r = await rig();
  try {
    await r.cloud.waitFor(() => r.cloud.stats().nodes[NODE]?.online === true, 5000, 'node status online');
    r.sync.lifecycle('pump-1', true);
    for (let i = 1; i <= 20; i++) r.report('pump-1', { n: i, flow: i * 0.5 });
    await r.cloud.waitFor(() => (r.cloud.device(NODE, 'pump-1')?.counters.reports ?? 0) === 20, 5000, '20 reports');
    const d = r.cloud.device(NODE, 'pump-1')!;
    assert.deepEqual(d.reported, { n: 20, flow: 10 });
    assert.equal(d.reportVersion, 20);
    assert.equal(d.online, true);
    assert.deepEqual(d.history.map((h) => h.reportVersion), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(d.history.map((h) => h.properties['n']), Array.from({ length: 20 }, (_, i) => i + 1));
    // lifecycle is seq 1, reports 2..21 of the same device stream
    assert.deepEqual(d.last, { epoch: 0, seq: 21 });
    assert.equal(d.counters.gaps, 0);
    assert.equal(d.metadata['n']?.quality, 'good');
    await waitUntil(() => r.store.stats().outbox.size === 0, 2000, 'outbox empty after PUBACKs');
    assert.equal(r.sync.counters.acked, 21);
  } finally {
    await r.close();
  }
  // A clean stop says offline (retained status) before disconnecting.
});

test('cloud down for seconds while 2,000 reports of 10 devices keep coming: all arrive, in order, duplicates only across reconnects', async () => {
  const DEVICES = 10;
  const PER_DEVICE = 200;
  const r = await rig({ sync: { drainRatePerSec: 2000, maxInFlight: 50 } });
  try {
    let n = 0;
    const feed = async (rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        n++;
        for (let d = 0; d < DEVICES; d++) r.report(`dev-${d}`, { n, v: n * 10 + d });
        await sleep(10);
      }
    };
    await feed(40);
    await r.cloud.stop(); // cloud down, possibly with messages in flight
    const downAt = Date.now();
    await feed(120);
    await waitUntil(() => Date.now() - downAt >= 2000, 5000, 'outage of 2 s');
    assert.notEqual(r.sync.state, 'online');
    assert.ok(r.sync.counters.backlog > 500, `backlog during the outage: ${r.sync.counters.backlog}`);
    await r.cloud.start();
    await feed(PER_DEVICE - 160); // new data keeps flowing while the backlog drains
    assert.equal(n, PER_DEVICE);

    await r.cloud.waitFor(
      () => Array.from({ length: DEVICES }, (_, d) => r.cloud.device(NODE, `dev-${d}`)?.counters.reports ?? 0).every((c) => c === PER_DEVICE),
      15_000,
      'every report at the cloud',
    );
    let duplicates = 0;
    for (let d = 0; d < DEVICES; d++) {
      const dev = r.cloud.device(NODE, `dev-${d}`)!;
      assert.deepEqual(dev.history.map((h) => h.properties['n']), Array.from({ length: PER_DEVICE }, (_, i) => i + 1), `dev-${d} in order`);
      assert.equal(dev.counters.gaps, 0, `dev-${d} gaps`);
      assert.equal(dev.reported['v'], PER_DEVICE * 10 + d);
      duplicates += dev.counters.duplicates;
    }
    // Duplicates come only from messages in flight at the drop: at most the window per reconnect (the
    // drain's resend plus mqtt.js's own resend of the same in-flight packets).
    const reconnects = r.sync.counters.restarts;
    assert.ok(reconnects >= 1, 'the drain restarted after the reconnect');
    assert.ok(duplicates <= 2 * 50 * reconnects, `duplicates ${duplicates} for ${reconnects} restarts`);
    await waitUntil(() => r.store.stats().outbox.size === 0, 5000, 'outbox drained');
    assert.equal(r.sync.counters.dropped, 0);
    console.log(`# outage: ${duplicates} duplicates dropped by seq at the cloud, ${reconnects} restarts, sent ${r.sync.counters.sent}`);
  } finally {
    await r.close();
  }
});

test('the drain is rate-limited and keeps at most maxInFlight unacknowledged', async () => {
  const r = await rig({ cloudDown: true, sync: { drainRatePerSec: 200, maxInFlight: 5 } });
  try {
    for (let i = 1; i <= 100; i++) r.report('d', { n: i });
    await waitUntil(() => r.store.stats().outbox.size === 100 && r.store.stats().outbox.pending === 0, 2000, 'backlog stored');
    const t0 = Date.now();
    await r.cloud.start();
    let maxInFlight = 0;
    await r.cloud.waitFor(
      () => {
        maxInFlight = Math.max(maxInFlight, r.sync.counters.inFlight);
        return (r.cloud.device(NODE, 'd')?.counters.reports ?? 0) === 100;
      },
      10_000,
      '100 reports',
    );
    const ms = Date.now() - t0;
    // 200/s with a burst of 20: the last 80 need at least 400 ms after connecting.
    assert.ok(ms >= 400, `drained 100 rows in ${ms} ms at 200/s`);
    assert.ok(r.sync.counters.sent <= 100 + 5, `sent ${r.sync.counters.sent}`);
    // Sampled every 20 ms, so a fast broker may show 0 in flight at every look; the cap is what matters.
    assert.ok(maxInFlight <= 5, `in flight at most 5, saw ${maxInFlight}`);
    assert.deepEqual(r.cloud.device(NODE, 'd')!.history.map((h) => h.properties['n']), Array.from({ length: 100 }, (_, i) => i + 1));
  } finally {
    await r.close();
  }
});
