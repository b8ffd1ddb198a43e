/**
 * Modbus RTU: (1) over a serial line, a socat pty pair with a modbus-serial ServerSerial on one
 * end and the driver on the other, two unit ids on one bus; (2) RTU frames over TCP, the same
 * server behind `socat TCP-LISTEN ... <pty>` (a transparent serial-to-Ethernet gateway).
 * socat is required: without it the tests fail with a message.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import descriptor from '../../src/drivers/modbus/index.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import type { DeviceRef, Point, ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import { context, dev, freePort, never, pt } from './helpers.ts';
import { ptyPair, serialServer, stop, tables, waitFor } from './servers.ts';

type S = Session<ModbusConnection, ModbusAddress>;

const points: Point<ModbusAddress>[] = [
  pt('h0', 'uint16', { function: 3, address: 0 }),
  pt('f', 'float32', { function: 3, address: 1 }),
  pt('c1', 'bool', { function: 1, address: 1 }),
  pt('i0', 'int16', { function: 4, address: 0 }),
];

function unitTables(base: number) {
  return tables({
    holding: new Map([[0, base], [1, 0x4049], [2, 0x0fdb], [3, 0]]), // float32 3.1415927 at 1..2
    input: new Map([[0, 0x10000 - base]]), // int16 -base
    coils: new Map(Array.from({ length: 8 }, (_, i) => [i, i === 1 && base === 200])),
  });
}

async function pollAll(s: S, d: DeviceRef<ModbusConnection>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const g of s.planReads!(d, points)) {
    for (const r of (await s.read(d, g, never)) as ReadResult[]) out[r.id] = r.quality !== 'bad' ? r.value : `bad:${r.error.code}`;
  }
  return out;
}

describe('Modbus RTU', () => {
  test('serial bus over a socat pty pair: two unit ids read in turn, a write, an unknown unit', async () => {
    const pty = await ptyPair();
    const u1 = unitTables(100);
    const u2 = unitTables(200);
    const server = await serialServer(pty.a, new Map([[1, u1], [2, u2]]));
    const rtu = { port: pty.b, baudrate: 19200, parity: 'N', databit: 8, stopbit: 1 };
    const d1 = dev('m1', { id: 1, timeout: 1000, interFrameDelay: '5ms', rtu });
    const d2 = dev('m2', { id: 2, timeout: 1000, interFrameDelay: '5ms', rtu });
    assert.deepEqual(descriptor.link(d1.connection), descriptor.link(d2.connection), 'one link for the bus');
    assert.equal(descriptor.link(d1.connection).window, 1);
    const lost: unknown[] = [];
    let s: S | undefined;
    try {
      s = await descriptor.create(context()).connect(d1.connection, { signal: never, onLost: (e) => lost.push(e) });
      for (let round = 0; round < 2; round++) {
        assert.deepEqual(await pollAll(s, d1), { h0: 100, f: Math.fround(3.1415927), c1: false, i0: -100 });
        assert.deepEqual(await pollAll(s, d2), { h0: 200, f: Math.fround(3.1415927), c1: true, i0: -200 });
      }
      // Calls issued together are still serialized on the bus (parallel RTU requests would time out).
      const both = await Promise.all([s.read(d1, [points[0]!], never), s.read(d2, [points[0]!], never)]);
      assert.deepEqual(both.map((r) => (r[0]?.quality === 'good' ? r[0].value : r[0])), [100, 200]);
      const w = await s.write!(d2, [{ point: points[0]!, value: 4242 }], never);
      assert.deepEqual(w, [{ id: 'h0', ok: true }]);
      assert.equal(u2.holding.get(0), 4242);
      assert.equal(u1.holding.get(0), 100);
      const ghost = dev('m3', { ...d1.connection, id: 3 });
      const r3 = await s.read(ghost, [points[0]!], never);
      assert.ok(r3[0]?.quality === 'bad' && r3[0].error.code === 'Exception', JSON.stringify(r3));
      assert.deepEqual(lost, []);
    } finally {
      await s?.close();
      await server.close();
      await pty.close();
    }
  });

  test('RTU frames over TCP through socat to a serial server', async () => {
    const pty = await ptyPair();
    const u1 = unitTables(100);
    const server = await serialServer(pty.a, new Map([[1, u1]]));
    const port = await freePort();
    const bridge = spawn('socat', ['-d', '-d', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `${pty.b},raw,echo=0`], { stdio: ['ignore', 'ignore', 'pipe'] });
    pty.children.unshift(bridge);
    let log = '';
    bridge.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    let s: S | undefined;
    try {
      // Probing the port would use up socat's single accept; wait for its own "listening" line.
      await waitFor(() => /listening on/.test(log) || bridge.exitCode !== null, 5000, 'socat to listen');
      assert.equal(bridge.exitCode, null, `socat exited: ${log}`);
      const d = dev('gw', { id: 1, timeout: 1000, tcp: { address: '127.0.0.1', port, framing: 'rtu' } });
      assert.deepEqual(descriptor.link(d.connection), { key: `tcp:127.0.0.1:${port}:rtu`, window: 1 });
      s = await descriptor.create(context()).connect(d.connection, { signal: never, onLost: () => {} });
      assert.deepEqual(await pollAll(s, d), { h0: 100, f: Math.fround(3.1415927), c1: false, i0: -100 });
      const w = await s.write!(d, [{ point: points[2]!, value: true }], never);
      assert.deepEqual(w, [{ id: 'c1', ok: true }]);
      assert.equal(u1.coils.get(1), true);
      assert.equal((await pollAll(s, d)).c1, true);
    } finally {
      await s?.close();
      await stop(bridge);
      await server.close();
      await pty.close();
    }
  });
});
