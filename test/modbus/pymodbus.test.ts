/**
 * Interop: the driver against a pymodbus TCP server (test/modbus/fixtures/pymodbus_server.py,
 * Debian's python3-pymodbus run by /usr/bin/python3) with known tables; writes are checked back
 * with mbpoll, an independent Modbus master. Missing tools fail the test with a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import descriptor from '../../src/drivers/modbus/index.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import type { Point, Session } from '../../src/drivers/sdk/index.ts';
import { context, dev, freePort, never, pt } from './helpers.ts';
import { requireTool, stop, waitFor } from './servers.ts';

const PYTHON = '/usr/bin/python3';
const FIXTURE = fileURLToPath(new URL('./fixtures/pymodbus_server.py', import.meta.url));

test('reads and writes a pymodbus server', async () => {
  const check = spawnSync(PYTHON, ['-c', 'import pymodbus; print(pymodbus.__version__)'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `${PYTHON} cannot import pymodbus (apt-get install python3-pymodbus): ${check.stderr ?? check.error}`);
  requireTool('mbpoll', 'apt-get install mbpoll');
  const port = await freePort();
  const py = spawn(PYTHON, [FIXTURE, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  py.stdout.on('data', (b: Buffer) => (out += b.toString()));
  py.stderr.on('data', (b: Buffer) => (err += b.toString()));
  let s: Session<ModbusConnection, ModbusAddress> | undefined;
  try {
    await waitFor(() => out.includes(`ready ${port}`) || py.exitCode !== null, 15_000, 'the pymodbus server');
    assert.equal(py.exitCode, null, `pymodbus server exited: ${err}`);
    const d = dev('py', { id: 1, timeout: 2000, tcp: { address: '127.0.0.1', port } });
    s = await descriptor.create(context()).connect(d.connection, { signal: never, onLost: () => {} });
    const points: Point<ModbusAddress>[] = [
      pt('u16', 'uint16', { function: 3, address: '0x0' }),
      pt('i16', 'int16', { function: 3, address: 1 }),
      pt('f32', 'float32', { function: 3, address: 2 }),
      pt('u32', 'uint32', { function: 3, address: 4 }),
      pt('str', 'string', { function: 3, address: 6, quantity: 2 }),
      pt('bit0', 'bool', { function: 3, address: 8, bit: 0 }),
      pt('bit15', 'bool', { function: 3, address: 8, bit: 15 }),
      pt('bit1', 'bool', { function: 3, address: 8, bit: 1 }),
      pt('in0', 'uint16', { function: 4, address: 0 }),
      pt('in1', 'uint16', { function: 4, address: 1, scale: 0.5 }),
      pt('inF', 'float32', { function: 4, address: 2 }),
      pt('in4', 'int16', { function: 4, address: 4 }),
      ...[0, 1, 2, 3, 7].map((a) => pt(`c${a}`, 'bool', { function: 1, address: a })),
      ...[0, 1, 4].map((a) => pt(`d${a}`, 'bool', { function: 2, address: a })),
    ];
    const got: Record<string, unknown> = {};
    const groups = s.planReads!(d, points);
    assert.equal(groups.length, 4, 'one request per table');
    for (const g of groups) for (const r of await s.read(d, g, never)) got[r.id] = r.quality !== 'bad' ? r.value : `bad:${r.error.code}:${r.error.message}`;
    assert.deepEqual(got, {
      u16: 0x1234, i16: -2, f32: 1.5, u32: 305419896, str: 'PyMB', bit0: true, bit15: true, bit1: false,
      in0: 1000, in1: 1000, inF: -2.25, in4: 7,
      c0: true, c1: false, c2: true, c3: true, c7: true, d0: false, d1: true, d4: true,
    });

    // Writes: FC16 (uint32), FC6 (int16), FC5 (coil), bit read-modify-write; then mbpoll reads them.
    const w = await s.write!(
      d,
      [
        { point: pt('w32', 'uint32', { function: 3, address: 10 }), value: 0x00c0ffee },
        { point: pt('w16', 'int16', { function: 3, address: 12 }), value: -300 },
        { point: pt('wc', 'bool', { function: 1, address: 5 }), value: true },
        { point: pt('wb', 'bool', { function: 3, address: 8, bit: 1 }), value: true },
      ],
      never,
    );
    assert.deepEqual(w.map((x) => x.ok), [true, true, true, true], JSON.stringify(w));
    // mbpoll: -r is 1-based (reference 11 = address 10), -1 polls once, -t 4:hex holding registers.
    const mb = spawnSync('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1', '-r', '9', '-c', '5', '-t', '4:hex', '-1', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(mb.status, 0, mb.stderr);
    const regs = [...mb.stdout.matchAll(/^\[(\d+)\]:\s+0x([0-9A-F]{4})/gim)].map((m) => `${m[1]}=${m[2]!.toUpperCase()}`);
    assert.deepEqual(regs, ['9=8003', '10=0000', '11=00C0', '12=FFEE', '13=FED4']);
    const coils = spawnSync('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1', '-r', '6', '-c', '1', '-t', '0', '-1', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
    assert.match(coils.stdout, /^\[6\]:\s+1$/m);
  } finally {
    await s?.close();
    await stop(py);
  }
});
