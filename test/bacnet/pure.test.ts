import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bacnetAddressSchema, bacnetConnectionSchema, bacnetLinkKey, checkBacnetPoint } from '../../src/drivers/bacnet/address.ts';
import { toBacnetError, isServiceUnsupported, isTooLong } from '../../src/drivers/bacnet/errors.ts';
import { batchOctets, itemsOf, planBatches } from '../../src/drivers/bacnet/plan.ts';
import { decodeValues, encodeWrite, errorFromClassCode, qualityFromFlags, writeTag } from '../../src/drivers/bacnet/values.ts';
import { ARRAY_ALL } from '../../src/drivers/bacnet/constants.ts';
import { ackOctets } from '../../simulators/bacnet/encode.ts';
import { pt } from './helpers.ts';

test('bacnet address: Baetyl keys, names, defaults; offsets and link keys', () => {
  const a = bacnetAddressSchema.parse({ bacnetType: 2, bacnetAddress: 7, applicationTagNumber: 4, type: 'float32' });
  assert.deepEqual([a.objectType, a.instance, a.propertyId, a.tag, a.priority], [2, 7, 85, 4, undefined]);
  const b = bacnetAddressSchema.parse({ objectType: 'multi-state-value', bacnetAddress: '0x10', propertyId: 'status-flags', priority: 8, applicationTagNumber: 0 });
  assert.deepEqual([b.objectType, b.instance, b.propertyId, b.priority, b.tag], [19, 16, 111, 8, undefined]);
  assert.equal(bacnetAddressSchema.safeParse({ bacnetAddress: 1 }).success, false, 'a type is required');
  assert.equal(bacnetAddressSchema.safeParse({ bacnetType: 1, objectType: 'analog-output', bacnetAddress: 1 }).success, false, 'not both');
  assert.equal(bacnetAddressSchema.safeParse({ bacnetType: 1, bacnetAddress: 1, priority: 17 }).success, false);
  const c = bacnetConnectionSchema.parse({ deviceId: 1234, address: '10.0.0.5', interval: '2s', addressOffset: 100 });
  assert.deepEqual([c.port, c.interval, c.timeout, c.priority, c.localPort, c.rpm, c.cov.lifetime, c.cov.confirmed], [47808, 2000, 3000, 16, 0, 'auto', 300_000, false]);
  assert.equal(bacnetLinkKey(c), 'device:1234@10.0.0.5:47808');
  assert.equal(bacnetLinkKey(bacnetConnectionSchema.parse({ deviceId: 1, localPort: 47808, interface: '127.0.0.1' })), 'udp:127.0.0.1:47808');
  assert.deepEqual(itemsOf([pt({ id: '1', type: 'float32', visitor: { bacnetType: 0, bacnetAddress: 5 } })], 100).map((i) => i.instance), [105]);
  const problems = checkBacnetPoint(pt({ id: '1', type: 'float32', visitor: { objectType: 'characterstring-value', bacnetAddress: 1, type: 'int16' } }));
  assert.deepEqual(problems.map((p) => p.path.join('.')), ['visitor.bacnet.type', 'type']);
});

test('bacnet values: write tags by object type (ASHRAE 135 §12) and encodings', () => {
  const tag = (v: Record<string, unknown>, type: 'float32' | 'bool' | 'int32' | 'string' = 'float32') => writeTag(bacnetAddressSchema.parse({ bacnetAddress: 1, ...v }), type);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 13, 14, 19, 45, 48, 40, 46].map((t) => tag({ bacnetType: t })), [4, 4, 4, 9, 9, 9, 2, 2, 2, 3, 2, 7, 5]);
  assert.equal(tag({ bacnetType: 4, applicationTagNumber: 1 }), 1, 'Baetyl applicationTagNumber wins');
  assert.equal(tag({ bacnetType: 8, propertyId: 28 }, 'string'), 7, 'other properties: by point type');
  assert.equal(tag({ bacnetType: 2, propertyId: 'out-of-service' }, 'bool'), 1);
  const enc = (t: number, type: 'float32' | 'bool' | 'uint16' | 'int32', v: number | boolean) => encodeWrite(bacnetAddressSchema.parse({ bacnetType: t, bacnetAddress: 1 }), type, v);
  assert.deepEqual(enc(4, 'bool', true), { kind: 'ok', value: { type: 9, value: 1 } });
  assert.deepEqual(enc(14, 'uint16', 3), { kind: 'ok', value: { type: 2, value: 3 } });
  assert.equal(enc(14, 'uint16', -1).kind, 'error');
  assert.equal(enc(45, 'int32', 1.5).kind, 'error');
});

test('bacnet values: decoding, status flags rule, error class/code', () => {
  assert.deepEqual(decodeValues([{ type: 4, value: 21.5 }], 'float32'), { kind: 'ok', value: 21.5 });
  assert.deepEqual(decodeValues([{ type: 9, value: 1 }], 'bool'), { kind: 'ok', value: true });
  assert.deepEqual(decodeValues([{ type: 2, value: 70000 }], 'uint64'), { kind: 'ok', value: 70000n });
  assert.equal(decodeValues([{ type: 2, value: 70000 }], 'uint16').kind, 'error');
  assert.deepEqual(decodeValues([{ type: 8, value: { bitsUsed: 4, value: [0b1010] } }], 'uint16'), { kind: 'ok', value: 10 });
  const e = decodeValues([{ type: 105, value: { errorClass: 1, errorCode: 31 } }], 'float32');
  assert.ok(e.kind === 'error' && e.error.code === 'BadAddress' && e.error.message === 'BACnet error object/unknown-object');
  assert.equal(decodeValues([{ type: 4, value: 1 }, { type: 4, value: 2 }], 'float32').kind, 'error');
  assert.deepEqual([0, 1, 2, 4, 8, 0b1101].map((f) => qualityFromFlags(f).quality), ['good', 'good', 'bad', 'uncertain', 'uncertain', 'uncertain']);
  assert.equal(errorFromClassCode(2, 40).code, 'Unsupported');
  assert.equal(errorFromClassCode(2, 37).code, 'BadValue');
  assert.equal(errorFromClassCode(0, 0).code, 'Exception');
});

test('bacnet errors: library messages to coded errors', () => {
  assert.equal(toBacnetError(new Error('ERR_TIMEOUT')).code, 'Timeout');
  const e = toBacnetError(new Error('BacnetError - Class:5 - Code:67'));
  assert.equal(e.code, 'Unsupported');
  assert.ok(isServiceUnsupported(e));
  const r = toBacnetError(new Error('BacnetAbort - Reason:9'));
  assert.ok(isServiceUnsupported(r) && !isTooLong(r));
  assert.ok(isTooLong(toBacnetError(new Error('BacnetAbort - Reason:4'))));
  assert.equal(toBacnetError(new Error('INVALID_DECODING')).code, 'Protocol');
});

test('bacnet plan: the size estimate bounds the exact encoding, and batches respect the APDU', () => {
  const points = [
    ...Array.from({ length: 40 }, (_, i) => pt({ id: `a${i}`, type: 'float32', visitor: { bacnetType: i % 3, bacnetAddress: i } })),
    ...Array.from({ length: 10 }, (_, i) => pt({ id: `s${i}`, type: 'string', visitor: { objectType: 'characterstring-value', bacnetAddress: i } })),
    ...Array.from({ length: 10 }, (_, i) => pt({ id: `m${i}`, type: 'uint32', visitor: { objectType: 'positive-integer-value', bacnetAddress: 100000 + i, arrayIndex: 300 } })),
  ];
  const items = itemsOf(points, 0);
  const limits = { maxApdu: 480, segmentedReplies: false, maxPoints: 64, stringBudget: 64, statusFlags: true };
  const batches = planBatches(items, limits);
  assert.ok(batches.length > 1);
  assert.equal(batches.flat().length, points.length);
  for (const b of batches) {
    const est = batchOctets(b, limits);
    assert.ok(est.reply <= 480 && est.request <= 480);
    // The exact acknowledgement with the largest values each property may hold.
    const byObj = new Map<string, { objectId: { type: number; instance: number }; values: { property: { id: number; index: number }; value: { type: number; value: unknown }[] }[] }>();
    for (const i of b) {
      const k = `${i.objectType}:${i.instance}`;
      let o = byObj.get(k);
      if (!o) byObj.set(k, (o = { objectId: { type: i.objectType, instance: i.instance }, values: [] }));
      const value = i.point.type === 'string' ? { type: 7, value: 'x'.repeat(64) } : i.objectType === 48 ? { type: 2, value: 0xffffffff } : { type: 4, value: 1.5 };
      o.values.push({ property: { id: i.propertyId, index: i.arrayIndex ?? ARRAY_ALL }, value: [value] });
      if (i.propertyId === 85 && !o.values.some((v) => v.property.id === 111)) o.values.push({ property: { id: 111, index: ARRAY_ALL }, value: [{ type: 8, value: { bitsUsed: 4, value: [15] } }] });
    }
    const exact = ackOctets([...byObj.values()]);
    assert.ok(exact <= est.reply, `exact ${exact} ≤ estimate ${est.reply}`);
    assert.ok(est.reply - exact < est.reply * 0.5, `estimate ${est.reply} is not wildly above ${exact}`);
  }
  assert.equal(planBatches(items, { ...limits, maxApdu: 1476, maxPoints: 7 }).every((b) => b.length <= 7), true);
});
