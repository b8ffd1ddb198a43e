/**
 * Pure parts of the driver: the write plan (FC5/FC15/FC6/FC16, Modbus Application Protocol
 * V1.1b3 §6.5, §6.6, §6.11, §6.12), decoding a block into per-point results, and the mapping of
 * modbus-serial errors to DriverError codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planWrite } from '../../src/drivers/modbus/writes.ts';
import { decodeBlock } from '../../src/drivers/modbus/decode.ts';
import { toModbusError } from '../../src/drivers/modbus/errors.ts';
import { blockOf } from '../../src/drivers/modbus/plan.ts';
import type { PointValue } from '../../src/drivers/sdk/index.ts';
import { pt } from './helpers.ts';

const hex = (vs: readonly number[]) => vs.map((v) => v.toString(16).padStart(4, '0')).join(' ');

const writeCases: { name: string; point: ReturnType<typeof pt>; value: PointValue; current?: number; want: string }[] = [
  { name: 'coil, default FC5', point: pt('c', 'bool', { function: 1, address: 3 }), value: true, want: 'FC5 3 [true]' },
  { name: 'coil as 0', point: pt('c', 'bool', { function: 1, address: 3 }), value: 0, want: 'FC5 3 [false]' },
  { name: 'coil, writeFunction 15', point: pt('c', 'bool', { function: 1, address: 3, writeFunction: 15 }), value: false, want: 'FC15 3 [false]' },
  { name: 'coil, not a bool', point: pt('c', 'bool', { function: 1, address: 3 }), value: 2, want: 'BadValue' },
  { name: 'uint16 -> FC6', point: pt('h', 'uint16', { function: 3, address: 10 }), value: 0xbeef, want: 'FC6 10 beef' },
  { name: 'float32 ABCD -> FC16', point: pt('h', 'float32', { function: 3, address: 10 }), value: 1.5, want: 'FC16 10 3fc0 0000' },
  { name: 'float32 CDAB', point: pt('h', 'float32', { function: 3, address: 10, byteOrder: 'CDAB' }), value: 1.5, want: 'FC16 10 0000 3fc0' },
  { name: 'int16, writeFunction 16', point: pt('h', 'int16', { function: 3, address: 1, writeFunction: 16 }), value: -1, want: 'FC16 1 ffff' },
  { name: 'int32, writeFunction 6 (one FC6 per register)', point: pt('h', 'int32', { function: 3, address: 1, writeFunction: 6 }), value: 65538, want: 'FC6 1 0001 0002' },
  { name: 'bool in a register without bit', point: pt('h', 'bool', { function: 3, address: 2 }), value: true, want: 'FC6 2 0001' },
  { name: 'bit without the current value asks for read-modify-write', point: pt('h', 'bool', { function: 3, address: 2, bit: 1 }), value: true, want: 'RMW 2' },
  { name: 'bit 1 set, other bits kept', point: pt('h', 'bool', { function: 3, address: 2, bit: 1 }), value: true, current: 0x8005, want: 'FC6 2 8007' },
  { name: 'bit 15 cleared', point: pt('h', 'bool', { function: 3, address: 2, bit: 15 }), value: false, current: 0x8005, want: 'FC6 2 0005' },
  { name: 'scale 0.1 divides and rounds for integers', point: pt('h', 'int16', { function: 3, address: 4, scale: 0.1 }), value: 23.5, want: 'FC6 4 00eb' },
  { name: 'scale 0.5 on a float', point: pt('h', 'float32', { function: 3, address: 4, scale: 0.5 }), value: 1.5, want: 'FC16 4 4040 0000' },
  { name: 'string padded to quantity', point: pt('h', 'string', { function: 3, address: 5, quantity: 3 }), value: 'Hi', want: 'FC16 5 4869 0000 0000' },
  { name: 'string too long', point: pt('h', 'string', { function: 3, address: 5, quantity: 1 }), value: 'abc', want: 'BadValue' },
  { name: 'int16 out of range', point: pt('h', 'int16', { function: 3, address: 5 }), value: 40000, want: 'BadValue' },
  { name: 'input register', point: pt('i', 'uint16', { function: 4, address: 5 }), value: 1, want: 'Unsupported: input registers are read-only (input register 5)' },
  { name: 'discrete input', point: pt('d', 'bool', { function: 2, address: 5 }), value: true, want: 'Unsupported: discrete input 5 is read-only' },
];

for (const c of writeCases) {
  test(`planWrite: ${c.name}`, () => {
    const p = planWrite(c.point, c.value, c.current);
    let got: string;
    if (p.kind === 'error') got = p.error.code === 'Unsupported' ? `${p.error.code}: ${p.error.message}` : p.error.code;
    else if (p.op.kind === 'readModifyWrite') got = `RMW ${p.op.address}`;
    else if (p.op.kind === 'coils') got = `FC${p.op.fc} ${p.op.address} [${p.op.values.join(',')}]`;
    else got = `FC${p.op.fc} ${p.op.address} ${hex(p.op.values)}`;
    assert.equal(got, c.want);
  });
}

test('decodeBlock: values at offsets, short responses, NaN/Infinity, scale on 64-bit', () => {
  const pts = [
    pt('a', 'uint16', { function: 3, address: 10 }),
    pt('f', 'float32', { function: 3, address: 11 }),
    pt('inf', 'float32', { function: 3, address: 13 }),
    pt('big', 'uint64', { function: 3, address: 15, scale: 2 }),
    pt('short', 'int32', { function: 3, address: 19 }),
  ];
  // 10: 7 | 11-12: NaN 0x7FC00000 | 13-14: +Inf 0x7F800000 | 15-18: 2^32 | 19: one of two registers
  const data = [7, 0x7fc0, 0, 0x7f80, 0, 0, 1, 0, 0, 0xffff];
  const r = decodeBlock(blockOf('holding', pts), data, 123);
  const brief = r.map((x) => (x.quality !== 'bad' ? `${x.id}=${String(x.value)}` : `${x.id}:${x.error.code}`));
  assert.deepEqual(brief, ['a=7', 'f:BadValue', 'inf:BadValue', 'big=8589934592', 'short:Protocol']);
  assert.ok(r.every((x) => x.ts === 123));
  const coils = decodeBlock(blockOf('coil', [pt('c0', 'bool', { function: 1, address: 0 }), pt('c9', 'bool', { function: 1, address: 9 })]), [true, false, false, false, false, false, false, false], 1);
  assert.deepEqual(
    coils.map((x) => (x.quality !== 'bad' ? x.value : x.error.code)),
    [true, 'Protocol'],
  );
});

test('toModbusError: modbus-serial errors to DriverError codes', () => {
  const cases: [unknown, string, Record<string, number> | undefined][] = [
    [Object.assign(new Error('Modbus exception 2: Illegal data address'), { modbusCode: 2 }), 'BadAddress', { exceptionCode: 2 }],
    [Object.assign(new Error('Modbus exception 3: Illegal data value'), { modbusCode: 3 }), 'Exception', { exceptionCode: 3 }],
    [Object.assign(new Error('x'), { modbusCode: 11 }), 'Exception', { exceptionCode: 11 }],
    [{ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' }, 'Timeout', undefined],
    [{ name: 'PortNotOpenError', message: 'Port Not Open', errno: 'ECONNREFUSED' }, 'Offline', undefined],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'Offline', undefined],
    [new Error('CRC error'), 'Protocol', undefined],
    [new Error('Data length error, expected 9 got 7'), 'Protocol', undefined],
    [new Error('Unexpected data error, expected address 1 got 9'), 'Protocol', undefined],
  ];
  for (const [e, code, detail] of cases) {
    const d = toModbusError(e);
    assert.equal(d.name, 'DriverError');
    assert.equal(d.code, code, String((e as Error).message));
    assert.deepEqual(d.detail, detail);
  }
});
