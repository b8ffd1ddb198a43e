import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE, rig } from './setup.ts';
import { waitUntil } from './helpers.ts';

test('a desired document: handler validates, accepted part stored, answer with accepted/rejected reaches the cloud', async () => {
  const r = await rig();
  try {
    r.report('valve', { setpoint: 10, mode: 'auto', temp: 20 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'valve')?.reportVersion === 1, 5000, 'first report');
    const calls: unknown[] = [];
    r.sync.onDesired(async (device, patch, version) => {
      calls.push({ device, patch, version });
      return { accepted: ['setpoint'], rejected: [{ property: 'temp', reason: 'read-only (mode ro)' }] };
    });
    const applied: unknown[] = [];
    r.sync.onDesiredApplied((device, accepted, desireVersion) => applied.push({ device, accepted, desireVersion }));

    r.cloud.setDesired(NODE, 'valve', { setpoint: 42, temp: 99, unknownProp: 1 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'valve')!.answers.length === 1, 5000, 'answer');
    const a = r.cloud.device(NODE, 'valve')!.answers[0]!;
    assert.equal(a.status, 'partial');
    assert.deepEqual(a.accepted, ['setpoint']);
    assert.deepEqual(a.rejected, [
      { property: 'temp', reason: 'read-only (mode ro)' },
      { property: 'unknownProp', reason: 'not accepted by the gateway' },
    ]);
    assert.equal(a.version, 0);
    assert.equal(a.desireVersion, 1);
    assert.deepEqual(calls, [{ device: 'valve', patch: { setpoint: 42, temp: 99, unknownProp: 1 }, version: 0 }]);
    assert.deepEqual(applied, [{ device: 'valve', accepted: ['setpoint'], desireVersion: 1 }]);
    // Stored (fsynced) at the edge: only what was accepted.
    assert.deepEqual(r.store.get('valve')!.desire, { setpoint: 42 });
    assert.deepEqual(r.store.delta('valve'), { setpoint: 42 });
    // The cloud keeps the accepted value as pending desired and remembers the reasons.
    const c = r.cloud.device(NODE, 'valve')!;
    assert.deepEqual(c.desired, { setpoint: 42 });
    assert.deepEqual(r.cloud.shadows.delta(c), { setpoint: 42 });
    assert.equal(c.rejected['temp'], 'read-only (mode ro)');

    // The write happened and the re-read reports the value: acknowledged, the delta disappears on both sides.
    r.report('valve', { setpoint: 42 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'valve')!.answers.length === 2, 5000, 'acknowledged');
    const ack = r.cloud.device(NODE, 'valve')!.answers[1]!;
    assert.equal(ack.status, 'acknowledged');
    assert.deepEqual(ack.acknowledged, { setpoint: 42 });
    assert.equal(ack.desireVersion, 2);
    assert.deepEqual(r.store.get('valve')!.desire, {});
    assert.deepEqual(r.cloud.device(NODE, 'valve')!.desired, {});
    assert.deepEqual(r.cloud.shadows.delta(r.cloud.device(NODE, 'valve')!), {});
    assert.equal(r.cloud.device(NODE, 'valve')!.edgeDesireVersion, 2);
  } finally {
    await r.close();
  }
});

test('a desired document with an older version is ignored and counted; a newer one is a conflict', async () => {
  const r = await rig();
  try {
    let calls = 0;
    r.sync.onDesired(async (_d, patch) => {
      calls++;
      return { accepted: Object.keys(patch), rejected: [] };
    });
    r.report('fan', { speed: 1 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'fan')?.reportVersion === 1, 5000, 'report');
    r.cloud.setDesired(NODE, 'fan', { speed: 3 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'fan')!.answers.length === 1, 5000, 'first answer');
    assert.equal(r.store.get('fan')!.desireVersion, 1);

    const stale = r.cloud.sendDesired(NODE, 'fan', { speed: 0 }, 0);
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'fan')!.answers.length === 2, 5000, 'stale answer');
    const a = r.cloud.device(NODE, 'fan')!.answers[1]!;
    assert.deepEqual([a.status, a.clientToken, a.version, a.desireVersion], ['stale', stale, 0, 1]);
    assert.equal(r.sync.counters.ignoredStale, 1);
    assert.equal(calls, 1, 'the handler is not asked about a stale document');
    assert.deepEqual(r.store.get('fan')!.desire, { speed: 3 });
    assert.equal(r.store.get('fan')!.desireVersion, 1);

    r.cloud.sendDesired(NODE, 'fan', { speed: 5 }, 7);
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'fan')!.answers.length === 3, 5000, 'conflict answer');
    assert.equal(r.cloud.device(NODE, 'fan')!.answers[2]!.status, 'conflict');
    assert.equal(r.sync.counters.desired.conflicts, 1);
    assert.deepEqual(r.store.get('fan')!.desire, { speed: 3 });

    // Without a version: applied as is (Baetyl deltas carry none).
    r.cloud.sendDesired(NODE, 'fan', { speed: 4 }, undefined);
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'fan')!.answers.length === 4, 5000, 'answer');
    assert.equal(r.cloud.device(NODE, 'fan')!.answers[3]!.status, 'accepted');
    assert.deepEqual(r.store.get('fan')!.desire, { speed: 4 });
  } finally {
    await r.close();
  }
});

test('a handler that throws rejects every property with the reason; nothing is stored', async () => {
  const r = await rig();
  try {
    r.sync.onDesired(async () => {
      throw new Error('device model not loaded');
    });
    // The edge subscribes right after connecting; on a loaded machine the first document can
    // arrive before its SUBACK and find no subscriber. Send again until answered (bounded).
    for (let i = 0; i < 10 && (r.cloud.device(NODE, 'x')?.answers.length ?? 0) === 0; i++) {
      r.cloud.sendDesired(NODE, 'x', { a: 1 }, undefined);
      await r.cloud.waitFor(() => (r.cloud.device(NODE, 'x')?.answers.length ?? 0) >= 1, 1000, 'answer').catch(() => undefined);
    }
    await r.cloud.waitFor(() => (r.cloud.device(NODE, 'x')?.answers.length ?? 0) >= 1, 5000, 'answer');
    const a = r.cloud.device(NODE, 'x')!.answers[0]!;
    assert.equal(a.status, 'rejected');
    assert.deepEqual(a.rejected, [{ property: 'a', reason: 'validation failed: device model not loaded' }]);
    assert.equal(r.store.get('x'), undefined);
  } finally {
    await r.close();
  }
});

test('desired set while the gateway is away is re-sent when its status says online, then applied', async () => {
  const r = await rig();
  try {
    r.report('heater', { sp: 18 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'heater')?.reportVersion === 1, 5000, 'report');
    await r.cloud.stop();
    await waitUntil(() => r.sync.state !== 'online', 5000, 'link down');
    await r.cloud.start();
    // The cloud is up but the gateway has not reconnected yet: the document finds no subscriber.
    r.cloud.setDesired(NODE, 'heater', { sp: 21 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'heater')!.answers.length === 1, 8000, 'answer after reconnect');
    assert.equal(r.cloud.device(NODE, 'heater')!.answers[0]!.status, 'accepted');
    assert.deepEqual(r.store.get('heater')!.desire, { sp: 21 });
  } finally {
    await r.close();
  }
});

test('a shadow request (get) is answered with the full shadow, reqId echoed', async () => {
  const r = await rig();
  try {
    r.report('m', { a: 1, b: 'x' });
    r.report('m', { a: 2 });
    r.sync.lifecycle('m', true);
    r.store.desire('m', { b: 'y' });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'm')?.reportVersion === 2, 5000, 'reports');
    const reqId = r.cloud.requestShadow(NODE, 'm');
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'm')!.counters.fullReports === 1, 5000, 'full report');
    const full = r.cloud.device(NODE, 'm')!.history.at(-1)!;
    assert.equal(full.full, true);
    assert.equal(full.reqId, reqId);
    assert.deepEqual(full.properties, { a: 2, b: 'x' });
    assert.equal(r.cloud.device(NODE, 'm')!.online, true);
    assert.equal(r.sync.counters.fullReports, 1);
  } finally {
    await r.close();
  }
});
