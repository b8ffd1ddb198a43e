import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { ModbusSimDevice } from '../../simulators/modbus/device.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { createGenerator } from '../../simulators/common/generators.ts';
import type { GeneratorSpecInput } from '../../simulators/common/generators.ts';
import { closeClient, makeDevice, near, readAttributeOverWire, readPointOverWire, tcpClient } from './helpers.ts';
import type { Client, PointSpec, TestPoint } from './helpers.ts';
import type { PointType } from '../../src/devicemodel/types.ts';

const ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
const NUMERIC: readonly { type: PointType; regs: number; gen: GeneratorSpecInput }[] = [
  { type: 'int16', regs: 1, gen: { kind: 'ramp', from: -1234, to: 1000, step: 111, every: 1000 } },
  { type: 'uint16', regs: 1, gen: { kind: 'ramp', from: 54_321, to: 65_535, step: 7, every: 1000 } },
  { type: 'int32', regs: 2, gen: { kind: 'ramp', from: -123_456_789, to: 0, step: 1_000_003, every: 1000 } },
  { type: 'uint32', regs: 2, gen: { kind: 'ramp', from: 3_000_000_000, to: 4_000_000_000, step: 65_537, every: 1000 } },
  { type: 'int64', regs: 4, gen: { kind: 'ramp', from: -1_234_567_890_123, to: 0, step: 1_000_000_007, every: 1000 } },
  { type: 'uint64', regs: 4, gen: { kind: 'ramp', from: 9_007_199_254_000_000, to: 9_007_199_254_740_000, step: 12_345, every: 1000 } },
  { type: 'float32', regs: 2, gen: { kind: 'sine', amplitude: 1000, offset: 3.25, period: 7000 } },
  { type: 'float64', regs: 4, gen: { kind: 'sine', amplitude: 1e6, offset: -2.5, period: 9000 } },
];

const specs: PointSpec[] = [];
const generators: Record<string, GeneratorSpecInput> = {};
let addr = 0;
let id = 1;
for (const table of [3, 4] as const) {
  for (const n of NUMERIC) {
    for (const order of ORDERS) {
      const name = `${n.type}_${order}_${table === 3 ? 'hr' : 'ir'}`;
      specs.push({ id: String(id), name: `p_${name}`, type: n.type, visitor: { function: table, address: addr, byteOrder: order }, attribute: { name, type: n.type } });
      generators[name] = n.gen;
      addr += n.regs;
      id++;
    }
  }
}
// Scale and calculate mappings, bits, bit-in-register, strings.
specs.push(
  { id: '200', name: 'p_scaled', type: 'int16', visitor: { function: 3, address: 500, scale: 0.1 }, attribute: { name: 'temperature', type: 'float32' } },
  { id: '201', name: 'p_f', type: 'int16', visitor: { function: 3, address: 501 }, attribute: { name: 'fahrenheit', type: 'float64', expression: 'x201*1.8+32', precision: 1 } },
  { id: '202', name: 'p_coil', type: 'bool', visitor: { function: 1, address: 10 }, attribute: { name: 'pump', type: 'bool' } },
  { id: '203', name: 'p_di', type: 'bool', visitor: { function: 2, address: 11 }, attribute: { name: 'door', type: 'bool' } },
  { id: '204', name: 'p_bit0', type: 'bool', visitor: { function: 3, address: 510, bit: 0 }, attribute: { name: 'alarm0', type: 'bool' } },
  { id: '205', name: 'p_bit3', type: 'bool', visitor: { function: 3, address: 510, bit: 3 }, attribute: { name: 'alarm3', type: 'bool' } },
  { id: '206', name: 'p_ascii', type: 'string', visitor: { function: 3, address: 520, quantity: 4, swapRegister: true }, attribute: { name: 'serial', type: 'string' } },
  { id: '207', name: 'p_utf16', type: 'string', visitor: { function: 4, address: 530, quantity: 3, encoding: 'utf16' }, attribute: { name: 'label', type: 'string' } },
  { id: '208', name: 'p_raw', type: 'uint16', visitor: { function: 3, address: 540 } },
  { id: '209', name: 'p_sp', type: 'float32', visitor: { function: 3, address: 550, byteOrder: 'CDAB' }, attribute: { name: 'setpoint', type: 'float32' } },
);
Object.assign(generators, {
  temperature: { kind: 'sine', amplitude: 10, offset: 20, period: 60_000 },
  fahrenheit: { kind: 'constant', value: 98.6 },
  pump: { kind: 'toggle', every: 1000 },
  door: { kind: 'toggle', every: 1000, start: true },
  alarm0: { kind: 'toggle', every: 1000 },
  alarm3: { kind: 'constant', value: true },
  serial: { kind: 'constant', value: 'AB12cd' },
  label: { kind: 'constant', value: 'Äöü' },
  p_raw: { kind: 'counter', start: 100, increment: 5, every: 1000 },
  setpoint: { kind: 'constant', value: 21.5 },
} satisfies Record<string, GeneratorSpecInput>);

const dev = makeDevice('plc1', specs, { id: 7, tcp: { address: '127.0.0.1', port: 0, framing: 'mbap' } });
const dev2 = makeDevice('plc2', [specs.find((s) => s.id === '200')!], { id: 8, tcp: { address: '127.0.0.1', port: 0, framing: 'mbap' } });
const point = (name: string) => dev.points.find((p) => p.name === name) as TestPoint;

let sim: ModbusSimulator;
let client: Client;
let port: number;

before(async () => {
  sim = await startModbusSimulator({
    devices: [dev, dev2],
    seed: 42,
    tickMs: 0,
    generators: { plc1: generators, plc2: { temperature: { kind: 'constant', value: -5.5 } } },
  });
  const ep = sim.endpoints[0]!;
  assert.equal(sim.endpoints.length, 1, 'both devices share one endpoint');
  assert.ok(ep.kind === 'tcp' && ep.port > 0);
  port = ep.port;
  client = await tcpClient(port, 7);
});

after(async () => {
  await closeClient(client);
  await sim.stop();
});

describe('Modbus/TCP simulator', () => {
  it('every numeric type and byte order decodes back to the generator value', async () => {
    for (const t of [0, 1000, 3000]) {
      sim.tick(t);
      for (const [name, spec] of Object.entries(generators)) {
        if (!/_(hr|ir)$/.test(name)) continue;
        const expected = createGenerator(spec, 0)(t) as number;
        const got = await readAttributeOverWire(client, dev, name);
        const tol = name.startsWith('float32') ? 1e-6 : name.startsWith('float64') ? 1e-12 : 0;
        assert.ok(near(got, expected, tol), `${name} at t=${t}: got ${String(got)}, want ${expected}`);
        assert.ok(near(sim.device('plc1').get(name), expected, tol), `${name}: device.get agrees`);
      }
    }
  });

  it('64-bit integers arrive as exact bigints', async () => {
    sim.tick(0);
    assert.equal(await readAttributeOverWire(client, dev, 'int64_DCBA_hr'), -1_234_567_890_123n);
    assert.equal(await readAttributeOverWire(client, dev, 'uint64_CDAB_ir'), 9_007_199_254_000_000n);
  });

  it('byte orders put the bytes where the order says', async () => {
    sim.tick(0);
    // uint32 3_000_000_000 = 0xB2D05E00.
    const base = (order: string) => point(`p_uint32_${order}_hr`).address.address;
    assert.deepEqual((await client.readHoldingRegisters(base('ABCD'), 2)).data, [0xb2d0, 0x5e00]);
    assert.deepEqual((await client.readHoldingRegisters(base('BADC'), 2)).data, [0xd0b2, 0x005e]);
    assert.deepEqual((await client.readHoldingRegisters(base('CDAB'), 2)).data, [0x5e00, 0xb2d0]);
    assert.deepEqual((await client.readHoldingRegisters(base('DCBA'), 2)).data, [0x005e, 0xd0b2]);
  });

  it('scale, calculate mappings, bits and strings', async () => {
    sim.tick(15_000); // sine at a quarter period: 20 + 10
    assert.equal((await client.readHoldingRegisters(500, 1)).data[0], 300, 'raw register = value / scale');
    assert.ok(near(await readAttributeOverWire(client, dev, 'temperature'), 30, 1e-9));
    assert.equal(await readAttributeOverWire(client, dev, 'fahrenheit'), 98.6);
    assert.equal((await client.readHoldingRegisters(501, 1)).data[0], 37);
    // toggle every 1 s: at 15 s (odd count) pump is true, door (start true) false.
    assert.equal(await readAttributeOverWire(client, dev, 'pump'), true);
    assert.equal(await readAttributeOverWire(client, dev, 'door'), false);
    assert.equal(await readAttributeOverWire(client, dev, 'alarm0'), true);
    assert.equal(await readAttributeOverWire(client, dev, 'alarm3'), true);
    assert.equal((await client.readHoldingRegisters(510, 1)).data[0], 0b1001, 'two bits share one register');
    sim.tick(16_000);
    assert.equal((await client.readHoldingRegisters(510, 1)).data[0], 0b1000);
    assert.equal(await readAttributeOverWire(client, dev, 'serial'), 'AB12cd');
    // swapRegister (Baetyl) swaps the bytes inside each word: "AB" is stored as 0x4241.
    assert.equal((await client.readHoldingRegisters(520, 1)).data[0], 0x4241);
    assert.equal(await readAttributeOverWire(client, dev, 'label'), 'Äöü');
    assert.deepEqual((await client.readInputRegisters(530, 3)).data, [0xc4, 0xf6, 0xfc]);
    // A point without mapping follows its own generator (counter: 100 + 5 * 16).
    assert.equal(await readPointOverWire(client, point('p_raw')), 180);
  });

  it('unit ids route to their own device; an unknown unit id gets exception 0x0B', async () => {
    const c8 = await tcpClient(port, 8);
    try {
      assert.ok(near(await readAttributeOverWire(c8, dev2, 'temperature'), -5.5, 1e-9));
      c8.setID(99);
      await assert.rejects(c8.readHoldingRegisters(0, 1), (e: { modbusCode?: number }) => e.modbusCode === 0x0b);
    } finally {
      await closeClient(c8);
    }
  });

  it('holding register writes (FC16, FC6) persist and stop the generator until reset', async () => {
    const d = sim.device('plc1');
    const sp = point('p_sp');
    // 55.25 as float32 = 0x425D0000; CDAB puts the low word first.
    await client.writeRegisters(sp.address.address, [0x0000, 0x425d]);
    assert.equal(await readAttributeOverWire(client, dev, 'setpoint'), 55.25);
    assert.equal(d.get('setpoint'), 55.25);
    assert.ok(d.isHeld('p_sp'));
    sim.tick(20_000);
    assert.equal(await readAttributeOverWire(client, dev, 'setpoint'), 55.25, 'a written point ignores ticks');
    await client.writeRegister(540, 7);
    sim.tick(21_000);
    assert.equal(await readPointOverWire(client, point('p_raw')), 7);
    d.reset();
    assert.equal(await readAttributeOverWire(client, dev, 'setpoint'), 21.5, 'reset: the generator drives it again');
    assert.equal(await readPointOverWire(client, point('p_raw')), 205);
  });

  it('coil writes (FC5, FC15) persist', async () => {
    await client.writeCoil(10, false);
    sim.tick(1000); // toggle would say true
    assert.equal((await client.readCoils(10, 1)).data[0], false);
    await client.writeCoils(10, [true]);
    assert.equal(sim.device('plc1').get('pump'), true);
    sim.device('plc1').reset('pump');
    sim.tick(2000);
    assert.equal((await client.readCoils(10, 1)).data[0], false);
  });

  it('set() through the API holds an attribute; raw reads show the registers', async () => {
    const d = sim.device('plc1');
    d.set('fahrenheit', 212);
    assert.deepEqual(d.readRaw('holding', 501, 1), [100]);
    assert.equal(await readAttributeOverWire(client, dev, 'fahrenheit'), 212);
    assert.throws(() => d.set('serial', 'far too long for four registers'), /does not fit|plc1/);
    assert.throws(() => d.set('nope', 1), /no mapping/);
    d.reset('fahrenheit');
    assert.equal(d.get('fahrenheit'), 98.6);
  });

  it('reads spanning unmapped addresses return zeros; past 65535 is exception 2', async () => {
    assert.deepEqual((await client.readHoldingRegisters(60_000, 3)).data, [0, 0, 0]);
    await assert.rejects(client.readHoldingRegisters(65_535, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
  });

  it('restart keeps the port and the values', async () => {
    sim.tick(0);
    const before = await readAttributeOverWire(client, dev, 'int32_ABCD_hr');
    await sim.restart();
    assert.equal(sim.endpoints[0]!.kind === 'tcp' && sim.endpoints[0]!.port, port);
    await closeClient(client);
    client = await tcpClient(port, 7);
    assert.equal(await readAttributeOverWire(client, dev, 'int32_ABCD_hr'), before);
  });

  it('rejects a port that is taken, and MBAP and RTU framing on one port', async () => {
    const taken = makeDevice('t', [], { id: 1, tcp: { address: '127.0.0.1', port, framing: 'mbap' } });
    await assert.rejects(startModbusSimulator({ devices: [taken], tickMs: 0 }), (e: { code?: string }) => e.code === 'EADDRINUSE');
    const rtu = makeDevice('r', [], { id: 2, tcp: { address: '127.0.0.1', port, framing: 'rtu' } });
    await assert.rejects(startModbusSimulator({ devices: [taken, rtu], tickMs: 0 }), /both MBAP and RTU framing/);
  });

  it('non-invertible mappings: points get their own generators, configured ones are reported', () => {
    const d = makeDevice(
      'calc',
      [
        { id: '1', name: 'a', type: 'int16', visitor: { function: 3, address: 0 }, attribute: { name: 'sum', type: 'float64', expression: 'x1+x2' } },
        { id: '2', name: 'b', type: 'int16', visitor: { function: 3, address: 1 } },
      ],
      { id: 1, tcp: { address: '127.0.0.1', port: 0 } },
    );
    const sd = new ModbusSimDevice(d, { seed: 1, generators: { sum: { kind: 'constant', value: 3 }, a: { kind: 'constant', value: 10 }, b: { kind: 'constant', value: 5 }, nope: { kind: 'constant', value: 1 } } });
    assert.equal(sd.get('sum'), 15, 'points follow their own generators; the attribute is computed from them');
    assert.equal(sd.warnings.length, 2, sd.warnings.join('; '));
    assert.match(sd.warnings[0]!, /^sum: .*2 variables/);
    assert.match(sd.warnings[1]!, /^nope: no attribute or point/);
  });

  it('rejects two devices with one unit id on one endpoint', async () => {
    const a = makeDevice('a', [], { id: 1, tcp: { address: '127.0.0.1', port: 0 } });
    const b = makeDevice('b', [], { id: 1, tcp: { address: '127.0.0.1', port: 0 } });
    await assert.rejects(startModbusSimulator({ devices: [a, b], tickMs: 0 }), /unit id 1 is already used by a/);
  });
});
