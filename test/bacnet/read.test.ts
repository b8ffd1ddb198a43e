import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { BacnetSession } from '../../src/drivers/bacnet/session.ts';
import { itemsOf, planBatches } from '../../src/drivers/bacnet/plan.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import { byId, compiledDevice, context, dev, never, pt, valueOf } from './helpers.ts';
import type { Spec } from './helpers.ts';

// One point per supported object type (present-value), with a constant generator each.
const SPECS: Spec[] = [
  { id: '1', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 1 } },
  { id: '2', type: 'float32', visitor: { bacnetType: 1, bacnetAddress: 2 } },
  { id: '3', type: 'float32', visitor: { bacnetType: 2, bacnetAddress: 3 } },
  { id: '4', type: 'bool', visitor: { bacnetType: 3, bacnetAddress: 4 } },
  { id: '5', type: 'bool', visitor: { bacnetType: 4, bacnetAddress: 5 } },
  { id: '6', type: 'bool', visitor: { bacnetType: 5, bacnetAddress: 6 } },
  { id: '7', type: 'uint16', visitor: { objectType: 'multi-state-input', bacnetAddress: 7 } },
  { id: '8', type: 'uint16', visitor: { objectType: 'multi-state-output', bacnetAddress: 8 } },
  { id: '9', type: 'uint16', visitor: { bacnetType: 19, bacnetAddress: 9 } },
  { id: '10', type: 'int32', visitor: { objectType: 'integer-value', bacnetAddress: 10 } },
  { id: '11', type: 'uint32', visitor: { objectType: 'positive-integer-value', bacnetAddress: 11 } },
  { id: '12', type: 'string', visitor: { objectType: 'characterstring-value', bacnetAddress: 12 } },
];
const GEN = {
  p1: { kind: 'constant', value: 21.5 },
  p2: { kind: 'constant', value: 42.25 },
  p3: { kind: 'constant', value: -3.5 },
  p4: { kind: 'constant', value: true },
  p5: { kind: 'constant', value: false },
  p6: { kind: 'constant', value: true },
  p7: { kind: 'constant', value: 2 },
  p8: { kind: 'constant', value: 3 },
  p9: { kind: 'constant', value: 4 },
  p10: { kind: 'constant', value: -1234 },
  p11: { kind: 'constant', value: 70000 },
  p12: { kind: 'constant', value: 'hello BACnet' },
} as const;
const EXPECTED: Record<string, unknown> = { '1': 21.5, '2': 42.25, '3': -3.5, '4': true, '5': false, '6': true, '7': 2, '8': 3, '9': 4, '10': -1234, '11': 70000, '12': 'hello BACnet' };

let sim: BacnetSimulator;
let port: number;

before(async () => {
  const d = compiledDevice('all', SPECS, { deviceId: 1001, address: '127.0.0.1', port: 47808 });
  sim = await startBacnetSimulator({ devices: [d], port: 0, tickMs: 0, generators: { all: GEN } });
  port = sim.device('all').port;
});
after(() => sim.stop());

const access = (extra: Record<string, unknown> = {}) => ({ deviceId: 1001, address: '127.0.0.1', port, interface: '127.0.0.1', timeout: 500, retries: 0, ...extra });

test('bacnet read: every supported object type, in one ReadPropertyMultiple', async () => {
  const ctx = context();
  const c = dev('all', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, ctx);
  try {
    const sd = sim.device('all');
    const before = { ...sd.stats };
    const results = byId(await s.read(c, SPECS.map(pt), never()));
    for (const [id, want] of Object.entries(EXPECTED)) assert.deepEqual(valueOf(results.get(id)), want, `point ${id}`);
    for (const r of results.values()) assert.equal(r.quality, 'good');
    assert.equal(sd.stats.readPropertyMultiple - before.readPropertyMultiple, 1, 'one RPM for 12 points at max-APDU 1476');
    assert.equal(sd.stats.readProperty - before.readProperty, 0);
    assert.equal(s.requests.readPropertyMultiple, 1);
  } finally {
    await s.close();
  }
});

test('bacnet read: batches sized to a 206-octet max-APDU read from the device object', async () => {
  const small = await startBacnetSimulator({ devices: [compiledDevice('small', SPECS, { deviceId: 7, address: '127.0.0.1', port: 47808 })], port: 0, tickMs: 0, maxApdu: 206, generators: { small: GEN } });
  const ctx = context();
  const c = dev('small', { ...access(), deviceId: 7, port: small.device('small').port });
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, ctx);
  try {
    const points = SPECS.map(pt);
    const info = await s.deviceInfo(c, never());
    assert.equal(info.maxApdu, 206);
    const planned = s.planReads(c, points);
    const expected = planBatches(itemsOf(points, 0), { maxApdu: 206, segmentedReplies: false, maxPoints: 64, stringBudget: 64, statusFlags: true });
    assert.ok(planned.length >= 2, `a 206-octet APDU needs several requests, planned ${planned.length}`);
    assert.equal(planned.length, expected.length);
    let results = [];
    for (const block of planned) results.push(...(await s.read(c, block, never())));
    const r = byId(results);
    for (const [id, want] of Object.entries(EXPECTED)) assert.deepEqual(valueOf(r.get(id)), want, `point ${id}`);
    // Every planned request was answered (no abort: each fitted the device's APDU).
    assert.equal(small.device('small').stats.readPropertyMultiple, planned.length);
    assert.equal(s.requests.readPropertyMultiple, planned.length);
    results = [];
  } finally {
    await s.close();
    await small.stop();
  }
});

test('bacnet read: an answer too long for the device is aborted, and the batch is halved', async () => {
  const small = await startBacnetSimulator({ devices: [compiledDevice('tiny', SPECS, { deviceId: 8, address: '127.0.0.1', port: 47808 })], port: 0, tickMs: 0, maxApdu: 128, generators: { tiny: GEN } });
  const ctx = context();
  // maxApdu override claims 1476: the first RPM is too long for the real 128-octet device.
  const c = dev('tiny', { ...access(), deviceId: 8, port: small.device('tiny').port, maxApdu: 1476 });
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, ctx);
  try {
    const r = byId(await s.read(c, SPECS.map(pt), never()));
    for (const [id, want] of Object.entries(EXPECTED)) assert.deepEqual(valueOf(r.get(id)), want, `point ${id}`);
    assert.ok(small.device('tiny').stats.readPropertyMultiple > 2, 'split after the abort');
    assert.ok(ctx.warnings.length >= 1);
  } finally {
    await s.close();
    await small.stop();
  }
});

test('bacnet read: falls back to ReadProperty when the device rejects ReadPropertyMultiple', async () => {
  const sd = sim.device('all');
  sd.setFaults({ rejectRpm: true });
  const ctx = context();
  const c = dev('all', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, ctx);
  try {
    const before = { ...sd.stats };
    const r1 = byId(await s.read(c, SPECS.map(pt), never()));
    for (const [id, want] of Object.entries(EXPECTED)) assert.deepEqual(valueOf(r1.get(id)), want, `point ${id}`);
    assert.equal(sd.stats.readPropertyMultiple - before.readPropertyMultiple, 1, 'one rejected RPM');
    // 12 present-values + 12 status-flags, one ReadProperty each.
    assert.equal(sd.stats.readProperty - before.readProperty, 24);
    const info = await s.deviceInfo(c, never());
    assert.equal(info.rpm, 'no');
    // Later reads go straight to ReadProperty, and plans are one point per request.
    const mid = { ...sd.stats };
    await s.read(c, SPECS.slice(0, 2).map(pt), never());
    assert.equal(sd.stats.readPropertyMultiple, mid.readPropertyMultiple);
    assert.equal(s.planReads(c, SPECS.map(pt)).length, SPECS.length);
    assert.ok(ctx.warnings.some((w) => JSON.stringify(w).includes('"deviceId":1001')));
  } finally {
    sd.setFaults({ rejectRpm: false });
    await s.close();
  }
});

test('bacnet read: unknown object or property is a bad result with the error class/code, the rest is good', async () => {
  const c = dev('all', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    const points = [
      pt({ id: '1', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 1 } }),
      pt({ id: '99', type: 'float32', visitor: { bacnetType: 2, bacnetAddress: 999 } }),
      pt({ id: '98', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 1, propertyId: 'priority-array', arrayIndex: 3 } }),
      pt({ id: '97', type: 'string', visitor: { bacnetType: 0, bacnetAddress: 1, propertyId: 'object-name' } }),
    ];
    for (const rpm of ['auto', 'never'] as const) {
      const c2 = dev('all', access({ rpm }));
      const r = byId(await s.read(c2, points, never()));
      assert.equal(valueOf(r.get('1')), 21.5, rpm);
      assert.equal(valueOf(r.get('97')), 'p1', rpm);
      const bad = r.get('99');
      assert.ok(bad !== undefined && bad.quality === 'bad', rpm);
      assert.equal(bad.error.code, 'BadAddress');
      assert.deepEqual({ c: bad.error.detail?.errorClass, k: bad.error.detail?.errorCode }, { c: 1, k: 31 }, 'object / unknown-object');
      const bad2 = r.get('98');
      assert.ok(bad2 !== undefined && bad2.quality === 'bad');
      assert.equal(bad2.error.detail?.errorCode, 32, 'analog-input has no priority-array: unknown-property');
    }
    void c;
  } finally {
    await s.close();
  }
});

test('bacnet read: status flags as quality (fault → bad, out-of-service/overridden → uncertain, in-alarm → good)', async () => {
  const sd = sim.device('all');
  const c = dev('all', access());
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  try {
    sd.setFlags('p1', { fault: true });
    sd.setFlags('p2', { outOfService: true });
    sd.setFlags('p3', { overridden: true });
    sd.setFlags('p4', { inAlarm: true });
    const flagsPoint = pt({ id: '50', type: 'uint16', visitor: { bacnetType: 0, bacnetAddress: 1, propertyId: 'status-flags' } });
    for (const rpm of ['auto', 'never'] as const) {
      const r = byId(await s.read(dev('all', access({ rpm })), [...SPECS.slice(0, 5).map(pt), flagsPoint], never()));
      const r1 = r.get('1')!;
      assert.equal(r1.quality, 'bad', rpm);
      assert.ok(r1.quality === 'bad' && r1.error.code === 'Exception' && r1.error.detail?.statusFlags === 2);
      assert.equal(r.get('2')!.quality, 'uncertain');
      assert.equal(valueOf(r.get('2')), 42.25);
      assert.equal(r.get('3')!.quality, 'uncertain');
      assert.equal(r.get('4')!.quality, 'good');
      assert.equal(r.get('5')!.quality, 'good');
      assert.equal(valueOf(r.get('50')), 2, 'the flags as a number: bit 1 = fault');
    }
    // statusFlags: false reads no flags: the faulty point reads good.
    const r = byId(await s.read(dev('all', access({ statusFlags: false })), [pt(SPECS[0]!)], never()));
    assert.equal(r.get('1')!.quality, 'good');
  } finally {
    for (const p of ['p1', 'p2', 'p3', 'p4']) sd.setFlags(p, { fault: false, outOfService: false, overridden: false, inAlarm: false });
    await s.close();
  }
});

test('bacnet read: the device found by Who-Is (unicast on loopback), and malformed datagrams crash nothing', async () => {
  const c = dev('all', { deviceId: 1001, broadcastAddress: `127.0.0.1:${port}`, interface: '127.0.0.1', timeout: 500, retries: 0 });
  const s = await BacnetSession.open(c.connection, { signal: never(), onLost: () => undefined }, context());
  const sock = dgram.createSocket('udp4');
  try {
    const info = await s.deviceInfo(c, never());
    assert.equal(info.endpoint, `127.0.0.1:${port}`);
    assert.equal(s.requests.whoIs, 1);
    // Garbage, a truncated BVLC, and a confirmed request cut after its header, to both ends.
    const junk = [Buffer.from('hello'), Buffer.from([0x81, 0x0a, 0x00]), Buffer.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x04, 0x00, 0x05, 0x01]), Buffer.from([0x81, 0x0a, 0x00, 0x0a, 0x01, 0x00, 0x30, 0x01, 0x0e, 0x0c])];
    for (const to of [port, s.localAddress!.port]) for (const j of junk) await new Promise<void>((r) => sock.send(j, to, '127.0.0.1', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    const r = byId(await s.read(c, [pt(SPECS[0]!)], never()));
    assert.equal(valueOf(r.get('1')), 21.5);
  } finally {
    sock.close();
    await s.close();
  }
});
