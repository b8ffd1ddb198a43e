/**
 * The driver against a modbus-serial ServerTCP on 127.0.0.1: every table, type and byte order,
 * writes with FC5/FC6/FC15/FC16 checked in the server's table, read-modify-write of a bit, and
 * isolation of an illegal data address inside a merged request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import descriptor from '../../src/drivers/modbus/index.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import type { DeviceRef, Point, ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import { context, dev, never, pt } from './helpers.ts';
import { tables, tcpServer } from './servers.ts';
import type { Tables } from './servers.ts';

type S = Session<ModbusConnection, ModbusAddress>;
const H = (id: string, address: number, type: Point['type'], more: Record<string, unknown> = {}) => pt(id, type, { function: 3, address, ...more });

/** Reads as the gateway does: planReads, then one read per group. */
async function poll(s: S, d: DeviceRef<ModbusConnection>, points: Point<ModbusAddress>[]): Promise<Map<string, ReadResult>> {
  const out = new Map<string, ReadResult>();
  for (const group of s.planReads!(d, points)) for (const r of await s.read(d, group, never)) out.set(r.id, r);
  assert.equal(out.size, points.length, 'one result per point');
  return out;
}
const value = (m: Map<string, ReadResult>, id: string) => {
  const r = m.get(id);
  assert.ok(r !== undefined && r.quality === 'good', `${id}: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return r.value;
};

describe('modbus TCP against ServerTCP', () => {
  const unit1: Tables = tables({
    holding: new Map(
      [
        0x1234, 0xfffe, 0x3fc0, 0x0000, 0x0000, 0x3fc0, 0xc03f, 0x0000, 0x0000, 0xc03f, // 0..9
        0xfffe, 0x1dc0, 0x5678, 0x1234, 0xffff, 0xffff, 0xffff, 0xfffe, 0x0807, 0x0605, // 10..19
        0x0403, 0x0201, 0xbfe0, 0, 0, 0, 0x4865, 0x6c6c, 0x6f00, 0x8005, // 20..29
        0x7fc0, 0x0000, 250, 0x03a9, 0x0021, // 30..34
      ].map((v, i) => [i, v]),
    ),
    input: new Map([1000, 0xc010, 0x0000, 0xffff].map((v, i) => [i, v])),
    coils: new Map(Array.from({ length: 16 }, (_, i) => [i, i === 0 || i === 2])),
    discrete: new Map([false, true, true].map((v, i) => [i, v])),
  });
  for (let a = 40; a < 50; a++) unit1.holding.set(a, 0);
  // Isolation layout: 100..112 exist except 105 (a point) and 111 (a gap between points).
  for (let a = 100; a <= 112; a++) if (a !== 105 && a !== 111) unit1.holding.set(a, 1000 + a);
  const units = new Map([[1, unit1]]);
  let srv: Awaited<ReturnType<typeof tcpServer>>;
  let s: S;
  const lost: unknown[] = [];
  let d: DeviceRef<ModbusConnection>;

  before(async () => {
    srv = await tcpServer(units);
    d = dev('plc', { id: 1, timeout: '1s', tcp: { address: '127.0.0.1', port: srv.port }, window: 4 });
    s = await descriptor.create(context()).connect(d.connection, { signal: never, onLost: (e) => lost.push(e) });
  });
  after(async () => {
    await s.close();
    await s.close(); // idempotent
    await srv.close();
    assert.deepEqual(lost, [], 'closing the session is not a lost link');
  });

  test('descriptor: link key and window', () => {
    assert.deepEqual(descriptor.link(d.connection), { key: `tcp:127.0.0.1:${srv.port}:mbap`, window: 4 });
    const rot = dev('x', { tcp: { address: '10.0.0.1', port: 4001, framing: 'rtu' }, window: 8 }).connection;
    assert.deepEqual(descriptor.link(rot), { key: 'tcp:10.0.0.1:4001:rtu', window: 1 });
    const ser = dev('y', { rtu: { port: '/dev/ttyS1' }, window: 8 }).connection;
    assert.deepEqual(descriptor.link(ser), { key: 'rtu:/dev/ttyS1', window: 1 });
    assert.equal(descriptor.checkPoint?.(pt('c', 'int16', { function: 1, address: 0 }))[0]?.path[0], 'type');
  });

  test('reads every table, type and byte order in one request per table', async () => {
    const points = [
      H('u16', 0, 'uint16'),
      H('u16swap', 0, 'uint16', { swapRegister: true }), // Baetyl swapRegister = bytes swapped in the word
      H('i16', 1, 'int16'),
      H('fABCD', 2, 'float32'),
      H('fCDAB', 4, 'float32', { byteOrder: 'CDAB' }),
      H('fBADC', 6, 'float32', { byteOrder: 'BADC' }),
      H('fDCBA', 8, 'float32', { swapByte: true }), // Baetyl swapByte = little-endian
      H('i32', 10, 'int32'),
      H('u32', 12, 'uint32', { byteOrder: 'CDAB' }),
      H('i64', 14, 'int64'),
      H('u64', 18, 'uint64', { byteOrder: 'HGFEDCBA' }),
      H('f64', 22, 'float64'),
      H('str', 26, 'string', { quantity: 3 }),
      H('b0', 29, 'bool', { bit: 0 }),
      H('b1', 29, 'bool', { bit: 1 }),
      H('b2', 29, 'bool', { bit: 2 }),
      H('b15', 29, 'bool', { bit: 15 }),
      H('nan', 30, 'float32'),
      H('scaled', 32, 'int16', { scale: 0.1 }),
      H('u16str', 33, 'string', { quantity: 2, encoding: 'utf16' }),
      pt('in0', 'uint16', { function: 4, address: '0x0000' }),
      pt('inF', 'float32', { function: 4, address: 1 }),
      pt('inI', 'int16', { function: 4, address: 3 }),
      pt('c0', 'bool', { function: 1, address: 0 }),
      pt('c1', 'bool', { function: 1, address: 1 }),
      pt('c2', 'bool', { function: 1, address: 2 }),
      pt('d0', 'bool', { function: 2, address: 0 }),
      pt('d1', 'bool', { function: 2, address: 1 }),
    ];
    unit1.log.length = 0;
    const r = await poll(s, d, points);
    const want: Record<string, unknown> = {
      u16: 0x1234, u16swap: 0x3412, i16: -2, fABCD: 1.5, fCDAB: 1.5, fBADC: 1.5, fDCBA: 1.5, i32: -123456, u32: 0x12345678,
      i64: -2n, u64: 0x0102030405060708n, f64: -0.5, str: 'Hello', b0: true, b1: false, b2: true, b15: true, u16str: 'Ω!',
      in0: 1000, inF: -2.25, inI: -1, c0: true, c1: false, c2: true, d0: false, d1: true,
    };
    for (const [id, v] of Object.entries(want)) assert.equal(value(r, id), v, id);
    assert.equal(value(r, 'scaled'), 25);
    const nan = r.get('nan');
    assert.ok(nan?.quality === 'bad' && nan.error.code === 'BadValue' && /NaN/.test(nan.error.message), JSON.stringify(nan));
    assert.deepEqual(unit1.log, ['FC3 0+35', 'FC4 0+4'], 'one FC3 and one FC4 request');
  });

  test('writes with FC5, FC15, FC6, FC16, bit read-modify-write, and reports per-write errors', async () => {
    unit1.log.length = 0;
    unit1.holding.set(29, 0x8005);
    const points = {
      c5: pt('c5', 'bool', { function: 1, address: 5 }),
      c6: pt('c6', 'bool', { function: 1, address: 6, writeFunction: 15 }),
      h40: H('h40', 40, 'uint16'),
      h41: H('h41', 41, 'float32', { byteOrder: 'CDAB' }),
      h43: H('h43', 43, 'int16', { writeFunction: 16 }),
      h44: H('h44', 44, 'int32', { writeFunction: 6 }),
      bit1: H('bit1', 29, 'bool', { bit: 1 }),
      bit15: H('bit15', 29, 'bool', { bit: 15 }),
      sc: H('sc', 46, 'int16', { scale: 0.1 }),
      str: H('str', 47, 'string', { quantity: 3 }),
      inp: pt('inp', 'uint16', { function: 4, address: 0 }),
      di: pt('di', 'bool', { function: 2, address: 0 }),
      big: H('big', 40, 'int16'),
      missing: H('missing', 999, 'uint16'),
    };
    const res = await s.write!(
      d,
      [
        { point: points.c5, value: true },
        { point: points.c6, value: true },
        { point: points.h40, value: 0xbeef },
        { point: points.h41, value: 1.5 },
        { point: points.h43, value: -3 },
        { point: points.h44, value: 0x00010002 },
        { point: points.bit1, value: true },
        { point: points.bit15, value: false },
        { point: points.sc, value: 23.5 },
        { point: points.str, value: 'Hi' },
        { point: points.inp, value: 1 },
        { point: points.di, value: true },
        { point: points.big, value: 40000 },
        { point: points.missing, value: 1 },
      ],
      never,
    );
    const byId = new Map(res.map((x) => [x.id, x]));
    assert.equal(res.length, 14);
    for (const id of ['c5', 'c6', 'h40', 'h41', 'h43', 'h44', 'bit1', 'bit15', 'sc', 'str']) assert.deepEqual(byId.get(id), { id, ok: true });
    const err = (id: string) => {
      const x = byId.get(id);
      assert.ok(x !== undefined && !x.ok, id);
      return x.error;
    };
    assert.equal(err('inp').code, 'Unsupported');
    assert.match(err('inp').message, /input registers are read-only/);
    assert.equal(err('di').code, 'Unsupported');
    assert.equal(err('big').code, 'BadValue');
    assert.deepEqual({ code: err('missing').code, detail: err('missing').detail }, { code: 'BadAddress', detail: { exceptionCode: 2 } });
    assert.deepEqual(unit1.log, [
      'FC5 5=true',
      'FC15 6=[true]',
      'FC6 40=0xbeef',
      'FC16 41=[0x0,0x3fc0]',
      'FC16 43=[0xfffd]',
      'FC6 44=0x1',
      'FC6 45=0x2',
      'FC3 29+1',
      'FC6 29=0x8007',
      'FC3 29+1',
      'FC6 29=0x7',
      'FC6 46=0xeb',
      'FC16 47=[0x4869,0x0,0x0]',
    ]);
    assert.equal(unit1.coils.get(5), true);
    assert.equal(unit1.coils.get(6), true);
    // Read back through the driver.
    const back = await poll(s, d, [points.c5, points.h41, points.h44, points.bit1, points.bit15, points.sc, points.str]);
    assert.equal(value(back, 'c5'), true);
    assert.equal(value(back, 'h41'), 1.5);
    assert.equal(value(back, 'h44'), 0x00010002);
    assert.equal(value(back, 'bit1'), true);
    assert.equal(value(back, 'bit15'), false);
    assert.equal(value(back, 'sc'), 23.5);
    assert.equal(value(back, 'str'), 'Hi');
  });

  test('illegal data address in a merged block: only that point is bad, and it is read alone afterwards', async () => {
    const points = [100, 102, 105, 107, 109].map((a) => H(`r${a}`, a, 'uint16'));
    assert.deepEqual(s.planReads!(d, points).map((g) => g.map((p) => p.id)), [['r100', 'r102', 'r105', 'r107', 'r109']]);
    unit1.log.length = 0;
    const r = await s.read(d, points, never);
    assert.equal(r.length, 5);
    const bad = r.find((x) => x.id === 'r105');
    assert.ok(bad?.quality === 'bad');
    assert.equal(bad.error.code, 'BadAddress');
    assert.deepEqual(bad.error.detail, { exceptionCode: 2 });
    for (const a of [100, 102, 107, 109]) {
      const x = r.find((y) => y.id === `r${a}`);
      assert.ok(x?.quality === 'good' && x.value === 1000 + a, JSON.stringify(x));
    }
    // The merged request, then halves until the bad address stands alone.
    assert.deepEqual(unit1.log, ['FC3 100+10', 'FC3 100+6', 'FC3 100+3', 'FC3 105+1', 'FC3 107+3']);
    // The next plan reads r105 alone and does not bridge over it.
    assert.deepEqual(s.planReads!(d, points).map((g) => g.map((p) => p.id)), [['r100', 'r102'], ['r105'], ['r107', 'r109']]);
    unit1.log.length = 0;
    const again = await poll(s, d, points);
    assert.equal(again.get('r105')?.quality, 'bad');
    assert.equal(value(again, 'r107'), 1107);
    assert.deepEqual(unit1.log, ['FC3 100+3', 'FC3 105+1', 'FC3 107+3']);
    // Another device on the same link keeps its own memory.
    const other = dev('other', d.connection);
    assert.equal(s.planReads!(other, points).length, 1);
  });

  test('a missing register in the gap between points: both good, and the gap is not bridged again', async () => {
    const points = [H('g110', 110, 'uint16'), H('g112', 112, 'uint16')];
    const r = await poll(s, d, points);
    assert.equal(value(r, 'g110'), 1110);
    assert.equal(value(r, 'g112'), 1112);
    assert.deepEqual(s.planReads!(d, points).map((g) => g.map((p) => p.id)), [['g110'], ['g112']]);
  });

  test('other exception codes make every point of the request bad with code Exception', async () => {
    const ghost = dev('ghost', { ...d.connection, id: 7 }); // the server answers exception 11 for unknown units
    const r = await s.read(ghost, [H('a', 0, 'uint16'), H('b', 1, 'uint16')], never);
    assert.equal(r.length, 2);
    for (const x of r) {
      assert.ok(x.quality === 'bad');
      assert.equal(x.error.code, 'Exception');
      assert.deepEqual(x.error.detail, { exceptionCode: 11 });
    }
  });

  test('window: parallel reads on one TCP link all answer correctly', async () => {
    const reads = Array.from({ length: 20 }, (_, i) => s.read(d, [H(`p${i}`, 100 + (i % 5), 'uint16')], never));
    const res = await Promise.all(reads);
    res.forEach((r, i) => {
      const a = 100 + (i % 5);
      if (a === 105) assert.equal(r[0]?.quality, 'bad');
      else assert.equal(r[0]?.quality === 'good' && r[0].value, 1000 + a);
    });
  });
});
