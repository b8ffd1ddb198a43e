import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { createPtyPair } from '../../simulators/common/pty.ts';
import type { PtyPair } from '../../simulators/common/pty.ts';
import { crc16, crcOk, rtuRequestLength, toRtu, truncatePdu } from '../../simulators/modbus/rtu-frame.ts';
import { closeClient, makeDevice, readAttributeOverWire, rtuClient, telnetClient } from './helpers.ts';
import type { PointSpec } from './helpers.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTU frame helpers', () => {
  it('CRC-16/MODBUS of known frames (MODBUS over Serial Line V1.02 §6.2.2, low byte first)', () => {
    // Read holding register 0, count 1, unit 1: 01 03 00 00 00 01 | 84 0A.
    assert.equal(crc16(hex('010300000001')), 0x0a84);
    assert.deepEqual(toRtu(hex('010300000001')), hex('010300000001 840a'));
    assert.ok(crcOk(hex('010300000001840a')));
    assert.ok(!crcOk(hex('010300000001840b')));
  });

  it('request lengths by function code', () => {
    assert.equal(rtuRequestLength(hex('01')), undefined);
    assert.equal(rtuRequestLength(hex('0103000000')), undefined, 'FC3 is 8 bytes');
    assert.equal(rtuRequestLength(hex('010300000001840a 01')), 8, 'a following byte is not part of it');
    assert.equal(rtuRequestLength(hex('0110000000')), undefined, 'FC16 needs its byte count');
    // FC16, 2 registers: unit fc addr(2) qty(2) bytecount=4 data(4) crc(2) = 13.
    assert.equal(rtuRequestLength(hex('011000000002 04 00010002 0000')), 13);
  });

  it('truncation keeps unit and function, halves the data, leaves exceptions alone', () => {
    assert.deepEqual(truncatePdu(hex('0103 04 00010002')), hex('0103 04 00'));
    assert.deepEqual(truncatePdu(hex('0183 02')), hex('0183 02'));
  });
});

const points = (offset: number): PointSpec[] => [
  { id: '1', name: 'flow', type: 'float32', visitor: { function: 4, address: 0 }, attribute: { name: 'flow', type: 'float32' } },
  { id: '2', name: 'count', type: 'uint32', visitor: { function: 3, address: 10, byteOrder: 'CDAB' }, attribute: { name: 'count', type: 'uint32' } },
  { id: '3', name: 'valve', type: 'bool', visitor: { function: 1, address: 0 }, attribute: { name: 'valve', type: 'bool' } },
  { id: '4', name: 'sp', type: 'int16', visitor: { function: 3, address: 20, scale: 0.5 }, attribute: { name: 'setpoint', type: 'float32', min: offset, max: offset + 10 } },
];
const gens = {
  flow: { kind: 'constant', value: 12.5 },
  count: { kind: 'constant', value: 70_000 },
  valve: { kind: 'constant', value: true },
  setpoint: { kind: 'constant', value: 4.5 },
} as const;

describe('RTU over a socat pty pair', () => {
  let dir: string;
  let pty: PtyPair;
  let sim: ModbusSimulator;
  const devA = () => makeDevice('rtuA', points(0), { id: 3, rtu: { port: join(dir, 'ttyGW'), baudrate: 19200, parity: 'E', databit: 8, stopbit: 1 } });
  const devB = () => makeDevice('rtuB', points(0).slice(0, 1), { id: 4, rtu: { port: join(dir, 'ttyGW'), baudrate: 19200, parity: 'E', databit: 8, stopbit: 1 } });
  let a: ReturnType<typeof devA>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-rtu-'));
    pty = await createPtyPair(join(dir, 'ttyGW'), join(dir, 'ttyGW.sim'));
    a = devA();
    sim = await startModbusSimulator({
      devices: [a, devB()],
      tickMs: 0,
      generators: { rtuA: gens, rtuB: { flow: { kind: 'constant', value: -1 } } },
      serialPaths: { [join(dir, 'ttyGW')]: join(dir, 'ttyGW.sim') },
    });
  });

  after(async () => {
    await sim.stop();
    await pty.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves two unit ids on one bus; reads and writes go through', async () => {
    const ep = sim.endpoints;
    assert.equal(ep.length, 1);
    assert.ok(ep[0]!.kind === 'serial' && ep[0]!.path.endsWith('ttyGW.sim'));
    assert.deepEqual([...ep[0]!.units].sort(), [3, 4]);
    const c = await rtuClient(join(dir, 'ttyGW'), 3, 1000);
    try {
      // One request at a time: a serial bus carries one transaction at once.
      assert.equal(await readAttributeOverWire(c, a, 'flow'), 12.5);
      assert.equal(await readAttributeOverWire(c, a, 'count'), 70_000);
      assert.equal(await readAttributeOverWire(c, a, 'valve'), true);
      assert.equal(await readAttributeOverWire(c, a, 'setpoint'), 4.5);
      assert.deepEqual((await c.readHoldingRegisters(20, 1)).data, [9], 'raw = 4.5 / 0.5');
      await c.writeRegister(20, 14);
      assert.equal(sim.device('rtuA').get('setpoint'), 7);
      c.setID(4);
      assert.deepEqual((await c.readInputRegisters(0, 2)).data, [0xbf80, 0x0000], 'unit 4: float32 -1');
      c.setID(9);
      await assert.rejects(c.readHoldingRegisters(0, 1), (e: { errno?: string }) => e.errno === 'ETIMEDOUT', 'no slave 9 on the bus: silence');
      c.setID(3);
      sim.device('rtuA').setFaults({ exceptions: [{ address: 20, code: 3 }] });
      await assert.rejects(c.readHoldingRegisters(20, 1), (e: { modbusCode?: number }) => e.modbusCode === 3);
      sim.device('rtuA').clearFaults();
      await sim.device('rtuA').disconnect(600);
      await assert.rejects(c.readHoldingRegisters(20, 1), (e: { errno?: string }) => e.errno === 'ETIMEDOUT', 'silent after disconnect');
    } finally {
      await closeClient(c);
    }
  });
});

describe('RTU frames over TCP', () => {
  let sim: ModbusSimulator;
  const dev = makeDevice('gw', points(0), { id: 5, tcp: { address: '127.0.0.1', port: 0, framing: 'rtu' } });

  before(async () => {
    sim = await startModbusSimulator({ devices: [dev], tickMs: 0, generators: { gw: gens } });
  });
  after(() => sim.stop());

  it('answers RTU requests on a plain socket, with faults', async () => {
    const ep = sim.endpoints[0]!;
    assert.ok(ep.kind === 'rtu-over-tcp' && ep.port > 0);
    const c = await telnetClient(ep.port, 5, 800);
    try {
      assert.equal(await readAttributeOverWire(c, dev, 'flow'), 12.5);
      assert.equal(await readAttributeOverWire(c, dev, 'count'), 70_000);
      await c.writeRegisters(10, [0x0001, 0x0002]);
      assert.equal(sim.device('gw').get('count'), 0x0002_0001);
      await c.writeCoil(0, false);
      assert.equal(sim.device('gw').get('valve'), false);
      sim.device('gw').setFaults({ delay: 200 });
      const t0 = Date.now();
      await c.readInputRegisters(0, 2);
      assert.ok(Date.now() - t0 >= 190);
      sim.device('gw').setFaults({ delay: 0, exceptions: [{ table: 'input', address: 1, code: 2 }] });
      await assert.rejects(c.readInputRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
      sim.device('gw').clearFaults();
      assert.equal(await readAttributeOverWire(c, dev, 'flow'), 12.5);
    } finally {
      await closeClient(c);
    }
  });
});
