/** Configuration in Baetyl's keys (visitor/accessConfig iec104) and value conversions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIec104Point, iec104AddressSchema, iec104ConnectionSchema, resolveIoa } from '../../src/drivers/iec104/address.ts';
import { GOOD } from '../../src/drivers/iec104/codec/elements.ts';
import { cp56FromEpoch } from '../../src/drivers/iec104/codec/time.ts';
import { toCommand, toReadResult } from '../../src/drivers/iec104/values.ts';
import type { HeldValue } from '../../src/drivers/iec104/values.ts';

const conn = (extra: Record<string, unknown> = {}) => iec104ConnectionSchema.parse({ endpoint: '127.0.0.1:2404', ...extra });
const addr = (v: Record<string, unknown>) => iec104AddressSchema.parse(v);

test("Baetyl's IOA rule: pointNum + offset + start (DI 0x1, AI 0x4001, PI 0x6401, DO 0x6001, AO 0x6201)", () => {
  const c = conn({ aiOffset: 10, diOffset: 1, aoOffset: 2, doOffset: 3, piOffset: 4 });
  assert.equal(resolveIoa(addr({ pointNum: 1, pointType: 'AI', type: 'float32' }), c), 0x4001 + 10 + 1);
  assert.equal(resolveIoa(addr({ pointNum: 0, pointType: 'DI', type: 'bool' }), c), 0x1 + 1);
  assert.equal(resolveIoa(addr({ pointNum: 0, pointType: 'AO' }), c), 0x6201 + 2);
  assert.equal(resolveIoa(addr({ pointNum: 0, pointType: 'DO' }), c), 0x6001 + 3);
  assert.equal(resolveIoa(addr({ pointNum: 0, pointType: 'PI' }), c), 0x6401 + 4);
  assert.equal(resolveIoa(addr({ pointNum: 5, pointType: 'AI' }), conn({ starts: { AI: 100 } })), 105);
  assert.equal(resolveIoa(addr({ ioa: '0x10', typeId: 'M_ME_NC_1' }), c), 16);
});

test('connection defaults: standard timers and windows, Baetyl interval 900 s, GI period = interval', () => {
  const c = conn({ interval: '5s' });
  assert.deepEqual([c.k, c.w, c.t0, c.t1, c.t2, c.t3], [12, 8, 30_000, 15_000, 10_000, 20_000]);
  assert.deepEqual([c.cotSize, c.caSize, c.ioaSize, c.commonAddress], [2, 2, 3, 1]);
  assert.equal(c.interrogationInterval, 5000);
  assert.equal(conn().interval, 900_000);
  assert.deepEqual(c.endpoint, { host: '127.0.0.1', port: 2404 });
  assert.deepEqual(conn({ endpoint: '[::1]:2405' }).endpoint, { host: '::1', port: 2405 });
  assert.deepEqual(conn({ endpoint: 'rtu-7' }).endpoint, { host: 'rtu-7', port: 2404 });
});

test('connection errors name the rule', () => {
  const bad = (v: Record<string, unknown>, re: RegExp) => {
    const r = iec104ConnectionSchema.safeParse({ endpoint: '127.0.0.1:2404', ...v });
    assert.equal(r.success, false);
    if (!r.success) assert.match(JSON.stringify(r.error.issues), re);
  };
  bad({ w: 13 }, /must not exceed k/);
  bad({ t2: '20s' }, /shorter than t1/);
  bad({ caSize: 1, commonAddress: 300 }, /does not fit caSize/);
  bad({ endpoint: 'a:b:c' }, /not host:port/);
  bad({ nonsense: 1 }, /nonsense/);
});

test('address: pointNum needs pointType; typeId must suit the point type; commands default by type', () => {
  assert.equal(iec104AddressSchema.safeParse({ pointNum: 1 }).success, false);
  assert.equal(iec104AddressSchema.safeParse({ pointNum: 1, ioa: 3, pointType: 'AI' }).success, false);
  const r = iec104AddressSchema.safeParse({ pointNum: 1, pointType: 'DI', typeId: 13 });
  assert.equal(r.success, false);
  assert.equal(iec104AddressSchema.safeParse({ ioa: 1, typeId: 'M_XX' }).success, false);
  assert.equal(addr({ pointNum: 0, pointType: 'DO' }).commandType, 45);
  assert.equal(addr({ pointNum: 0, pointType: 'DO', typeId: 3 }).commandType, 46);
  assert.equal(addr({ pointNum: 0, pointType: 'AO' }).commandType, 50);
  assert.equal(addr({ pointNum: 0, pointType: 'AO', typeId: 'M_ME_NB_1' }).commandType, 49);
  assert.equal(addr({ pointNum: 0, pointType: 'AI' }).commandType, undefined);
  assert.equal(addr({ ioa: 7, typeId: 1, commandType: 'C_SC_TA_1' }).commandType, 58);
  assert.deepEqual(addr({ pointNum: 0, pointType: 'AI' }).families, ['normalized', 'scaled', 'float', 'step', 'bitstring']);
});

test('checkPoint flags a visitor type that differs from the property type', () => {
  const a = addr({ pointNum: 0, pointType: 'AO', type: 'float32', commandType: 50 });
  assert.deepEqual(checkIec104Point({ id: '1', name: 'x', type: 'float32', address: a }), []);
  assert.equal(checkIec104Point({ id: '1', name: 'x', type: 'bool', address: a }).length, 2);
});

const held = (typeId: number, element: HeldValue['object']['element'], time?: HeldValue['object']['time']): HeldValue => ({ typeId, object: time === undefined ? { ioa: 9, element } : { ioa: 9, element, time }, receivedAt: 1000 });

test('values and quality: bool, double points, normalized, time tags, IV/NT/family mismatch', () => {
  const at = Date.UTC(2024, 4, 17, 13, 45, 30, 250);
  assert.deepEqual(toReadResult('a', 'bool', ['single'], held(1, { kind: 'single', value: true, quality: GOOD })), { id: 'a', quality: 'good', value: true, ts: 1000 });
  assert.deepEqual(toReadResult('a', 'bool', ['double'], held(31, { kind: 'double', value: 2, quality: GOOD }, cp56FromEpoch(at))), { id: 'a', quality: 'good', value: true, ts: at });
  assert.equal(toReadResult('a', 'bool', ['double'], held(3, { kind: 'double', value: 3, quality: GOOD })).quality, 'bad');
  assert.deepEqual(toReadResult('a', 'int16', ['double'], held(3, { kind: 'double', value: 3, quality: GOOD })), { id: 'a', quality: 'good', value: 3, ts: 1000 });
  assert.equal((toReadResult('a', 'float32', ['normalized'], held(9, { kind: 'normalized', raw: 16384, quality: GOOD })) as { value: number }).value, 0.5);
  assert.equal((toReadResult('a', 'int16', ['normalized'], held(9, { kind: 'normalized', raw: 16384, quality: GOOD })) as { value: number }).value, 16384);
  assert.equal((toReadResult('a', 'int64', ['counter'], held(15, { kind: 'counter', value: -5, sequence: 0, carry: false, adjusted: false, invalid: false })) as { value: bigint }).value, -5n);
  const iv = toReadResult('a', 'float32', ['float'], held(13, { kind: 'float', value: 1, quality: { ...GOOD, invalid: true } }));
  assert.equal(iv.quality === 'bad' && iv.error.code, 'Exception');
  assert.equal(toReadResult('a', 'float32', ['float'], held(13, { kind: 'float', value: 1, quality: { ...GOOD, notTopical: true } })).quality, 'uncertain');
  const mismatch = toReadResult('a', 'float32', ['float'], held(1, { kind: 'single', value: true, quality: GOOD }));
  assert.equal(mismatch.quality === 'bad' && mismatch.error.code, 'Protocol');
  assert.equal(toReadResult('a', 'int16', ['float'], held(13, { kind: 'float', value: 1e6, quality: GOOD })).quality, 'bad');
  // A time tag with IV falls back to the receive time.
  assert.equal(toReadResult('a', 'bool', ['single'], held(30, { kind: 'single', value: true, quality: GOOD }, cp56FromEpoch(at, 0, { invalid: true }))).ts, 1000);
});

test('command elements from written values, and refusals', () => {
  assert.deepEqual(toCommand(45, 'bool', true, true), { kind: 'singleCommand', value: true, qualifier: 0, select: true });
  assert.deepEqual(toCommand(46, 'bool', false, false), { kind: 'doubleCommand', value: 1, qualifier: 0, select: false });
  assert.deepEqual(toCommand(48, 'float32', -0.5, false), { kind: 'setpointNormalized', raw: -16384, qualifier: 0, select: false });
  assert.deepEqual(toCommand(49, 'int16', 12.6, false), { kind: 'setpointScaled', value: 13, qualifier: 0, select: false });
  assert.deepEqual(toCommand(63, 'float32', 2.5, false), { kind: 'setpointFloat', value: 2.5, qualifier: 0, select: false });
  assert.deepEqual(toCommand(51, 'uint32', 0xffffffff, false), { kind: 'bitstringCommand', value: 0xffffffff });
  assert.equal(typeof toCommand(45, 'int16', 5, false), 'string');
  assert.equal(typeof toCommand(46, 'int16', 3, false), 'string');
  assert.equal(typeof toCommand(48, 'float32', 2, false), 'string');
  assert.equal(typeof toCommand(49, 'int16', 40000, false), 'string');
  assert.equal(typeof toCommand(50, 'float32', 'abc', false), 'string');
});
