import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNumberAt, decodeRegisters } from '../../src/devicemodel/codec/registers.ts';
import type { ByteOrder, PointType } from '../../src/devicemodel/types.ts';

const TYPES: PointType[] = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'];
const ORDERS: ByteOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

/** An independent reference (Buffer reads, big-endian after the order transform), for ok decodes only. */
function reference(regs: readonly number[], type: PointType, order: ByteOrder, bit: number | undefined): unknown {
  const n = { bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4 }[type as 'bool'];
  const words = order === 'CDAB' || order === 'DCBA' ? regs.slice(0, n).reverse() : regs.slice(0, n);
  const b = Buffer.alloc(2 * n);
  words.forEach((w, i) => b.writeUInt16BE(order === 'BADC' || order === 'DCBA' ? ((w & 0xff) << 8) | (w >> 8) : w, 2 * i));
  switch (type) {
    case 'bool':
      return bit === undefined ? b.readUInt16BE(0) !== 0 : ((b.readUInt16BE(0) >> bit) & 1) === 1;
    case 'int16':
      return b.readInt16BE(0);
    case 'uint16':
      return b.readUInt16BE(0);
    case 'int32':
      return b.readInt32BE(0);
    case 'uint32':
      return b.readUInt32BE(0);
    case 'float32':
      return b.readFloatBE(0);
    case 'int64':
      return b.readBigInt64BE(0);
    case 'uint64':
      return b.readBigUInt64BE(0);
    default:
      return b.readDoubleBE(0);
  }
}

test('decodeNumberAt gives what decodeRegisters gives on the same registers, or undefined when that is not ok', () => {
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) & 0xffff;
  // Mostly valid registers, with a few that are not 16-bit integers (a malformed response).
  const regs: number[] = Array.from({ length: 40 }, (_, i) => (i % 13 === 7 ? [70000, -1, 1.5][i % 3]! : next()));
  let fast = 0;
  for (const type of TYPES) {
    for (const order of ORDERS) {
      for (const bit of [undefined, 0, 5, 15, 16, -1]) {
        for (let offset = 0; offset < regs.length; offset++) {
          for (const count of [0, 1, 2, 4, 5]) {
            const slice = regs.slice(offset, offset + count);
            const want = decodeRegisters(slice, type, order, bit === undefined ? {} : { bit });
            const got = decodeNumberAt(regs, offset, count, type, order, bit);
            const where = `${type} ${order} bit ${bit} at ${offset} count ${count}`;
            if (want.kind === 'ok' && type !== 'string') {
              assert.ok(Object.is(got, want.value), `${where}: ${String(got)} vs ${String(want.value)}`);
              assert.ok(Object.is(got, reference(slice, type, order, bit)), `${where}: ${String(got)} vs the reference`);
              fast++;
            } else {
              assert.equal(got, undefined, where);
            }
          }
        }
      }
    }
  }
  assert.ok(fast > 1000, `the fast path decoded ${fast} values`);
});

test('decodeNumberAt: the byte orders of a float32 (IEEE 754 1.5 = 0x3FC00000)', () => {
  // ABCD on the wire: 0x3FC0 0x0000; CDAB swaps the words, BADC the bytes, DCBA both.
  assert.equal(decodeNumberAt([0x3fc0, 0x0000], 0, 2, 'float32', 'ABCD', undefined), 1.5);
  assert.equal(decodeNumberAt([0x0000, 0x3fc0], 0, 2, 'float32', 'CDAB', undefined), 1.5);
  assert.equal(decodeNumberAt([0xc03f, 0x0000], 0, 2, 'float32', 'BADC', undefined), 1.5);
  assert.equal(decodeNumberAt([0x0000, 0xc03f], 0, 2, 'float32', 'DCBA', undefined), 1.5);
  assert.equal(decodeNumberAt([9, 0x3fc0, 0x0000], 1, 2, 'float32', 'ABCD', undefined), 1.5);
});
