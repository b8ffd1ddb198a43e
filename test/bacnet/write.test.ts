import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BacnetSession } from '../../src/drivers/bacnet/session.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import { byId, compiledDevice, context, dev, never, pt, valueOf } from './helpers.ts';
import type { Spec } from './helpers.ts';

const SPECS: Spec[] = [
  { id: '1', type: 'float32', visitor: { bacnetType: 1, bacnetAddress: 1 } }, // analog-output
  { id: '2', type: 'bool', visitor: { bacnetType: 4, bacnetAddress: 2 } }, // binary-output
  { id: '3', type: 'uint16', visitor: { bacnetType: 14, bacnetAddress: 3 } }, // multi-state-output
  { id: '4', type: 'int32', visitor: { objectType: 'integer-value', bacnetAddress: 4 } },
  { id: '5', type: 'uint32', visitor: { objectType: 'positive-integer-value', bacnetAddress: 5 } },
  { id: '6', type: 'string', visitor: { objectType: 'characterstring-value', bacnetAddress: 6 } },
  { id: '7', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 7 } }, // analog-input
  { id: '8', type: 'float32', visitor: { bacnetType: 2, bacnetAddress: 8, priority: 8, relinquishValue: -9999 } }, // analog-value
];

let sim: BacnetSimulator;
let port: number;
before(async () => {
  sim = await startBacnetSimulator({
    devices: [compiledDevice('w', SPECS, { deviceId: 77, address: '127.0.0.1' })],
    port: 0,
    tickMs: 0,
    generators: { w: { p1: { kind: 'constant', value: 10 }, p2: { kind: 'constant', value: false }, p3: { kind: 'constant', value: 1 }, p4: { kind: 'constant', value: 0 }, p5: { kind: 'constant', value: 0 }, p6: { kind: 'constant', value: 'x' }, p7: { kind: 'constant', value: 1 }, p8: { kind: 'constant', value: 5.5 } } },
  });
  port = sim.device('w').port;
});
after(() => sim.stop());

const access = (extra: Record<string, unknown> = {}) => ({ deviceId: 77, address: '127.0.0.1', port, interface: '127.0.0.1', timeout: 500, retries: 0, ...extra });

test('bacnet write: WriteProperty with the tag of the object type, at the configured priority', async () => {
  const c = dev('w', access({ priority: 12 }));
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    const [p1, p2, p3, p4, p5, p6] = SPECS.map(pt);
    const sd = sim.device('w');
    sd.writes.length = 0;
    const res = await s.write(c, [
      { point: p1!, value: 55.5 },
      { point: p2!, value: true },
      { point: p3!, value: 3 },
      { point: p4!, value: -42 },
      { point: p5!, value: 123456 },
      { point: p6!, value: 'written' },
    ], never());
    assert.deepEqual(res.map((r) => r.ok), [true, true, true, true, true, true]);
    // Tags (§20.2.1.4): 4 REAL, 9 ENUMERATED, 2 Unsigned, 3 INTEGER, 2 Unsigned, 7 CharacterString.
    assert.deepEqual(sd.writes.map((w) => [w.object, w.tag, w.value, w.priority]), [
      ['1:1', 4, 55.5, 12],
      ['4:2', 9, 1, 12],
      ['14:3', 2, 3, 12],
      ['45:4', 3, -42, 12],
      ['48:5', 2, 123456, 12],
      ['40:6', 7, 'written', 12],
    ]);
    assert.equal(sd.object('p1').activePriority(), 12);
    const r = byId(await s.read(c, SPECS.slice(0, 6).map(pt), never()));
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((i) => valueOf(r.get(String(i)))), [55.5, true, 3, -42, 123456, 'written']);
    // applicationTagNumber (Baetyl's key) overrides the object type's tag: the device refuses REAL 4 for a binary.
    const forced = pt({ id: '2', type: 'bool', visitor: { bacnetType: 4, bacnetAddress: 2, applicationTagNumber: 1 } });
    const [bad] = await s.write(c, [{ point: forced, value: true }], never());
    assert.ok(bad && !bad.ok && bad.error.detail?.errorCode === 9, 'invalid-data-type for BOOLEAN on a binary-output');
    assert.equal(sd.writes.at(-1)?.tag, 1);
  } finally {
    await s.close();
  }
});

test('bacnet write: relinquish (NULL at the priority) restores relinquish-default', async () => {
  const c = dev('w', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    const sd = sim.device('w');
    const p8 = pt(SPECS[7]!);
    await s.write(c, [{ point: p8, value: 70.25 }], never());
    assert.equal(sd.object('p8').activePriority(), 8, 'the point writes at its own priority 8');
    assert.equal(valueOf(byId(await s.read(c, [p8], never())).get('8')), 70.25);
    // Writing the configured relinquishValue sends NULL (tag 0) at priority 8.
    const [r] = await s.write(c, [{ point: p8, value: -9999 }], never());
    assert.ok(r?.ok);
    assert.deepEqual([sd.writes.at(-1)?.tag, sd.writes.at(-1)?.priority], [0, 8]);
    assert.equal(sd.object('p8').activePriority(), undefined);
    assert.equal(valueOf(byId(await s.read(c, [p8], never())).get('8')), 5.5, 'back to relinquish-default');
    // relinquish() does the same for any point, at its priority only: the first test left
    // 55.5 at priority 12, which stays in control after priority 16 is relinquished.
    const p1 = pt(SPECS[0]!);
    await s.write(c, [{ point: p1, value: 1 }], never());
    assert.equal(valueOf(byId(await s.read(c, [p1], never())).get('1')), 55.5);
    await s.relinquish(c, [p1], never());
    assert.equal(sd.object('p1').priority[15], null);
    assert.equal(valueOf(byId(await s.read(c, [p1], never())).get('1')), 55.5);
    await s.relinquish(dev('w', access({ priority: 12 })), [p1], never());
    assert.equal(valueOf(byId(await s.read(c, [p1], never())).get('1')), 10, 'all slots empty: relinquish-default');
  } finally {
    await s.close();
  }
});

test('bacnet write: device refusals are per-point errors; bad values never reach the wire', async () => {
  const c = dev('w', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    const sd = sim.device('w');
    const n = sd.writes.length;
    const res = await s.write(c, [
      { point: pt(SPECS[6]!), value: 3 }, // analog-input in service: write-access-denied
      { point: pt(SPECS[2]!), value: 99 }, // multi-state beyond number-of-states: value-out-of-range
      { point: pt(SPECS[2]!), value: -1 }, // not an Unsigned: refused before sending
      { point: pt(SPECS[0]!), value: 1.5 },
    ], never());
    assert.equal(res[0]!.ok, false);
    assert.ok(!res[0]!.ok && res[0]!.error.code === 'Unsupported' && res[0]!.error.detail?.errorCode === 40);
    assert.ok(!res[1]!.ok && res[1]!.error.code === 'BadValue' && res[1]!.error.detail?.errorCode === 37);
    assert.ok(!res[2]!.ok && res[2]!.error.code === 'BadValue' && res[2]!.error.detail === undefined);
    assert.ok(res[3]!.ok);
    assert.equal(sd.writes.length - n, 3, 'the -1 was not sent');
  } finally {
    await s.close();
  }
});
