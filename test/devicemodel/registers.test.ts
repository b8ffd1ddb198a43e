import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesToRegisters,
  decodeRegisters,
  encodeRegisters,
  registersToBytes,
} from '../../src/devicemodel/codec/registers.ts';
import type { ByteOrder, PointType, PointValue } from '../../src/devicemodel/types.ts';

/** "4142 4300" -> [0x4142, 0x4300] */
const regs = (hex: string): number[] => hex.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16));
const ORDERS: ByteOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

/**
 * Wire registers per order. Modbus Application Protocol v1.1b3 §4.2: registers are big-endian
 * (ABCD). The others follow the usual naming for 32-bit values (e.g. float32 123.456 =
 * 0x42F6E979: BADC = F642 79E9, CDAB = E979 42F6, DCBA = 79E9 F642), applied to 16 bits (byte swap
 * only) and 64 bits (CDAB reverses all four registers) by the same rule.
 */
const VECTORS: { type: PointType; value: PointValue; ABCD: string; BADC: string; CDAB: string; DCBA: string }[] = [
  { type: 'bool', value: true, ABCD: '0001', BADC: '0100', CDAB: '0001', DCBA: '0100' },
  { type: 'bool', value: false, ABCD: '0000', BADC: '0000', CDAB: '0000', DCBA: '0000' },
  { type: 'int16', value: -2, ABCD: 'FFFE', BADC: 'FEFF', CDAB: 'FFFE', DCBA: 'FEFF' },
  { type: 'int16', value: -32768, ABCD: '8000', BADC: '0080', CDAB: '8000', DCBA: '0080' },
  { type: 'int16', value: 32767, ABCD: '7FFF', BADC: 'FF7F', CDAB: '7FFF', DCBA: 'FF7F' },
  { type: 'uint16', value: 0x1234, ABCD: '1234', BADC: '3412', CDAB: '1234', DCBA: '3412' },
  { type: 'uint16', value: 65535, ABCD: 'FFFF', BADC: 'FFFF', CDAB: 'FFFF', DCBA: 'FFFF' },
  // int32 -123456789 = 0xF8A432EB
  { type: 'int32', value: -123456789, ABCD: 'F8A4 32EB', BADC: 'A4F8 EB32', CDAB: '32EB F8A4', DCBA: 'EB32 A4F8' },
  { type: 'int32', value: -2147483648, ABCD: '8000 0000', BADC: '0080 0000', CDAB: '0000 8000', DCBA: '0000 0080' },
  { type: 'int32', value: 2147483647, ABCD: '7FFF FFFF', BADC: 'FF7F FFFF', CDAB: 'FFFF 7FFF', DCBA: 'FFFF FF7F' },
  { type: 'uint32', value: 0xdeadbeef, ABCD: 'DEAD BEEF', BADC: 'ADDE EFBE', CDAB: 'BEEF DEAD', DCBA: 'EFBE ADDE' },
  { type: 'uint32', value: 4294967295, ABCD: 'FFFF FFFF', BADC: 'FFFF FFFF', CDAB: 'FFFF FFFF', DCBA: 'FFFF FFFF' },
  // float32 123.456 = 0x42F6E979 (IEEE 754 binary32)
  { type: 'float32', value: 123.45600128173828, ABCD: '42F6 E979', BADC: 'F642 79E9', CDAB: 'E979 42F6', DCBA: '79E9 F642' },
  { type: 'float32', value: 3.4028234663852886e38, ABCD: '7F7F FFFF', BADC: '7F7F FFFF', CDAB: 'FFFF 7F7F', DCBA: 'FFFF 7F7F' },
  { type: 'int64', value: 0x0102030405060708n, ABCD: '0102 0304 0506 0708', BADC: '0201 0403 0605 0807', CDAB: '0708 0506 0304 0102', DCBA: '0807 0605 0403 0201' },
  { type: 'int64', value: 2n ** 63n - 1n, ABCD: '7FFF FFFF FFFF FFFF', BADC: 'FF7F FFFF FFFF FFFF', CDAB: 'FFFF FFFF FFFF 7FFF', DCBA: 'FFFF FFFF FFFF FF7F' },
  { type: 'int64', value: -(2n ** 63n), ABCD: '8000 0000 0000 0000', BADC: '0080 0000 0000 0000', CDAB: '0000 0000 0000 8000', DCBA: '0000 0000 0000 0080' },
  { type: 'int64', value: -2n, ABCD: 'FFFF FFFF FFFF FFFE', BADC: 'FFFF FFFF FFFF FEFF', CDAB: 'FFFE FFFF FFFF FFFF', DCBA: 'FEFF FFFF FFFF FFFF' },
  { type: 'uint64', value: 0xffffffffffffffffn, ABCD: 'FFFF FFFF FFFF FFFF', BADC: 'FFFF FFFF FFFF FFFF', CDAB: 'FFFF FFFF FFFF FFFF', DCBA: 'FFFF FFFF FFFF FFFF' },
  { type: 'uint64', value: 0x8000000000000001n, ABCD: '8000 0000 0000 0001', BADC: '0080 0000 0000 0100', CDAB: '0001 0000 0000 8000', DCBA: '0100 0000 0000 0080' },
  // float64 pi = 0x400921FB54442D18 (IEEE 754 binary64)
  { type: 'float64', value: Math.PI, ABCD: '4009 21FB 5444 2D18', BADC: '0940 FB21 4454 182D', CDAB: '2D18 5444 21FB 4009', DCBA: '182D 4454 FB21 0940' },
  { type: 'float64', value: 1e300, ABCD: '7E37 E43C 8800 759C', BADC: '377E 3CE4 0088 9C75', CDAB: '759C 8800 E43C 7E37', DCBA: '9C75 0088 3CE4 377E' },
  // strings: 2 chars per register, high byte first; BADC/DCBA swap the chars, word order does not apply
  { type: 'string', value: 'ABC', ABCD: '4142 4300', BADC: '4241 0043', CDAB: '4142 4300', DCBA: '4241 0043' },
];

for (const v of VECTORS) {
  for (const order of ORDERS) {
    test(`decode/encode ${v.type} ${String(v.value)} ${order}`, () => {
      const wire = regs(v[order]);
      const d = decodeRegisters(wire, v.type, order);
      assert.deepEqual(d, { kind: 'ok', value: v.value, consumed: wire.length });
      const e = encodeRegisters(v.value, v.type, order, { quantity: v.type === 'string' ? wire.length : undefined });
      assert.deepEqual(e, { kind: 'ok', value: wire });
    });
  }
}

test('registersToBytes / bytesToRegisters are big-endian per register', () => {
  assert.deepEqual([...registersToBytes([0x1234, 0xabcd, 0])], [0x12, 0x34, 0xab, 0xcd, 0, 0]);
  assert.deepEqual(bytesToRegisters(Uint8Array.from([0x12, 0x34, 0xab, 0xcd])), [0x1234, 0xabcd]);
  // odd byte count: the last byte is the high byte of a final register
  assert.deepEqual(bytesToRegisters(Uint8Array.from([0x12, 0x34, 0x56])), [0x1234, 0x5600]);
  assert.deepEqual(bytesToRegisters(registersToBytes(Uint16Array.from([1, 65535, 256]))), [1, 65535, 256]);
});

test('float edge values: -0, NaN and Infinity decode as ok', () => {
  const negZero = decodeRegisters(regs('8000 0000'), 'float32', 'ABCD');
  assert.equal(negZero.kind, 'ok');
  assert.ok(negZero.kind === 'ok' && Object.is(negZero.value, -0));
  const negZero64 = decodeRegisters(regs('0000 0000 0000 8000'), 'float64', 'CDAB');
  assert.ok(negZero64.kind === 'ok' && Object.is(negZero64.value, -0));
  assert.deepEqual(encodeRegisters(-0, 'float32', 'ABCD'), { kind: 'ok', value: [0x8000, 0] });
  const nan = decodeRegisters(regs('7FC0 0000'), 'float32', 'ABCD');
  assert.ok(nan.kind === 'ok' && Number.isNaN(nan.value));
  assert.deepEqual(decodeRegisters(regs('7F80 0000'), 'float32', 'ABCD'), { kind: 'ok', value: Infinity, consumed: 2 });
  assert.deepEqual(decodeRegisters(regs('FFF0 0000 0000 0000'), 'float64', 'ABCD'), { kind: 'ok', value: -Infinity, consumed: 4 });
  // writing a non-finite float to a device is refused
  assert.match(errorOf(encodeRegisters(NaN, 'float32', 'ABCD')), /finite/);
  assert.match(errorOf(encodeRegisters(Infinity, 'float64', 'ABCD')), /finite/);
  assert.match(errorOf(encodeRegisters(1e39, 'float32', 'ABCD')), /out of the float32 range/);
});

function errorOf(r: { kind: string; error?: string }): string {
  assert.equal(r.kind, 'error', `expected an error, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return r.error ?? '';
}

test('integer encode range checks name the range', () => {
  assert.equal(errorOf(encodeRegisters(70000, 'int16', 'ABCD')), '70000 is out of the int16 range [-32768, 32767]');
  assert.equal(errorOf(encodeRegisters(-1, 'uint16', 'ABCD')), '-1 is out of the uint16 range [0, 65535]');
  assert.match(errorOf(encodeRegisters(2147483648, 'int32', 'ABCD')), /int32 range \[-2147483648, 2147483647\]/);
  assert.match(errorOf(encodeRegisters(4294967296, 'uint32', 'ABCD')), /uint32 range/);
  assert.match(errorOf(encodeRegisters(2n ** 63n, 'int64', 'ABCD')), /int64 range \[-9223372036854775808, 9223372036854775807\]/);
  assert.match(errorOf(encodeRegisters(2n ** 64n, 'uint64', 'ABCD')), /uint64 range \[0, 18446744073709551615\]/);
  assert.match(errorOf(encodeRegisters(-1n, 'uint64', 'ABCD')), /uint64 range/);
  assert.equal(errorOf(encodeRegisters(1.5, 'int16', 'ABCD')), 'int16 needs an integer, got 1.5');
  assert.match(errorOf(encodeRegisters('12', 'int32', 'ABCD')), /needs an integer, got string "12"/);
  assert.match(errorOf(encodeRegisters(NaN, 'uint16', 'ABCD')), /needs an integer/);
});

test('64-bit types accept number or bigint; small types accept bigint and booleans', () => {
  assert.deepEqual(encodeRegisters(1, 'uint64', 'ABCD'), { kind: 'ok', value: [0, 0, 0, 1] });
  assert.deepEqual(encodeRegisters(-1, 'int64', 'CDAB'), { kind: 'ok', value: [0xffff, 0xffff, 0xffff, 0xffff] });
  assert.deepEqual(encodeRegisters(2 ** 53, 'int64', 'ABCD'), { kind: 'ok', value: [0x0020, 0, 0, 0] });
  assert.deepEqual(encodeRegisters(300n, 'int16', 'ABCD'), { kind: 'ok', value: [300] });
  assert.deepEqual(encodeRegisters(true, 'uint16', 'ABCD'), { kind: 'ok', value: [1] });
  assert.deepEqual(encodeRegisters(12n, 'float32', 'ABCD'), { kind: 'ok', value: [0x4140, 0] });
});

test('bool: register != 0, or one bit of it', () => {
  assert.deepEqual(decodeRegisters([0x8000], 'bool', 'ABCD'), { kind: 'ok', value: true, consumed: 1 });
  assert.deepEqual(decodeRegisters([0x0004], 'bool', 'ABCD', { bit: 2 }), { kind: 'ok', value: true, consumed: 1 });
  assert.deepEqual(decodeRegisters([0x0004], 'bool', 'ABCD', { bit: 1 }), { kind: 'ok', value: false, consumed: 1 });
  assert.deepEqual(decodeRegisters([0x8000], 'bool', 'ABCD', { bit: 15 }), { kind: 'ok', value: true, consumed: 1 });
  assert.deepEqual(decodeRegisters([0x0001], 'bool', 'ABCD', { bit: 0 }), { kind: 'ok', value: true, consumed: 1 });
  // with BADC the register's bytes are swapped before the bit is taken: wire 0x0100 = value 0x0001
  assert.deepEqual(decodeRegisters([0x0100], 'bool', 'BADC', { bit: 0 }), { kind: 'ok', value: true, consumed: 1 });
  assert.match(errorOf(decodeRegisters([1], 'bool', 'ABCD', { bit: 16 })), /bit must be an integer 0\.\.15/);
});

test('bool bit writes keep the other bits of the current value', () => {
  assert.deepEqual(encodeRegisters(true, 'bool', 'ABCD', { bit: 3, current: 0x1200 }), { kind: 'ok', value: [0x1208] });
  assert.deepEqual(encodeRegisters(false, 'bool', 'ABCD', { bit: 15, current: 0xffff }), { kind: 'ok', value: [0x7fff] });
  assert.deepEqual(encodeRegisters(true, 'bool', 'BADC', { bit: 0, current: 0x0012 }), { kind: 'ok', value: [0x0112] });
  assert.deepEqual(encodeRegisters(1, 'bool', 'ABCD'), { kind: 'ok', value: [1] });
  assert.match(errorOf(encodeRegisters(true, 'bool', 'ABCD', { bit: 3 })), /needs the register's current value/);
  assert.match(errorOf(encodeRegisters(2, 'bool', 'ABCD')), /bool needs true\/false/);
  assert.match(errorOf(encodeRegisters(true, 'bool', 'ABCD', { bit: -1, current: 0 })), /bit must be/);
});

test('truncated input is incomplete, bad register values are errors', () => {
  for (const [type, n] of [['int16', 1], ['int32', 2], ['float32', 2], ['uint64', 4], ['float64', 4]] as const) {
    assert.deepEqual(decodeRegisters(new Array<number>(n - 1).fill(0), type, 'ABCD'), { kind: 'incomplete' }, type);
  }
  assert.deepEqual(decodeRegisters([], 'bool', 'ABCD'), { kind: 'incomplete' });
  assert.deepEqual(decodeRegisters([0x4142], 'string', 'ABCD', { quantity: 2 }), { kind: 'incomplete' });
  assert.deepEqual(decodeRegisters([], 'string', 'ABCD'), { kind: 'incomplete' });
  assert.match(errorOf(decodeRegisters([70000], 'uint16', 'ABCD')), /register 0 is 70000, not a 16-bit unsigned integer/);
  assert.match(errorOf(decodeRegisters([1, -1], 'int32', 'ABCD')), /register 1 is -1/);
});

test('a decoder consumes only what its type needs', () => {
  assert.deepEqual(decodeRegisters([0x4120, 0x0000, 0x9999], 'float32', 'ABCD'), { kind: 'ok', value: 10, consumed: 2 });
  assert.deepEqual(decodeRegisters([0x4142, 0x4344, 0x4546], 'string', 'ABCD', { quantity: 2 }), { kind: 'ok', value: 'ABCD', consumed: 2 });
});

test('strings: trimming, utf16, padding and overflow', () => {
  assert.deepEqual(decodeRegisters(regs('4869 2020 0000'), 'string', 'ABCD'), { kind: 'ok', value: 'Hi', consumed: 3 });
  assert.deepEqual(decodeRegisters(regs('4100 4200'), 'string', 'ABCD'), { kind: 'ok', value: 'A\0B', consumed: 2 });
  // utf16: one UTF-16 code unit per register ("温度" = U+6E29 U+5EA6)
  assert.deepEqual(decodeRegisters(regs('6E29 5EA6 0000'), 'string', 'ABCD', { encoding: 'utf16' }), { kind: 'ok', value: '温度', consumed: 3 });
  assert.deepEqual(decodeRegisters(regs('296E A65E'), 'string', 'BADC', { encoding: 'utf16' }), { kind: 'ok', value: '温度', consumed: 2 });
  assert.deepEqual(encodeRegisters('温度', 'string', 'ABCD', { encoding: 'utf16', quantity: 3 }), { kind: 'ok', value: [0x6e29, 0x5ea6, 0] });
  assert.deepEqual(encodeRegisters('Hi', 'string', 'ABCD', { quantity: 3 }), { kind: 'ok', value: [0x4869, 0, 0] });
  assert.deepEqual(encodeRegisters('abc', 'string', 'ABCD'), { kind: 'ok', value: [0x6162, 0x6300] });
  assert.match(errorOf(encodeRegisters('abcde', 'string', 'ABCD', { quantity: 2 })), /5 chars does not fit 2 registers \(4 chars at most\)/);
  assert.match(errorOf(encodeRegisters('温', 'string', 'ABCD')), /does not fit one byte/);
  assert.match(errorOf(encodeRegisters(5, 'string', 'ABCD')), /string needs text/);
});

test('round trips over every type and order', () => {
  const samples: [PointType, PointValue[]][] = [
    ['int16', [-32768, -1, 0, 1, 32767]],
    ['uint16', [0, 1, 0x8000, 65535]],
    ['int32', [-2147483648, -1, 0, 65536, 2147483647]],
    ['uint32', [0, 65535, 65536, 4294967295]],
    ['int64', [-(2n ** 63n), -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]],
    ['uint64', [0n, 1n, 2n ** 32n, 2n ** 64n - 1n]],
    ['float32', [0, 1.5, -2.25, 1e-40 /* subnormal */, Math.fround(0.1)]],
    ['float64', [0, 0.1, -1e-310, Number.MAX_VALUE, Number.MIN_VALUE]],
    ['bool', [true, false]],
    ['string', ['', 'x', 'hello world']],
  ];
  for (const order of ORDERS) {
    for (const [type, values] of samples) {
      for (const value of values) {
        const e = encodeRegisters(value, type, order, { quantity: type === 'string' ? 6 : undefined });
        assert.equal(e.kind, 'ok', `${type} ${String(value)} ${order}`);
        if (e.kind !== 'ok') continue;
        const d = decodeRegisters(e.value, type, order);
        const expected = type === 'float32' ? Math.fround(value as number) : value;
        assert.deepEqual(d, { kind: 'ok', value: expected, consumed: e.value.length }, `${type} ${String(value)} ${order}`);
      }
    }
  }
});
