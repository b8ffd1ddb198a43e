/**
 * IEC 60870-5-104 station simulator → gateway → broker: interrogated and spontaneous values
 * arrive as reports, a delta becomes a select-before-operate setpoint on the station, and a
 * station that drops its connection goes offline and comes back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startIec104Simulator } from '../../simulators/iec104/index.ts';
import type { Iec104Simulator } from '../../simulators/iec104/index.ts';
import { pointsFromTemplate } from '../../simulators/iec104/template.ts';
import type { TemplateProperty } from '../../simulators/iec104/template.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { delta, eventually, freePort, Recorder, startTestGateway, writeConf } from './harness.ts';

const PROPERTIES: TemplateProperty[] = [
  { name: 'bus-voltage', id: '1', type: 'float32', visitor: { iec104: { pointNum: 0, pointType: 'AI', type: 'float32' } } },
  { name: 'breaker-closed', id: '2', type: 'bool', visitor: { iec104: { pointNum: 0, pointType: 'DI', type: 'bool' } } },
  { name: 'voltage-setpoint', id: '3', type: 'float32', visitor: { iec104: { pointNum: 0, pointType: 'AO', type: 'float32' } } },
];

let station: Iec104Simulator;
let gateway: Gateway;
let rec: Recorder;
let conf: { dir: string; cleanup: () => void };
let ioa: Record<string, number>;

before(async () => {
  const [port, mqttPort] = [await freePort(), await freePort()];
  const access = { interval: '1s', timeout: '2s', endpoint: `127.0.0.1:${port}` };
  const points = pointsFromTemplate(PROPERTIES, access, { 'bus-voltage': 10.5, 'breaker-closed': true, 'voltage-setpoint': 10 });
  ioa = Object.fromEntries(PROPERTIES.map((p, i) => [p.name, points[i]!.ioa]));
  station = await startIec104Simulator({ port, points, commonAddress: 1 });
  conf = writeConf(
    {
      gateway: `node: e2e\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: substation, driver: iec104}\n`,
      models: 'feeder:\n  - {name: voltage, type: float32, mode: ro, unit: kV}\n  - {name: breaker, type: bool, mode: ro}\n  - {name: setpoint, type: float32, mode: rw, min: 0, max: 40}\n',
      template: JSON.stringify({
        'feeder-104': {
          properties: PROPERTIES,
          mappings: [
            { attribute: 'voltage', type: 'value', expression: 'x1', precision: 2 },
            { attribute: 'breaker', type: 'value', expression: 'x2' },
            { attribute: 'setpoint', type: 'value', expression: 'x3', precision: 2 },
          ],
        },
      }),
      devices: JSON.stringify({ devices: [{ name: 'feeder-1', deviceModel: 'feeder', accessTemplate: 'feeder-104', accessConfig: { iec104: access } }], driver: '' }),
    },
    'substation',
  );
  ({ gateway } = await startTestGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await station?.stop();
  conf?.cleanup();
});

const report = (pred: (p: Record<string, unknown>) => boolean) => (m: { topic: string; json: any }) =>
  m.topic === 'thing/feeder/feeder-1/property/post' && pred(m.json.content.blink.properties);

test('interrogated values arrive as a report', async () => {
  // Interrogation answers come as one ASDU per type, so the values may arrive in separate reports.
  const v = await rec.waitFor(report((p) => p.voltage === 10.5), 10_000, 'voltage 10.5 from interrogation');
  const b = await rec.waitFor(report((p) => p.breaker === true), 10_000, 'breaker closed from interrogation');
  assert.equal(v.json.kind, 'deviceReport');
  assert.equal(b.json.meta.device, 'feeder-1');
});

test('a spontaneous change reaches the broker without waiting for a poll', async () => {
  const since = Date.now();
  station.setValue(ioa['bus-voltage']!, 11.25);
  station.setValue(ioa['breaker-closed']!, false);
  const m = await rec.waitFor(report((p) => p.voltage === 11.25), 5000, 'voltage 11.25', since);
  assert.ok(m.at - since < 900, `spontaneous value took ${m.at - since} ms (the poll interval is 1 s)`);
  await rec.waitFor(report((p) => p.breaker === false), 5000, 'breaker open', since);
});

test('a delta becomes a setpoint command on the station', async () => {
  await rec.publish('thing/feeder/feeder-1/property/invoke', delta('feeder-1', { setpoint: 21.5 }));
  await eventually(() => station.getValue(ioa['voltage-setpoint']!) === 21.5, 5000, 'station setpoint 21.5');
  assert.ok(station.commands.some((c) => JSON.stringify(c).includes('21.5')), JSON.stringify(station.commands));
});

test('a dropped connection: offline, then back online by itself', async () => {
  const since = Date.now();
  station.faults.stopAnswering();
  station.faults.dropConnections();
  await rec.waitFor((m) => m.topic === 'thing/feeder/feeder-1/lifecycle/post' && m.json.content.blink.params.online_state === false, 10_000, 'offline', since);
  station.faults.resume();
  await rec.waitFor((m) => m.topic === 'thing/feeder/feeder-1/lifecycle/post' && m.json.content.blink.params.online_state === true && m.at > since, 20_000, 'online again', since);
  const back = Date.now();
  station.setValue(ioa['bus-voltage']!, 12.75);
  await rec.waitFor(report((p) => p.voltage === 12.75), 5000, 'values flow again', back);
});
