/**
 * Containment: an isolated plugin that throws (uncaught), exits, hangs (a read that never
 * returns), blocks its event loop or leaks memory past its heap limit is restarted with backoff;
 * its device goes offline and comes back; and a Modbus device on the same gateway keeps
 * publishing at its full rate throughout.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import type { DriverRegistry } from '../../src/gateway/drivers/registry.ts';
import type { IsolatedDescriptor } from '../../src/gateway/plugins/isolated.ts';
import type { WorkerHost } from '../../src/gateway/plugins/worker-host.ts';
import { freePort, Recorder } from '../e2e/harness.ts';
import { REPO } from './link.ts';
import { startPluginGateway, writeFolders } from './harness.ts';

const FAULTY = path.join(REPO, 'test', 'plugins', 'fixtures', 'faulty.ts');
const INTERVAL = 200;

let modbus: ModbusSimulator;
let conf: { dir: string; cleanup: () => void };
let gateway: Gateway;
let registry: DriverRegistry;
let rec: Recorder;
let control: string;

before(async () => {
  const [mbPort, mqttPort] = [await freePort(), await freePort()];
  conf = writeFolders(
    `node: iso\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\n` +
      `drivers:\n  - {name: plant, driver: modbus}\n  - {name: odd, driver: faulty}\n` +
      `plugins:\n  - {path: ${FAULTY}, mode: isolated, maxMemoryMb: 64, hangTimeout: 1s, maxHungCalls: 2}\n`,
    {
      plant: {
        models: 'meter:\n  - {name: voltage, type: float32, mode: ro}\n',
        template: 'meter-tpl:\n  properties:\n    - {name: voltage, id: "1", type: float32, visitor: {modbus: {function: 4, address: "0x0000", quantity: 2, type: float32}}}\n  mappings:\n    - {attribute: voltage, type: value, expression: x1}\n',
        devices: `devices:\n  - name: meter-1\n    deviceModel: meter\n    accessTemplate: meter-tpl\n    accessConfig:\n      modbus: {id: 1, interval: ${INTERVAL}ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${mbPort}}}\ndriver: ""\n`,
      },
      odd: {
        models: 'probe:\n  - {name: count, type: int32, mode: ro}\n',
        template: 'probe-tpl:\n  properties:\n    - {name: count, id: "1", type: int32, visitor: {faulty: {key: c}}}\n  mappings:\n    - {attribute: count, type: value, expression: x1}\n',
        devices: `devices:\n  - name: probe-1\n    deviceModel: probe\n    accessTemplate: probe-tpl\n    accessConfig:\n      faulty: {controlFile: CONTROL, interval: ${INTERVAL}ms, timeout: 300ms}\ndriver: ""\n`,
      },
    },
  );
  control = path.join(conf.dir, 'control');
  writeFileSync(path.join(conf.dir, 'odd', 'sub_devices.yml'), (await import('node:fs')).readFileSync(path.join(conf.dir, 'odd', 'sub_devices.yml'), 'utf8').replace('CONTROL', JSON.stringify(control)));
  writeFileSync(control, 'ok');
  ({ gateway, registry } = await startPluginGateway(conf.dir, (instances) => {
    modbusDevices = instances.find((i) => i.name === 'plant')!.devices;
  }));
  modbus = await startModbusSimulator({ devices: modbusDevices, tickMs: 0 });
  modbus.device('meter-1').set('voltage', 230);
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#']);
});
let modbusDevices: Parameters<typeof startModbusSimulator>[0]['devices'];

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await modbus?.stop();
  conf?.cleanup();
});

const probeReport = (m: { topic: string; json: any }) => m.topic === 'thing/probe/probe-1/property/post' && typeof m.json?.content?.blink?.properties?.count === 'number';
const probeLife = (online: boolean) => (m: { topic: string; json: any }) => m.topic === 'thing/probe/probe-1/lifecycle/post' && m.json?.content?.blink?.params?.online_state === online;
const meterReport = (m: { topic: string; json: any }) => m.topic === 'thing/meter/meter-1/property/post' && m.json?.content?.blink?.properties?.voltage === 230;

async function host(): Promise<WorkerHost> {
  const d = (await registry.get('faulty')) as IsolatedDescriptor;
  const [h] = [...d.hosts];
  assert.ok(h);
  return h;
}

test('crash, exit, hang, blocked loop and heap overflow are each contained and restarted; Modbus keeps its rate', async () => {
  await rec.waitFor(probeReport, 20_000, 'a first probe report');
  await rec.waitFor(meterReport, 5000, 'a first meter report');
  const h = await host();
  const start = Date.now();
  const seen: string[] = [];
  for (const [mode, why] of [
    ['throw', /uncaught in a timer/],
    ['exit', /exited with code 3/],
    ['hang', /plugin hung: 2 calls in a row got no answer/],
    ['block', /no answer to a ping for 1000 ms/],
    ['leak', /ERR_WORKER_OUT_OF_MEMORY/],
  ] as const) {
    const crashes = h.stats.crashes;
    const thread = h.threadId;
    const t0 = Date.now();
    writeFileSync(control, mode);
    await rec.waitFor(probeLife(false), 20_000, `probe offline after ${mode}`, t0);
    const end = Date.now() + 20_000;
    while (h.stats.crashes === crashes && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    assert.equal(h.stats.crashes, crashes + 1, `${mode}: one crash counted`);
    assert.match(h.stats.lastCrash?.message ?? '', why);
    const t1 = Date.now();
    writeFileSync(control, 'ok');
    await rec.waitFor(probeLife(true), 20_000, `probe online again after ${mode}`, t1);
    await rec.waitFor(probeReport, 5000, `probe reporting after ${mode}`, t1);
    assert.notEqual(h.threadId, thread, `${mode}: a new worker thread`);
    seen.push(`${mode}: down ${t1 - t0} ms`);
  }
  assert.equal(h.stats.hangs, 2, 'hang and block counted as hangs');
  // The Modbus device never noticed: reports all along at its interval.
  const meter = rec.messages.filter((m) => m.at >= start && meterReport(m)).map((m) => m.at);
  const span = Date.now() - start;
  let gap = 0;
  for (let i = 1; i < meter.length; i++) gap = Math.max(gap, meter[i]! - meter[i - 1]!);
  assert.ok(meter.length >= (span / INTERVAL) * 0.8, `meter reports ${meter.length} in ${span} ms (${seen.join(', ')})`);
  assert.ok(gap < INTERVAL * 4, `largest gap between meter reports ${gap} ms`);
  assert.equal(rec.messages.some((m) => m.at >= start && m.topic === 'thing/meter/meter-1/lifecycle/post' && m.json?.content?.blink?.params?.online_state === false), false);
});
