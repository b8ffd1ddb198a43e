/**
 * The example KV/1 plugin, loaded from gateway.yaml as an isolated plugin, end to end: simulator
 * → plugin in a worker thread → gateway → embedded broker → subscriber. Values, writes through
 * the delta topic, and pushes (SUB/EVT) crossing the worker boundary.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import type { DriverRegistry } from '../../src/gateway/drivers/registry.ts';
import type { IsolatedDescriptor } from '../../src/gateway/plugins/isolated.ts';
import { startKvSimulator } from '../../examples/driver-plugin/simulator/kv-simulator.ts';
import type { KvSimulator } from '../../examples/driver-plugin/simulator/kv-simulator.ts';
import { delta, freePort, Recorder } from '../e2e/harness.ts';
import { linkFieldgate, REPO } from './link.ts';
import { startPluginGateway, writeFolders } from './harness.ts';

const EXAMPLE = path.join(REPO, 'examples', 'driver-plugin');

let sim: KvSimulator;
let conf: { dir: string; cleanup: () => void };
let gateway: Gateway;
let registry: DriverRegistry;
let rec: Recorder;

before(async () => {
  linkFieldgate(EXAMPLE);
  sim = await startKvSimulator({ keys: { temp: { value: '21.5' }, 'fan.on': { value: '0', writable: true }, serial: { value: 'KV-0042' } } });
  const mqttPort = await freePort();
  conf = writeFolders(`node: kv-node\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: lab, driver: kv}\nplugins:\n  - {path: ${EXAMPLE}, id: kv}\n`, {
    lab: {
      models: 'instrument:\n  - {name: temperature, type: float32, mode: ro}\n  - {name: fan, type: bool, mode: rw}\n  - {name: serial, type: string, mode: ro}\n',
      template:
        'kv-tpl:\n  properties:\n' +
        '    - {name: temp, id: "1", type: float32, visitor: {kv: {key: temp}}}\n' +
        '    - {name: fan, id: "2", type: bool, visitor: {kv: {key: fan.on}}}\n' +
        '    - {name: serial, id: "3", type: string, visitor: {kv: {key: serial}}}\n' +
        '  mappings:\n    - {attribute: temperature, type: value, expression: x1}\n    - {attribute: fan, type: value, expression: x2}\n    - {attribute: serial, type: value, expression: x3}\n',
      devices: `devices:\n  - name: probe-1\n    deviceModel: instrument\n    accessTemplate: kv-tpl\n    accessConfig:\n      kv: {address: 127.0.0.1, port: ${sim.port}, interval: 5s, timeout: 500ms, subscribe: true}\ndriver: ""\n`,
    },
  });
  ({ gateway, registry } = await startPluginGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await sim?.close();
  conf?.cleanup();
});

const report = (m: { topic: string; json: any }) => m.topic === 'thing/instrument/probe-1/property/post' && m.json?.kind === 'deviceReport';

test('values read by the isolated plugin reach the broker in Baetyl envelopes', async () => {
  const m = await rec.waitFor((x) => report(x) && x.json.content.blink.properties.serial === 'KV-0042', 20_000, 'a probe report');
  assert.deepEqual(m.json.meta, { device: 'probe-1', deviceProduct: 'instrument', accessTemplate: 'kv-tpl', node: 'kv-node', nodeProduct: 'BIE-Product' });
  assert.equal(m.json.content.blink.properties.temperature, 21.5);
  assert.equal(m.json.content.blink.properties.fan, false);
  const d = (await registry.get('kv')) as IsolatedDescriptor;
  assert.equal(d.isolated, true);
  const [host] = [...d.hosts];
  assert.ok(host?.threadId !== undefined && host.threadId !== threadId, 'the driver runs in a worker thread');
  assert.equal(host?.stats.crashes, 0);
});

test('a push from the instrument (SUB/EVT) crosses the worker and is published before the next poll', async () => {
  await rec.waitFor(report, 20_000, 'a first report');
  const since = Date.now();
  sim.set('temp', 30.25);
  const m = await rec.waitFor((x) => report(x) && x.json.content.blink.properties.temperature === 30.25, 3000, 'the pushed temperature', since);
  assert.ok(m.at - since < 3000);
});

test('a delta write goes through the worker to the instrument', async () => {
  await rec.waitFor(report, 20_000, 'a first report');
  await rec.publish('thing/instrument/probe-1/property/invoke', delta('probe-1', { fan: true }));
  const end = Date.now() + 5000;
  while (sim.get('fan.on') !== '1' && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  assert.equal(sim.get('fan.on'), '1');
});
