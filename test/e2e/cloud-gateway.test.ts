/**
 * Gateway ↔ cloud through the real cloud simulator (its own broker) and the real SQLite store:
 * reports reach the cloud shadow, desired values are validated, written to the device and
 * acknowledged, bad ones rejected with reasons, values desired while the device is away are
 * applied when it is back, and a cloud outage loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCloudSimulator } from '../../simulators/cloud/index.ts';
import type { CloudSimulator } from '../../simulators/cloud/index.ts';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { eventually, freePort, load, startTestGateway, writeConf } from './harness.ts';

const NODE = 'edge-7';
let conf: { dir: string; cleanup: () => void };
let sim: ModbusSimulator;
let cloud: CloudSimulator;
let gateway: Gateway;

before(async () => {
  const [simPort, mqttPort, cloudPort] = [await freePort(), await freePort(), await freePort()];
  cloud = await startCloudSimulator({ port: cloudPort, keepHistory: true });
  conf = writeConf({
    gateway: `node: ${NODE}\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ncloud: {url: "mqtt://127.0.0.1:${cloudPort}", drainRate: 2000}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'chiller:\n  - {name: supply-temp, type: float32, mode: ro}\n  - {name: setpoint, type: float32, mode: rw, min: 4, max: 15}\n  - {name: running, type: bool, mode: rw}\n',
    template:
      'chiller-tpl:\n  properties:\n    - {name: t, id: "1", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n    - {name: sp, id: "2", type: int16, visitor: {modbus: {function: 3, address: "0x0", quantity: 1}}}\n    - {name: run, id: "3", type: bool, visitor: {modbus: {function: 1, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: supply-temp, type: calculate, expression: x1/10, precision: 1}\n    - {attribute: setpoint, type: calculate, expression: x2/10, precision: 1}\n    - {attribute: running, type: value, expression: x3}\n',
    devices: `devices:\n  - name: chiller-1\n    deviceModel: chiller\n    accessTemplate: chiller-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 200ms, timeout: 400ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  sim.device('chiller-1').set('supply-temp', 7.2);
  sim.device('chiller-1').set('setpoint', 7);
  sim.device('chiller-1').set('running', true);
  ({ gateway } = await startTestGateway(conf.dir));
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
  await cloud?.close();
  conf?.cleanup();
});

const cloudDevice = () => cloud.device(NODE, 'chiller-1');

test('reports reach the cloud shadow with versions', async () => {
  await cloud.waitFor(() => cloudDevice()?.reported['supply-temp'] === 7.2, 10_000, 'supply-temp 7.2 in the cloud');
  const d = cloudDevice()!;
  assert.deepEqual(d.reported, { 'supply-temp': 7.2, setpoint: 7, running: true });
  assert.ok(d.reportVersion >= 1);
  assert.equal(d.online, true);
  assert.equal(d.metadata['supply-temp']?.quality, 'good');
});

test('a desired value is validated, written to the device, reported and acknowledged', async () => {
  const t0 = performance.now();
  cloud.setDesired(NODE, 'chiller-1', { setpoint: 9.5 });
  await eventually(() => sim.device('chiller-1').readRaw('holding', 0, 1)[0] === 95, 10_000, 'register 95 on the device');
  await cloud.waitFor(() => cloudDevice()?.reported.setpoint === 9.5 && Object.keys(cloudDevice()!.desired).length === 0, 10_000, 'reported 9.5 and the desired value acknowledged');
  const ms = performance.now() - t0;
  assert.ok(ms < 10_000);
  assert.deepEqual(gateway.store.delta('chiller-1'), {});
});

test('bad desired values are rejected with reasons and nothing is written', async () => {
  const before = sim.device('chiller-1').readRaw('holding', 0, 1)[0];
  cloud.setDesired(NODE, 'chiller-1', { setpoint: 40, 'supply-temp': 3, nosuch: 1 });
  await cloud.waitFor(() => Object.keys(cloudDevice()?.rejected ?? {}).length >= 3, 10_000, 'three rejections');
  const r = cloudDevice()!.rejected;
  assert.match(r.setpoint!, /15/);
  assert.match(r['supply-temp']!, /ReadOnly/);
  assert.match(r.nosuch!, /UnknownProperty/);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(sim.device('chiller-1').readRaw('holding', 0, 1)[0], before);
});

test('a value desired while the device is away is written when it comes back', async () => {
  await sim.kill();
  await eventually(() => gateway.devices.get('chiller-1')?.isOnline === false, 5000, 'device offline');
  cloud.setDesired(NODE, 'chiller-1', { running: false });
  await eventually(() => (gateway.store.get('chiller-1')?.desire as Record<string, unknown> | undefined)?.running === false, 10_000, 'desire stored at the edge');
  assert.equal(sim.device('chiller-1').readRaw('coil', 0, 1)[0], 1, 'not written while away');
  await sim.restart();
  await eventually(() => sim.device('chiller-1').readRaw('coil', 0, 1)[0] === 0, 15_000, 'coil written after the device came back');
  await cloud.waitFor(() => cloudDevice()?.reported.running === false && cloudDevice()!.desired.running === undefined, 10_000, 'acknowledged');
});

test('the cloud is down for a while: nothing is lost, order is kept', async () => {
  await cloud.stop();
  const n0 = cloudDevice()!.counters.reports;
  for (let i = 0; i < 20; i++) {
    sim.device('chiller-1').set('supply-temp', 8 + i / 10);
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.ok(gateway.store.stats().outbox.size > 0, 'reports wait in the outbox');
  await cloud.start();
  await cloud.waitFor(() => cloudDevice()?.reported['supply-temp'] === 9.9, 20_000, 'the last value after the outage');
  const d = cloudDevice()!;
  assert.equal(d.counters.gaps, 0, 'no sequence gaps');
  const temps = d.history.filter((h) => h.properties['supply-temp'] !== undefined).map((h) => h.properties['supply-temp'] as number);
  const during = temps.filter((t) => t >= 8 && t <= 9.9);
  assert.deepEqual(during, [...during].sort((a, b) => a - b), 'in order');
  assert.ok(during.length >= 15, `received ${during.length} of the ~20 changes`);
  assert.ok(d.counters.reports > n0);
  await eventually(() => gateway.store.stats().outbox.size === 0, 10_000, 'outbox drained');
});
