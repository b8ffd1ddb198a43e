/**
 * The conformance kit against real drivers and their simulators: the built-in Modbus and IEC 104
 * drivers, and the example KV/1 plugin in-process and isolated in a worker. Also proves that the
 * kit catches a driver that breaks the rules.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import net from 'node:net';
import { after, test } from 'node:test';
import { assertConformant, runDriverConformance } from '../../src/drivers/sdk/testing/index.ts';
import { DriverError, z } from '../../src/drivers/sdk/index.ts';
import type { DriverDescriptor } from '../../src/drivers/sdk/index.ts';
import { descriptor as modbus } from '../../src/drivers/modbus/index.ts';
import { iec104Driver } from '../../src/drivers/iec104/index.ts';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import { startKvSimulator } from '../../examples/driver-plugin/simulator/kv-simulator.ts';
import { loadPlugin } from '../../src/gateway/plugins/loader.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { freePort } from '../e2e/harness.ts';
import { writeFolders } from './harness.ts';
import { linkFieldgate, REPO } from './link.ts';

const EXAMPLE = path.join(REPO, 'examples', 'driver-plugin');
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const names = (r: { checks: { name: string; status: string }[] }) => r.checks.filter((c) => c.status === 'pass').map((c) => c.name);

test('Modbus driver against the Modbus simulator', async () => {
  const port = await freePort();
  const conf = writeFolders('drivers:\n  - {name: m, driver: modbus}\n', {
    m: {
      models: 'meter:\n  - {name: v, type: float32, mode: ro}\n  - {name: sp, type: int16, mode: rw}\n  - {name: relay, type: bool, mode: rw}\n',
      template:
        'tpl:\n  properties:\n' +
        '    - {name: v, id: "1", type: float32, visitor: {modbus: {function: 4, address: "0x0000", quantity: 2, type: float32}}}\n' +
        '    - {name: sp, id: "2", type: int16, visitor: {modbus: {function: 3, address: "0x0010", quantity: 1, type: int16}}}\n' +
        '    - {name: relay, id: "3", type: bool, visitor: {modbus: {function: 1, address: "0x0000", quantity: 1, type: bool}}}\n' +
        '  mappings:\n    - {attribute: v, type: value, expression: x1}\n    - {attribute: sp, type: value, expression: x2}\n    - {attribute: relay, type: value, expression: x3}\n',
      devices: `devices:\n  - {name: m1, deviceModel: meter, accessTemplate: tpl, accessConfig: {modbus: {id: 1, interval: 1s, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${port}}}}}\ndriver: ""\n`,
    },
  });
  cleanups.push(conf.cleanup);
  const loaded = await loadConfig(conf.dir, createRegistry());
  assert.ok(loaded.ok);
  // Holding register 0x11 answers "illegal data address" (exception 2): next to point 2, so the
  // driver must narrow the merged block down and keep point 2 good.
  const sim = await startModbusSimulator({ devices: loaded.instances[0]!.devices, tickMs: 0, faults: { m1: { exceptions: [{ table: 'holding', address: 0x11, code: 2 }] } } });
  cleanups.push(() => sim.stop());
  sim.device('m1').set('v', 231.5);
  const report = await runDriverConformance(modbus, {
    connection: { id: 1, interval: '1s', timeout: '500ms', tcp: { address: '127.0.0.1', port } },
    points: [
      { id: '1', type: 'float32', address: { function: 4, address: '0x0000', quantity: 2, type: 'float32' } },
      { id: '2', type: 'int16', address: { function: 3, address: '0x0010', quantity: 1, type: 'int16' } },
      { id: '3', type: 'bool', address: { function: 1, address: '0x0000', quantity: 1, type: 'bool' } },
    ],
    missingPoints: [{ id: '9', type: 'int16', address: { function: 3, address: '0x0011', quantity: 1, type: 'int16' } }],
    writes: [
      { id: '2', value: -123 },
      { id: '3', value: true },
    ],
    readOnlyWrites: [{ id: '1', value: 1.5 }],
  });
  assertConformant(report);
  assert.equal(report.points.find((p) => p.id === '1')?.result?.quality, 'good');
  assert.deepEqual(names(report).length, report.checks.length - 1, 'only subscribe is skipped'); // Modbus does not subscribe
});

test('IEC 104 driver against the IEC 104 simulator', async () => {
  const sim = await startIec104Simulator({
    points: [
      { ioa: 0x0001, type: 'M_SP_NA_1', value: true },
      { ioa: 0x4001, type: 'M_ME_NC_1', value: 21.5 },
      { ioa: 0x6201, type: 'M_ME_NC_1', value: 0, command: true },
    ],
  });
  cleanups.push(() => sim.stop());
  const report = await runDriverConformance(iec104Driver, {
    connection: { endpoint: `127.0.0.1:${sim.port}`, interval: '1s', timeout: '2s' },
    points: [
      { id: '1', type: 'bool', address: { pointNum: 0, pointType: 'DI', type: 'bool' } },
      { id: '2', type: 'float32', address: { pointNum: 0, pointType: 'AI', type: 'float32' } },
      { id: '3', type: 'float32', address: { pointNum: 0, pointType: 'AO', type: 'float32' } },
    ],
    missingPoints: [{ id: '9', type: 'float32', address: { pointNum: 40, pointType: 'AI' } }],
    readOnlyWrites: [{ id: '2', value: 3 }],
    subscribe: { ids: ['2'], trigger: () => sim.setValue(0x4001, 42.5) },
  });
  assertConformant(report);
  assert.ok(names(report).includes('subscribe delivers through the sink'));
});

for (const mode of ['inProcess', 'isolated'] as const) {
  test(`the example KV/1 plugin, ${mode}`, async () => {
    linkFieldgate(EXAMPLE);
    const sim = await startKvSimulator({ keys: { temp: { value: '21.5' }, 'fan.on': { value: '0', writable: true } } });
    cleanups.push(() => sim.close());
    const plugin = await loadPlugin({ path: EXAMPLE, mode }, REPO);
    const report = await runDriverConformance(plugin.descriptor, {
      connection: { address: '127.0.0.1', port: sim.port, interval: '1s', timeout: '500ms' },
      points: [
        { id: '1', type: 'float32', address: { key: 'temp' } },
        { id: '2', type: 'bool', address: { key: 'fan.on' } },
      ],
      missingPoints: [{ id: '9', type: 'int32', address: { key: 'absent' } }],
      writes: [{ id: '2', value: true }],
      readOnlyWrites: [{ id: '1', value: 5 }],
      subscribe: { ids: ['1'], trigger: () => sim.set('temp', 22) },
      stepTimeout: 20_000, // a worker's first start compiles TypeScript
    });
    assertConformant(report);
    assert.equal(report.checks.filter((c) => c.status === 'skip').length, 0);
    assert.equal(sim.connections, 0);
  });
}

test('the kit reports a driver that breaks the rules, check by check, without throwing', async () => {
  const server = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  const bad: DriverDescriptor<{ interval: number; timeout: number; port: number }, { n: number }> = {
    id: 'sloppy',
    version: '0.0.1',
    sdkVersion: '^1.0.0',
    title: 'breaks rules',
    connectionSchema: z.object({ port: z.number(), interval: z.number().default(1000), timeout: z.number().default(500) }),
    addressSchema: z.object({ n: z.number() }),
    capabilities: { read: true, write: true, subscribe: false, discover: false, batch: false }, // claims write, has none
    link: () => ({ key: 'k', window: 1 }),
    create: () => ({
      async connect(c) {
        sockets.push(net.connect(c.port, '127.0.0.1')); // never closed: a leak
        return {
          async read(_d, points) {
            if (points.some((p) => p.address.n < 0)) throw new DriverError('BadAddress', 'one bad point fails the batch');
            return points.slice(1).map((p) => ({ id: p.id, quality: 'good' as const, value: p.address.n })); // drops one
          },
          async close() {},
        };
      },
    }),
  };
  const report = await runDriverConformance(bad, {
    connection: { port },
    points: [
      { id: '1', type: 'int32', address: { n: 1 } },
      { id: '2', type: 'int32', address: { n: 2 } },
    ],
    missingPoints: [{ id: '3', type: 'int32', address: { n: -1 } }],
    leakWait: 300,
  });
  const failed = Object.fromEntries(report.failures.map((f) => [f.name, f.message]));
  assert.deepEqual(Object.keys(failed).sort(), [
    'capabilities match methods',
    'close() is idempotent',
    'close() leaves no timers or sockets',
    'read: one result per point',
    'read: per-point failures do not throw',
  ]);
  assert.match(failed['capabilities match methods']!, /capabilities.write is true but session.write is undefined/);
  assert.match(failed['read: one result per point']!, /no result for point 1/);
  assert.match(failed['read: per-point failures do not throw']!, /threw BadAddress/);
  assert.match(failed['close() leaves no timers or sockets']!, /TCPSocketWrap/);
  assert.match(failed['close() is idempotent']!, /a read after close resolved/);
  assert.equal(report.ok, false);
  assert.throws(() => assertConformant(report), /driver sloppy is not conformant:\n {2}✗/);
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});
