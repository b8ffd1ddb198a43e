/**
 * `fieldgate discover bacnet` against the BACnet simulator on 127.0.0.1: unicast Who-Is finds the
 * devices, the printed model and template name every object by its object-name with the type and
 * access its object type implies, the folder it writes loads as a driver instance as it is, a
 * device without ReadPropertyMultiple is read with ReadProperty, and silence or bad options give
 * clear messages and exit codes 1 and 2.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimulator } from '../../simulators/bacnet/index.ts';
import { discoverBacnetCommand } from '../../src/gateway/cli/discover-bacnet.ts';
import { load, writeConf } from '../e2e/harness.ts';

const TEMPLATE = `
ahu-tpl:
  properties:
    - {name: supply-temp, id: "1", type: float32, visitor: {bacnet: {bacnetType: 0, bacnetAddress: 1}}}
    - {name: fan-status, id: "2", type: bool, visitor: {bacnet: {bacnetType: 3, bacnetAddress: 2}}}
    - {name: mode, id: "3", type: uint16, visitor: {bacnet: {bacnetType: 19, bacnetAddress: 3}}}
    - {name: label, id: "4", type: string, visitor: {bacnet: {objectType: characterstring-value, bacnetAddress: 4}}}
    - {name: runtime, id: "5", type: int32, visitor: {bacnet: {objectType: integer-value, bacnetAddress: 5}}}
    - {name: damper, id: "6", type: float32, visitor: {bacnet: {bacnetType: 1, bacnetAddress: 6}}}
room-tpl:
  properties:
    - {name: "room temp", id: "1", type: float32, visitor: {bacnet: {bacnetType: 2, bacnetAddress: 1}}}
    - {name: occupied, id: "2", type: bool, visitor: {bacnet: {bacnetType: 5, bacnetAddress: 2}}}
`;

let sim: BacnetSimulator;
let simConf: { dir: string; cleanup: () => void };
let tmp: string;
let ahu: string;
let room: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-discover-bacnet-'));
  simConf = writeConf(
    {
      gateway: 'node: sim\nembeddedBroker: {host: 127.0.0.1, port: 1}\ndrivers:\n  - {name: bms, driver: bacnet}\n',
      models: 'ahu: []\nroom: []\n',
      template: TEMPLATE,
      devices:
        'devices:\n  - {name: ahu, deviceModel: ahu, accessTemplate: ahu-tpl, accessConfig: {bacnet: {deviceId: 1001, address: 127.0.0.1}}}\n' +
        '  - {name: room, deviceModel: room, accessTemplate: room-tpl, accessConfig: {bacnet: {deviceId: 2002, address: 127.0.0.1}}}\ndriver: ""\n',
    },
    'bms',
  );
  const { instances } = await load(simConf.dir);
  sim = await startBacnetSimulator({ devices: instances[0]!.devices, port: 0, tickMs: 0 });
  ahu = sim.device('ahu').address;
  room = sim.device('room').address;
});

after(async () => {
  await sim?.stop();
  simConf?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function capture(): { out: string[]; err: string[]; io: { stdout: (t: string) => void; stderr: (t: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) } };
}

test('discover bacnet: unicast Who-Is to two devices prints a model, a template and the devices', async () => {
  const c = capture();
  const t0 = Date.now();
  const code = await discoverBacnetCommand({ address: [ahu, room], interface: '127.0.0.1', wait: '5s', timeout: '1s' }, c.io);
  assert.equal(code, 0, c.err.join(''));
  assert.ok(Date.now() - t0 < 4000, 'stops waiting once every address answered');
  const docs = parseAllDocuments(c.out.join('')).map((d) => d.toJS());
  assert.equal(docs.length, 3);
  const [models, templates, subDevices] = docs as [any, any, any];
  assert.deepEqual(models['bacnet-1001'], [
    { name: 'supply-temp', type: 'float32', mode: 'ro' },
    { name: 'fan-status', type: 'bool', mode: 'ro' },
    { name: 'mode', type: 'uint16', mode: 'rw' },
    { name: 'label', type: 'string', mode: 'rw' },
    { name: 'runtime', type: 'int32', mode: 'rw' },
    { name: 'damper', type: 'float32', mode: 'rw' },
  ]);
  // An object-name with a space becomes a property name with a dash.
  assert.deepEqual(models['bacnet-2002'].map((p: { name: string }) => p.name), ['room-temp', 'occupied']);
  const props = templates['bacnet-template-1001'].properties;
  assert.deepEqual(props[0], { name: 'supply-temp', id: '1', type: 'float32', visitor: { bacnet: { bacnetType: 0, bacnetAddress: 1, applicationTagNumber: 4, type: 'float32' } } });
  assert.deepEqual(props[3].visitor, { bacnet: { bacnetType: 40, bacnetAddress: 4, applicationTagNumber: 7, type: 'string' } });
  assert.deepEqual(templates['bacnet-template-1001'].mappings[1], { attribute: 'fan-status', type: 'value', expression: 'x2' });
  assert.deepEqual(
    subDevices.devices.map((d: any) => [d.name, d.deviceModel, d.accessTemplate, d.accessConfig.bacnet]),
    [
      ['bacnet-device-1001', 'bacnet-1001', 'bacnet-template-1001', { deviceId: 1001, address: '127.0.0.1', port: sim.device('ahu').port, interval: '5s', interface: '127.0.0.1' }],
      ['bacnet-device-2002', 'bacnet-2002', 'bacnet-template-2002', { deviceId: 2002, address: '127.0.0.1', port: sim.device('room').port, interval: '5s', interface: '127.0.0.1' }],
    ],
  );
  assert.match(c.err.join(''), /2 device\(s\) \(1001 at 127\.0\.0\.1:\d+, 2002 at 127\.0\.0\.1:\d+\), 8 object\(s\)/);
  assert.ok(sim.device('ahu').stats.whoIs >= 1 && sim.device('room').stats.whoIs >= 1);
});

test('discover bacnet: the folder it writes loads as a driver instance; a device without RPM is read with ReadProperty', async () => {
  const sd = sim.device('ahu');
  sd.setFaults({ rejectRpm: true });
  const before = sd.stats.readProperty;
  try {
    const out = path.join(tmp, 'conf', 'found');
    const c = capture();
    const code = await discoverBacnetCommand({ address: ahu, deviceId: 1001, interface: '127.0.0.1', wait: '2s', timeout: '1s', product: 'air-handler', template: 'air-handler-tpl', device: 'ahu-7', interval: '2s', out }, c.io);
    assert.equal(code, 0, c.err.join(''));
    // object-list, then one object-name per object after the rejected ReadPropertyMultiple.
    assert.ok(sd.stats.readProperty - before >= 7, `ReadProperty ${sd.stats.readProperty - before}`);
    writeFileSync(path.join(tmp, 'conf', 'gateway.yaml'), 'node: n\nembeddedBroker: {host: 127.0.0.1, port: 1}\ndrivers:\n  - {name: found, driver: bacnet}\n');
    const { instances } = await load(path.join(tmp, 'conf'));
    const d = instances[0]!.devices[0]!;
    assert.equal(d.name, 'ahu-7');
    assert.equal(d.product, 'air-handler');
    assert.deepEqual(d.points.map((p) => p.name), ['supply-temp', 'fan-status', 'mode', 'label', 'runtime', 'damper']);
    assert.equal((d.connection as { interval?: number }).interval, 2000);
    // Written again only with --force.
    const again = capture();
    assert.equal(await discoverBacnetCommand({ address: ahu, interface: '127.0.0.1', out }, again.io), 2);
    assert.match(again.err.join(''), /already in .*--force/);
  } finally {
    sd.setFaults({ rejectRpm: false });
  }
});

test('discover bacnet: no answer exits 1; bad options exit 2', async () => {
  // A bound socket that never answers.
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  try {
    const c = capture();
    const code = await discoverBacnetCommand({ address: `127.0.0.1:${silent.address().port}`, interface: '127.0.0.1', wait: '300ms' }, c.io);
    assert.equal(code, 1);
    assert.match(c.err.join(''), /no I-Am within 0\.3 s \(Who-Is to 127\.0\.0\.1:\d+\)/);
    // The device asked for is not the one at the address.
    const other = capture();
    assert.equal(await discoverBacnetCommand({ address: ahu, deviceId: 2002, interface: '127.0.0.1', wait: '300ms' }, other.io), 1);
    assert.match(other.err.join(''), /no I-Am from device 2002/);
  } finally {
    silent.close();
  }
  const bad = capture();
  assert.equal(await discoverBacnetCommand({ address: ahu, port: 'x', wait: 'soon', deviceId: -1 }, bad.io), 2);
  const text = bad.err.join('');
  assert.match(text, /--port: expected an integer in 1\.\.65535, got x/);
  assert.match(text, /--device-id: expected an integer/);
  assert.match(text, /--wait: expected a duration/);
});
