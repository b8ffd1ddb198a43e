/**
 * Read planning: address layouts -> expected requests. Limits from Modbus Application Protocol
 * V1.1b3: FC3/FC4 read 1..125 registers (§6.3, §6.4), FC1/FC2 read 1..2000 bits (§6.1, §6.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReads } from '../../src/drivers/modbus/plan.ts';
import type { ModbusAddress } from '../../src/drivers/modbus/address.ts';
import type { Point } from '../../src/drivers/sdk/index.ts';
import { pt } from './helpers.ts';

const H = (id: string, address: number, type: Point['type'] = 'uint16', more: Record<string, unknown> = {}) => pt(id, type, { function: 3, address, ...more });
const I = (id: string, address: number, type: Point['type'] = 'uint16') => pt(id, type, { function: 4, address });
const C = (id: string, address: number) => pt(id, 'bool', { function: 1, address });
const D = (id: string, address: number) => pt(id, 'bool', { function: 2, address });

const DEFAULT = { maxGap: 10, maxRegisters: 125, maxBits: 2000 };

/** Compact form of a plan: `table start+count: id@offset,...`. */
function show(points: Point<ModbusAddress>[], limits = DEFAULT, isolated: string[] = []): string[] {
  return planReads(points, limits, new Set(isolated)).map(
    (b) => `${b.table} ${b.start}+${b.count}: ${b.points.map((p) => `${p.point.id}@${p.offset}`).join(',')}`,
  );
}

const cases: { name: string; points: Point<ModbusAddress>[]; limits?: typeof DEFAULT; isolated?: string[]; want: string[] }[] = [
  { name: 'adjacent registers merge', points: [H('a', 0), H('b', 1)], want: ['holding 0+2: a@0,b@1'] },
  { name: 'input order does not matter', points: [H('b', 1), H('a', 0)], want: ['holding 0+2: a@0,b@1'] },
  { name: 'gap of exactly maxGap (10 unused registers) is bridged', points: [H('a', 0), H('b', 11)], want: ['holding 0+12: a@0,b@11'] },
  { name: 'gap of maxGap+1 splits', points: [H('a', 0), H('b', 12)], want: ['holding 0+1: a@0', 'holding 12+1: b@0'] },
  { name: 'maxGap 0: adjacent merge, any gap splits', points: [H('a', 0), H('b', 1), H('c', 3)], limits: { ...DEFAULT, maxGap: 0 }, want: ['holding 0+2: a@0,b@1', 'holding 3+1: c@0'] },
  {
    name: 'exactly 125 registers in one request',
    points: [H('a', 0), H('b', 124)],
    limits: { ...DEFAULT, maxGap: 125 },
    want: ['holding 0+125: a@0,b@124'],
  },
  {
    name: '126 registers split at the limit',
    points: [H('a', 0), H('b', 125)],
    limits: { ...DEFAULT, maxGap: 125 },
    want: ['holding 0+1: a@0', 'holding 125+1: b@0'],
  },
  {
    name: 'a float32 ending at register 124 fits; one register later does not',
    points: [H('a', 0), H('f', 123, 'float32'), H('g', 200), H('h', 323, 'float32')],
    limits: { ...DEFAULT, maxGap: 125 },
    want: ['holding 0+125: a@0,f@123', 'holding 200+125: g@0,h@123'],
  },
  {
    name: 'float32 one register past the limit starts a new block',
    points: [H('a', 0), H('f', 124, 'float32')],
    limits: { ...DEFAULT, maxGap: 125 },
    want: ['holding 0+1: a@0', 'holding 124+2: f@0'],
  },
  { name: 'exactly 2000 coils in one request', points: [C('a', 0), C('b', 1999)], limits: { ...DEFAULT, maxGap: 2000 }, want: ['coil 0+2000: a@0,b@1999'] },
  { name: '2001 coils split', points: [C('a', 0), C('b', 2000)], limits: { ...DEFAULT, maxGap: 2000 }, want: ['coil 0+1: a@0', 'coil 2000+1: b@0'] },
  { name: 'maxBits is its own limit', points: [D('a', 0), D('b', 8)], limits: { ...DEFAULT, maxBits: 8 }, want: ['discrete 0+1: a@0', 'discrete 8+1: b@0'] },
  {
    name: 'overlapping points share registers',
    points: [H('f', 10, 'float32'), H('lo', 11), H('d', 10, 'float64')],
    want: ['holding 10+4: d@0,f@0,lo@1'],
  },
  {
    name: 'bit points in one register share it',
    points: [H('b0', 5, 'bool', { bit: 0 }), H('b3', 5, 'bool', { bit: 3 }), H('b15', 6, 'bool', { bit: 15 })],
    want: ['holding 5+2: b0@0,b3@0,b15@1'],
  },
  {
    name: 'a string spans its quantity',
    points: [H('s', 20, 'string', { quantity: 10 }), H('n', 30)],
    want: ['holding 20+11: s@0,n@10'],
  },
  {
    name: 'a string wider than maxRegisters gets a block of its own size',
    points: [H('a', 0), H('s', 1, 'string', { quantity: 8 }), H('b', 9)],
    limits: { ...DEFAULT, maxRegisters: 4 },
    want: ['holding 0+1: a@0', 'holding 1+8: s@0', 'holding 9+1: b@0'],
  },
  {
    name: 'tables never mix; order coil, discrete, holding, input',
    points: [I('i', 0), H('h', 0), D('d', 0), C('c', 0), H('h2', 1), I('i2', 1)],
    want: ['coil 0+1: c@0', 'discrete 0+1: d@0', 'holding 0+2: h@0,h2@1', 'input 0+2: i@0,i2@1'],
  },
  {
    name: 'an isolated point is read alone and never bridged over',
    points: [H('a', 0), H('b', 1), H('c', 2), H('d', 3)],
    isolated: ['c'],
    want: ['holding 0+2: a@0,b@1', 'holding 2+1: c@0', 'holding 3+1: d@0'],
  },
  {
    name: 'isolation is by point id: a neighbour at the same address still merges elsewhere',
    points: [H('x', 10, 'float32'), H('y', 12), H('z', 13)],
    isolated: ['x'],
    want: ['holding 10+2: x@0', 'holding 12+2: y@0,z@1'],
  },
  { name: 'no points, no requests', points: [], want: [] },
];

for (const c of cases) {
  test(`planReads: ${c.name}`, () => {
    assert.deepEqual(show(c.points, c.limits, c.isolated), c.want);
  });
}

test('planReads: every point appears exactly once, blocks within limits (random layouts)', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const types: Point['type'][] = ['uint16', 'int32', 'float64', 'bool'];
  for (let round = 0; round < 50; round++) {
    const points = Array.from({ length: 1 + rnd(60) }, (_, i) => {
      const type = types[rnd(types.length)]!;
      return rnd(3) === 0 ? C(`c${i}`, rnd(5000)) : H(`h${i}`, rnd(400), type);
    });
    const limits = { maxGap: rnd(20), maxRegisters: 4 + rnd(122), maxBits: 1 + rnd(2000) };
    const blocks = planReads(points, limits, new Set());
    const seen = blocks.flatMap((b) => b.points.map((p) => p.point.id)).sort();
    assert.deepEqual(seen, points.map((p) => p.id).sort());
    for (const b of blocks) {
      assert.ok(b.count <= (b.table === 'coil' ? limits.maxBits : limits.maxRegisters), `${b.table} ${b.start}+${b.count}`);
      for (const p of b.points) assert.equal(p.point.address.address - b.start, p.offset);
    }
  }
});
