/**
 * BACnet/IP simulator → gateway → broker → subscriber, all on 127.0.0.1 with each device on its
 * own UDP port: polled values of several object types arrive typed, a COV-subscribed device
 * reports a change long before its next poll, a delta becomes a WriteProperty at the configured
 * priority (and a relinquish), status flags become quality, and a device that goes silent goes
 * offline and comes back without a gateway restart.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { delta, eventually, freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';

const MODELS = `
ahu:
  - {name: supply-temp, type: float32, mode: ro, unit: "°C"}
  - {name: fan, type: bool, mode: ro}
  - {name: mode, type: int16, mode: ro}
  - {name: label, type: string, mode: ro}
  - {name: runtime, type: int32, mode: ro, unit: h}
  - {name: damper, type: float32, mode: rw, min: -1, max: 100, unit: "%"}
  - {name: enable, type: bool, mode: rw}
room:
  - {name: temp, type: float32, mode: ro, unit: "°C"}
  - {name: occupied, type: bool, mode: ro}
`;

// Baetyl's keys (bacnetType, bacnetAddress, applicationTagNumber, type) with some of ours
// (objectType by name, priority, relinquishValue).
const TEMPLATE = `
ahu-tpl:
  properties:
    - {name: supply-temp, id: "1", type: float32, visitor: {bacnet: {bacnetType: 0, bacnetAddress: 1, applicationTagNumber: 4, type: float32}}}
    - {name: fan-status, id: "2", type: bool, visitor: {bacnet: {bacnetType: 3, bacnetAddress: 2}}}
    - {name: mode, id: "3", type: uint16, visitor: {bacnet: {bacnetType: 19, bacnetAddress: 3}}}
    - {name: label, id: "4", type: string, visitor: {bacnet: {objectType: characterstring-value, bacnetAddress: 4}}}
    - {name: runtime, id: "5", type: int32, visitor: {bacnet: {objectType: integer-value, bacnetAddress: 5}}}
    - {name: damper, id: "6", type: float32, visitor: {bacnet: {bacnetType: 1, bacnetAddress: 6, applicationTagNumber: 4, priority: 8, relinquishValue: -1}}}
    - {name: enable, id: "7", type: bool, visitor: {bacnet: {bacnetType: 5, bacnetAddress: 7}}}
  mappings:
    - {attribute: supply-temp, type: value, expression: x1, precision: 2}
    - {attribute: fan, type: value, expression: x2}
    - {attribute: mode, type: value, expression: x3}
    - {attribute: label, type: value, expression: x4}
    - {attribute: runtime, type: value, expression: x5}
    - {attribute: damper, type: value, expression: x6, precision: 1}
    - {attribute: enable, type: value, expression: x7}
room-tpl:
  properties:
    - {name: temp, id: "1", type: float32, visitor: {bacnet: {bacnetType: 2, bacnetAddress: 1}}}
    - {name: occupied, id: "2", type: bool, visitor: {bacnet: {bacnetType: 5, bacnetAddress: 2}}}
  mappings:
    - {attribute: temp, type: value, expression: x1, precision: 2}
    - {attribute: occupied, type: value, expression: x2}
`;

const POLL_MS = 300;
const COV_DEVICE_POLL_MS = 10_000;

function devices(ahuPort: number, roomPort: number): string {
  return `
devices:
  - name: ahu-1
    version: "1"
    deviceModel: ahu
    accessTemplate: ahu-tpl
    accessConfig:
      bacnet: {deviceId: 1001, address: 127.0.0.1, port: ${ahuPort}, interval: ${POLL_MS}ms, timeout: 400ms, retries: 0, interface: 127.0.0.1}
  - name: room-1
    deviceModel: room
    accessTemplate: room-tpl
    accessConfig:
      bacnet: {deviceId: 2002, address: 127.0.0.1, port: ${roomPort}, interval: ${COV_DEVICE_POLL_MS}ms, timeout: 500ms, interface: 127.0.0.1, subscribe: true, cov: {lifetime: 60s, pollInterval: 0}}
driver: ""
`;
}

/** A UDP port of 127.0.0.1 that is free now (bound to 0, read, released). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const GENERATORS = {
  'ahu-1': {
    'supply-temp': { kind: 'constant', value: 21.5 },
    fan: { kind: 'constant', value: true },
    mode: { kind: 'constant', value: 2 },
    label: { kind: 'constant', value: 'AHU-1 north' },
    runtime: { kind: 'constant', value: -1234 },
    damper: { kind: 'constant', value: 12.5 },
    enable: { kind: 'constant', value: false },
  },
  'room-1': { temp: { kind: 'constant', value: 20.25 }, occupied: { kind: 'constant', value: false } },
} as const;

let conf: { dir: string; cleanup: () => void };
let sim: BacnetSimulator;
let gateway: Gateway;
let rec: Recorder;

before(async () => {
  const [ahuPort, roomPort, mqttPort] = [await freeUdpPort(), await freeUdpPort(), await freePort()];
  conf = writeConf(
    {
      gateway: `node: e2e-bacnet\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: bms, driver: bacnet}\n`,
      models: MODELS,
      template: TEMPLATE,
      devices: devices(ahuPort, roomPort),
    },
    'bms',
  );
  const { instances } = await load(conf.dir);
  // Each device on its configured port (accessConfig.bacnet.port) of 127.0.0.1.
  sim = await startBacnetSimulator({ devices: instances[0]!.devices, tickMs: 0, generators: GENERATORS });
  ({ gateway } = await startTestGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await sim?.stop();
  conf?.cleanup();
});

type Props = Record<string, unknown>;
const report = (product: string, device: string, pred: (p: Props) => boolean) => (m: { topic: string; json: any }) =>
  m.topic === `thing/${product}/${device}/property/post` && pred(m.json.content.blink.properties as Props);
const ahu = (pred: (p: Props) => boolean) => report('ahu', 'ahu-1', pred);
const lifecycle = (online: boolean) => (m: { topic: string; json: any }) => m.topic === 'thing/ahu/ahu-1/lifecycle/post' && m.json.content.blink.params.online_state === online;
const quality = (attr: string) => gateway.store.get('ahu-1')?.meta.report[attr]?.quality;

test('polled values of several object types arrive typed on property/post', async () => {
  const m = await rec.waitFor(ahu((p) => 'supply-temp' in p && 'label' in p), 10_000, 'a full ahu-1 report');
  const p = m.json.content.blink.properties as Props;
  assert.equal(m.json.kind, 'deviceReport');
  assert.deepEqual(m.json.meta, { device: 'ahu-1', deviceProduct: 'ahu', accessTemplate: 'ahu-tpl', node: 'e2e-bacnet', nodeProduct: 'BIE-Product' });
  // analog-input REAL, binary-input ENUMERATED, multi-state-value Unsigned, characterstring-value,
  // integer-value INTEGER, analog-output and binary-value (relinquish-default).
  assert.deepEqual(p, { 'supply-temp': 21.5, fan: true, mode: 2, label: 'AHU-1 north', runtime: -1234, damper: 12.5, enable: false });
  assert.equal(typeof p.fan, 'boolean');
  assert.equal(typeof p.mode, 'number');
  assert.equal(typeof p.label, 'string');
  const sd = sim.device('ahu-1');
  assert.ok(sd.stats.readPropertyMultiple >= 1, 'read with ReadPropertyMultiple');
  // ReadProperty only for the device object at each connect (max-APDU, segmentation): two per connect.
  assert.equal(sd.stats.readProperty % 2, 0, `ReadProperty ${sd.stats.readProperty}`);
});

test('a COV-subscribed device reports a change long before its next poll', async () => {
  const sd = sim.device('room-1');
  // The initial notification (§13.14.1.1) carries the current values.
  await rec.waitFor(report('room', 'room-1', (p) => p.temp === 20.25), 10_000, 'room-1 temp from the initial notification');
  await eventually(() => sd.subscriptions.size === 2, 5000, 'two COV subscriptions on room-1');
  assert.ok([...sd.subscriptions.values()].every((s) => s.lifetime === 60 && !s.confirmed));
  const reads = sd.stats.readPropertyMultiple;
  const since = Date.now();
  sd.setValue('temp', 23.75);
  const m = await rec.waitFor(report('room', 'room-1', (p) => p.temp === 23.75), 5000, 'room-1 temp 23.75', since);
  assert.ok(m.at - since < 1000, `the COV change took ${m.at - since} ms (poll interval ${COV_DEVICE_POLL_MS} ms)`);
  assert.equal(sd.stats.readPropertyMultiple, reads, 'no poll was needed');
  sd.setValue('occupied', true);
  await rec.waitFor(report('room', 'room-1', (p) => p.occupied === true), 2000, 'room-1 occupied by COV', since);
});

test('a delta becomes a WriteProperty at the configured priority; the relinquish value writes NULL', async () => {
  const sd = sim.device('ahu-1');
  const damper = sd.object('damper');
  const since = Date.now();
  await rec.publish('thing/ahu/ahu-1/property/invoke', delta('ahu-1', { damper: 42.5, enable: true }));
  await eventually(() => damper.activePriority() === 8, 5000, 'damper commanded at priority 8');
  // The two writes go one after the other: wait for the second as well.
  await eventually(() => sd.writes.some((x) => x.object === '5:7'), 5000, 'enable written');
  assert.deepEqual(damper.presentValue(), { type: 4, value: 42.5 });
  const w = sd.writes.filter((x) => x.object === '1:6');
  assert.deepEqual(w.map((x) => [x.priority, x.tag, x.value, x.ok]), [[8, 4, 42.5, true]]);
  // No priority in the visitor: the device's default, BACnet's lowest (16); ENUMERATED for a binary-value.
  assert.deepEqual(sd.writes.filter((x) => x.object === '5:7').map((x) => [x.priority, x.tag, x.value]), [[16, 9, 1]]);
  await rec.waitFor(ahu((p) => p.damper === 42.5 && p.enable === true), 5000, 'written values read back', since);

  const again = Date.now();
  await rec.publish('thing/ahu/ahu-1/property/invoke', delta('ahu-1', { damper: -1 }, 'req-2'));
  await eventually(() => damper.activePriority() === undefined, 5000, 'priority 8 relinquished');
  const last = sd.writes.filter((x) => x.object === '1:6').at(-1)!;
  assert.deepEqual([last.priority, last.tag, last.value], [8, 0, null], 'NULL (tag 0) at priority 8');
  await rec.waitFor(ahu((p) => p.damper === 12.5), 5000, 'damper back at its relinquish default', again);
});

test('status flags: fault → bad quality (attribute left out of reports), overridden → uncertain, then good', async () => {
  const sd = sim.device('ahu-1');
  sd.setFlags('supply-temp', { fault: true });
  await eventually(() => quality('supply-temp') === 'bad', 5000, 'supply-temp bad in the shadow');
  const since = Date.now();
  // Reports still flow for the other attributes, without the faulty one.
  const m = await rec.waitFor(ahu((p) => 'runtime' in p), 5000, 'an ahu-1 report after the fault', since);
  assert.equal('supply-temp' in m.json.content.blink.properties, false, JSON.stringify(m.json.content.blink.properties));
  assert.equal(quality('runtime'), 'good');

  sd.setFlags('supply-temp', { fault: false, overridden: true });
  await eventually(() => quality('supply-temp') === 'uncertain', 5000, 'supply-temp uncertain');
  await rec.waitFor(ahu((p) => p['supply-temp'] === 21.5), 5000, 'an uncertain value is still reported', Date.now() - POLL_MS);
  sd.setFlags('supply-temp', { overridden: false });
  await eventually(() => quality('supply-temp') === 'good', 5000, 'supply-temp good again');
});

test('a device that stops answering goes offline, then online again and values flow, without a restart', async () => {
  const sd = sim.device('ahu-1');
  const since = Date.now();
  sd.setFaults({ stopAnswering: true });
  await rec.waitFor(lifecycle(false), 10_000, 'ahu-1 offline', since);
  // The COV device on its own link is not affected.
  const roomSince = Date.now();
  sim.device('room-1').setValue('temp', 19.5);
  await rec.waitFor(report('room', 'room-1', (p) => p.temp === 19.5), 3000, 'room-1 still reporting', roomSince);

  sd.setFaults({ stopAnswering: false });
  await rec.waitFor(lifecycle(true), 20_000, 'ahu-1 online again', since);
  const back = Date.now();
  sd.setValue('runtime', 4321);
  await rec.waitFor(ahu((p) => p.runtime === 4321), 5000, 'values flow again', back);
});
