import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BacnetSession } from '../../src/drivers/bacnet/session.ts';
import { CovSubscription } from '../../src/drivers/bacnet/cov.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import { compiledDevice, context, dev, never, pt, recorder } from './helpers.ts';
import type { Spec } from './helpers.ts';

const SPECS: Spec[] = [
  { id: '1', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 1 } },
  { id: '2', type: 'bool', visitor: { bacnetType: 5, bacnetAddress: 2 } },
  { id: '3', type: 'string', visitor: { objectType: 'characterstring-value', bacnetAddress: 3 } },
];

let sim: BacnetSimulator;
let port: number;
before(async () => {
  sim = await startBacnetSimulator({
    devices: [compiledDevice('c', SPECS, { deviceId: 5, address: '127.0.0.1' })],
    port: 0,
    tickMs: 0,
    generators: { c: { p1: { kind: 'constant', value: 20 }, p2: { kind: 'constant', value: false }, p3: { kind: 'constant', value: 'a' } } },
  });
  port = sim.device('c').port;
});
after(() => sim.stop());

const access = (extra: Record<string, unknown> = {}) => ({ deviceId: 5, address: '127.0.0.1', port, interface: '127.0.0.1', timeout: 500, retries: 0, subscribe: true, ...extra });

for (const confirmed of [false, true]) {
  test(`bacnet cov: a change arrives through the sink (${confirmed ? 'confirmed' : 'unconfirmed'} notifications)`, async () => {
    const c = dev('c', access({ cov: { confirmed, lifetime: '60s', pollInterval: 0 } }));
    const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
    const sink = recorder();
    const sd = sim.device('c');
    const before = sd.stats.covNotifications;
    try {
      const sub = await s.subscribe(c, SPECS.slice(0, 2).map(pt), sink);
      assert.ok(sub instanceof CovSubscription);
      assert.deepEqual(sub.coverage, { cov: ['1', '2'], polled: [] });
      // The initial notification (§13.14.1.1) carries the current value.
      await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 20);
      const subs = [...sd.subscriptions.values()];
      assert.equal(subs.length, 2);
      assert.ok(subs.every((x) => x.confirmed === confirmed && x.lifetime === 60));
      sd.setValue('p1', 31.5);
      await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 31.5);
      sd.setFlags('p2', { outOfService: true });
      await sink.waitFor((r) => r.id === '2' && r.quality === 'uncertain' && r.value === false);
      assert.ok(sd.stats.covNotifications - before >= 4);
      // Confirmed notifications are acknowledged by the driver (SimpleACK, §13.14.1.1).
      if (confirmed) {
        const t0 = Date.now();
        while (sd.stats.covAcked < 4 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 20));
        assert.ok(sd.stats.covAcked >= 4, `acked ${sd.stats.covAcked}`);
      }
      await sub.close();
      assert.equal(sd.subscriptions.size, 0, 'close cancels the subscriptions on the device');
      const n = sink.batches.length;
      sd.setValue('p1', 40);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(sink.batches.length, n, 'nothing after close');
    } finally {
      sd.setFlags('p2', { outOfService: false });
      sd.reset();
      await s.close();
    }
  });
}

test('bacnet cov: renewed before the lifetime runs out, and still delivering afterwards', async () => {
  const c = dev('c', access({ cov: { lifetime: '2s', pollInterval: 0 } }));
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  const sink = recorder();
  const sd = sim.device('c');
  try {
    const sub = (await s.subscribe(c, [pt(SPECS[0]!)], sink)) as CovSubscription;
    const entry = () => [...sd.subscriptions.values()].find((x) => x.objectKey === '0:1' && x.lifetime === 2);
    assert.equal(entry()?.count, 1);
    const t0 = Date.now();
    // Renewal at 3/4 of 2 s: seen by the device before the subscription lapses.
    while (entry()?.count === 1 && Date.now() - t0 < 2500) await new Promise((r) => setTimeout(r, 50));
    const renewedAfter = Date.now() - t0;
    assert.equal(entry()?.count, 2, 'renewed');
    assert.ok(renewedAfter >= 1300 && renewedAfter < 2000, `renewed after ${renewedAfter} ms, before the 2 s lifetime`);
    assert.ok(sub.renewals >= 1);
    // Past the first lifetime the subscription still lives on the device and notifies.
    await new Promise((r) => setTimeout(r, 2100 - (Date.now() - t0)));
    sd.setValue('p1', 77);
    sd.notifyChanges();
    await sink.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 77);
    await sub.close();
  } finally {
    sd.reset();
    await s.close();
  }
});

test('bacnet cov: points the device refuses COV for are polled and pushed when they change', async () => {
  const sd = sim.device('c');
  const c = dev('c', access({ cov: { pollInterval: '100ms' } }));
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  const sink = recorder();
  try {
    // The characterstring-value refuses COV (object / optional-functionality-not-supported).
    const sub = (await s.subscribe(c, SPECS.map(pt), sink)) as CovSubscription;
    assert.deepEqual(sub.coverage, { cov: ['1', '2'], polled: ['3'] });
    await sink.waitFor((r) => r.id === '3' && r.quality === 'good' && r.value === 'a');
    sd.setValue('p3', 'b');
    await sink.waitFor((r) => r.id === '3' && r.quality === 'good' && r.value === 'b');
    const n3 = sink.batches.flat().filter((r) => r.id === '3').length;
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(sink.batches.flat().filter((r) => r.id === '3').length, n3, 'unchanged values are not pushed again');
    await sub.close();
    // A device without SubscribeCOV at all (Reject): everything is polled.
    sd.setFaults({ rejectCov: true });
    const sink2 = recorder();
    const sub2 = (await s.subscribe(c, SPECS.slice(0, 2).map(pt), sink2)) as CovSubscription;
    assert.deepEqual(sub2.coverage, { cov: [], polled: ['1', '2'] });
    sd.setValue('p1', 12.5);
    await sink2.waitFor((r) => r.id === '1' && r.quality === 'good' && r.value === 12.5);
    await sub2.close();
  } finally {
    sd.setFaults({ rejectCov: false });
    sd.reset();
    await s.close();
  }
});

test('bacnet cov: points without cov (device subscribe off) are left to the gateway poll', async () => {
  const c = dev('c', access({ subscribe: false }));
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    const only2 = [pt(SPECS[0]!), pt({ id: '2', type: 'bool', visitor: { bacnetType: 5, bacnetAddress: 2, cov: true } })];
    const sub = (await s.subscribe(c, only2, recorder())) as CovSubscription;
    assert.deepEqual(sub.coverage, { cov: ['2'], polled: [] });
    await sub.close();
  } finally {
    await s.close();
  }
});
