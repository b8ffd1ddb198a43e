/**
 * Interop: the simulator answers mbpoll (libmodbus), an independent Modbus master. mbpoll's
 * references are 1-based by default (-r 1 = address 0).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { createPtyPair } from '../../simulators/common/pty.ts';
import type { PtyPair } from '../../simulators/common/pty.ts';
import { makeDevice } from './helpers.ts';
import type { PointSpec } from './helpers.ts';

const run = promisify(execFile);

/** Runs mbpoll once and returns the `[ref]: value` lines as a map (the signed form when shown). */
async function mbpoll(args: readonly string[]): Promise<Map<number, string>> {
  const { stdout } = await run('mbpoll', [...args], { encoding: 'utf8', timeout: 10_000 });
  const out = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    // e.g. "[1]: \t65529 (-7)" or "[3]: \t1.5"
    const m = /^\[(\d+)\]:\s+(\S+)(?:\s+\((-?\d+)\))?/.exec(line);
    if (m) out.set(Number(m[1]), m[3] ?? m[2]!);
  }
  return out;
}

const specs: PointSpec[] = [
  { id: '1', name: 'temp', type: 'int16', visitor: { function: 3, address: 0 }, attribute: { name: 'temp', type: 'int16' } },
  { id: '2', name: 'hum', type: 'uint16', visitor: { function: 3, address: 1 }, attribute: { name: 'hum', type: 'uint16' } },
  { id: '3', name: 'flow', type: 'float32', visitor: { function: 3, address: 2 }, attribute: { name: 'flow', type: 'float32' } },
  { id: '4', name: 'energy', type: 'int32', visitor: { function: 4, address: 0, byteOrder: 'CDAB' }, attribute: { name: 'energy', type: 'int32' } },
  { id: '5', name: 'run', type: 'bool', visitor: { function: 1, address: 0 }, attribute: { name: 'run', type: 'bool' } },
  { id: '6', name: 'trip', type: 'bool', visitor: { function: 2, address: 1 }, attribute: { name: 'trip', type: 'bool' } },
];
const gens = {
  temp: { kind: 'constant', value: -7 },
  hum: { kind: 'constant', value: 55 },
  flow: { kind: 'constant', value: 1.5 },
  energy: { kind: 'constant', value: -100_000 },
  run: { kind: 'constant', value: true },
  trip: { kind: 'constant', value: true },
} as const;

describe('mbpoll reads the simulator over Modbus/TCP', () => {
  let sim: ModbusSimulator;
  let port: string;
  before(async () => {
    sim = await startModbusSimulator({ devices: [makeDevice('m', specs, { id: 1, tcp: { address: '127.0.0.1', port: 0 } })], tickMs: 0, generators: { m: gens } });
    const ep = sim.endpoints[0]!;
    assert.ok(ep.kind === 'tcp');
    port = String(ep.port);
  });
  after(() => sim.stop());

  const tcp = (...args: string[]) => mbpoll(['-m', 'tcp', '-a', '1', '-1', '-p', port, ...args, '127.0.0.1']);

  it('holding registers (16-bit, signed shown in parentheses)', async () => {
    const v = await tcp('-t', '4', '-r', '1', '-c', '2');
    assert.equal(v.get(1), '-7');
    assert.equal(v.get(2), '55');
  });

  it('a big-endian float and a word-swapped int32', async () => {
    assert.equal((await tcp('-t', '4:float', '-B', '-r', '3', '-c', '1')).get(3), '1.5');
    // mbpoll's default 32-bit word order is low word first, which is CDAB.
    assert.equal((await tcp('-t', '3:int', '-r', '1', '-c', '1')).get(1), '-100000');
  });

  it('coils and discrete inputs', async () => {
    const coils = await tcp('-t', '0', '-r', '1', '-c', '2');
    assert.equal(coils.get(1), '1');
    assert.equal(coils.get(2), '0');
    assert.equal((await tcp('-t', '1', '-r', '2', '-c', '1')).get(2), '1');
  });

  it('a register written by mbpoll is kept', async () => {
    await run('mbpoll', ['-m', 'tcp', '-a', '1', '-p', port, '-t', '4', '-r', '2', '127.0.0.1', '77'], { timeout: 10_000 });
    assert.equal(sim.device('m').get('hum'), 77);
    sim.tick(5000);
    assert.equal((await tcp('-t', '4', '-r', '2', '-c', '1')).get(2), '77');
  });
});

describe('mbpoll reads the simulator over RTU (socat pty)', () => {
  let dir: string;
  let pty: PtyPair;
  let sim: ModbusSimulator;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-mbpoll-'));
    const gw = join(dir, 'ttyGW');
    pty = await createPtyPair(gw, `${gw}.sim`);
    const dev = makeDevice('r', specs, { id: 9, rtu: { port: gw, baudrate: 19200, parity: 'E', databit: 8, stopbit: 1 } });
    sim = await startModbusSimulator({ devices: [dev], tickMs: 0, generators: { r: gens }, serialPaths: { [gw]: `${gw}.sim` } });
  });
  after(async () => {
    await sim.stop();
    await pty.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holding registers over RTU', async () => {
    const v = await mbpoll(['-m', 'rtu', '-a', '9', '-b', '19200', '-P', 'even', '-1', '-t', '4', '-r', '1', '-c', '2', join(dir, 'ttyGW')]);
    assert.equal(v.get(1), '-7');
    assert.equal(v.get(2), '55');
  });
});
