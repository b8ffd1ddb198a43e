/**
 * OPC UA simulator → gateway → broker → subscriber, with real parts on 127.0.0.1. Two devices on
 * one server, addressed with Baetyl's nsBase/idBase/idType and per-device idOffset: `plc-sub` in
 * subscribe mode (monitored items, 50 ms sampling, a 10 s poll interval) and `plc-poll` in poll
 * mode (300 ms). Values pushed by monitored items arrive well before the next poll; polled values
 * arrive; a delta writes every type with the node's own DataType (the simulator answers
 * BadTypeMismatch to any other); a Bad status makes one attribute bad in the shadow and leaves it
 * out of the reports; and a server restart on the same port takes both devices offline and back
 * online, with values flowing again, without restarting the gateway.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startOpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { OpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { delta, eventually, freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';
import type { Message } from './harness.ts';

const MODELS = `
boiler:
  - {name: temperature, type: float64, mode: ro, unit: C}
  - {name: pressure, type: float32, mode: ro, unit: bar}
  - {name: flow, type: float64, mode: ro, unit: m3/h}
  - {name: setpoint, type: float32, mode: rw, min: 0, max: 200}
  - {name: level, type: int16, mode: rw}
  - {name: count, type: int32, mode: rw}
  - {name: total, type: int64, mode: rw}
  - {name: running, type: bool, mode: rw}
  - {name: label, type: string, mode: rw}
`;

// Node ids: ns = nsOffset + nsBase = 2, i = idOffset + idBase (Baetyl's Go demo).
const TEMPLATE = `
boiler-ua:
  properties:
    - {name: temp-raw, id: "1", type: float64, visitor: {opcua: {nsBase: 2, idBase: 1, idType: i, type: float64}}}
    - {name: pressure-raw, id: "2", type: float32, visitor: {opcua: {nsBase: 2, idBase: 2, idType: i, type: float32}}}
    - {name: flow-raw, id: "3", type: float64, visitor: {opcua: {nsBase: 2, idBase: 3, idType: i, type: float64}}}
    - {name: setpoint-raw, id: "4", type: float32, visitor: {opcua: {nsBase: 2, idBase: 4, idType: i, type: float32}}}
    - {name: level-raw, id: "5", type: int16, visitor: {opcua: {nsBase: 2, idBase: 5, idType: i, type: int16}}}
    - {name: count-raw, id: "6", type: uint32, visitor: {opcua: {nsBase: 2, idBase: 6, idType: i, type: uint32}}}
    - {name: total-raw, id: "7", type: int64, visitor: {opcua: {nsBase: 2, idBase: 7, idType: i, type: int64}}}
    - {name: running-raw, id: "8", type: bool, visitor: {opcua: {nsBase: 2, idBase: 8, idType: i, type: bool}}}
    - {name: label-raw, id: "9", type: string, visitor: {opcua: {nsBase: 2, idBase: 9, idType: i, type: string}}}
  mappings:
    - {attribute: temperature, type: value, expression: x1, precision: 2}
    - {attribute: pressure, type: calculate, expression: x2*0.1, precision: 2}
    - {attribute: flow, type: value, expression: x3, precision: 2}
    - {attribute: setpoint, type: value, expression: x4, precision: 2}
    - {attribute: level, type: value, expression: x5}
    - {attribute: count, type: value, expression: x6}
    - {attribute: total, type: value, expression: x7}
    - {attribute: running, type: value, expression: x8}
    - {attribute: label, type: value, expression: x9}
`;

function devices(port: number): string {
  const endpoint = `opc.tcp://127.0.0.1:${port}`;
  return `
devices:
  - name: plc-sub
    deviceModel: boiler
    accessTemplate: boiler-ua
    accessConfig:
      opcua: {endpoint: "${endpoint}", interval: 10s, timeout: 2s, subscribe: true, samplingInterval: 50ms, idOffset: 0}
  - name: plc-poll
    deviceModel: boiler
    accessTemplate: boiler-ua
    accessConfig:
      opcua: {endpoint: "${endpoint}", interval: 300ms, timeout: 2s, subscribe: false, idOffset: 100}
driver: ""
`;
}

let conf: { dir: string; cleanup: () => void };
let sim: OpcuaSimulator;
let gateway: Gateway;
let rec: Recorder;

before(async () => {
  const [uaPort, mqttPort] = [await freePort(), await freePort()];
  conf = writeConf(
    {
      gateway: `node: e2e-node\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: plant-ua, driver: opcua}\n`,
      models: MODELS,
      template: TEMPLATE,
      devices: devices(uaPort),
    },
    'plant-ua',
  );
  const { instances } = await load(conf.dir);
  sim = await startOpcuaSimulator({ devices: instances[0]!.devices, port: uaPort, tickMs: 0 });
  for (const name of ['plc-sub', 'plc-poll']) {
    const d = sim.device(name);
    d.set('temp-raw', 20.5);
    d.set('pressure-raw', 15);
    d.set('flow-raw', 3.25);
  }
  ({ gateway } = await startTestGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await sim?.stop();
  conf?.cleanup();
});

const report = (device: string, pred: (p: Record<string, unknown>) => boolean) => (m: Message) =>
  m.topic === `thing/boiler/${device}/property/post` && pred(m.json.content.blink.properties);
const lifecycle = (device: string, online: boolean) => (m: Message) =>
  m.topic === `thing/boiler/${device}/lifecycle/post` && m.json.content.blink.params.online_state === online;

test('both devices come online and report their values with Baetyl envelopes', async () => {
  for (const name of ['plc-sub', 'plc-poll']) {
    await rec.waitFor(lifecycle(name, true), 10_000, `${name} online`);
    const m = await rec.waitFor(report(name, (p) => p.temperature === 20.5 && p.pressure === 1.5), 10_000, `${name} first report`);
    assert.equal(m.json.kind, 'deviceReport');
    assert.equal(m.json.meta.device, name);
    assert.equal(m.json.meta.deviceProduct, 'boiler');
    assert.equal(m.json.content.blink.method, 'thing.property.post');
  }
});

test('subscribe mode: a value pushed by a monitored item arrives long before the 10 s poll', async () => {
  await rec.waitFor(lifecycle('plc-sub', true), 10_000, 'plc-sub online');
  assert.ok(sim.requests('CreateMonitoredItemsRequest') >= 1, 'the gateway created monitored items');
  const since = Date.now();
  sim.device('plc-sub').set('temp-raw', 42.75);
  const m = await rec.waitFor(report('plc-sub', (p) => p.temperature === 42.75), 5000, 'pushed temperature 42.75', since);
  assert.ok(m.at - since < 2000, `pushed value took ${m.at - since} ms (poll interval 10 s)`);
  // A second change proves it is a live subscription, not a lucky poll.
  const since2 = Date.now();
  sim.device('plc-sub').set('temp-raw', 43.5);
  const m2 = await rec.waitFor(report('plc-sub', (p) => p.temperature === 43.5), 5000, 'pushed temperature 43.5', since2);
  assert.ok(m2.at - since2 < 2000, `second pushed value took ${m2.at - since2} ms`);
});

test('poll mode: values come from Read requests every interval', async () => {
  await rec.waitFor(lifecycle('plc-poll', true), 10_000, 'plc-poll online');
  const reads0 = sim.requests('ReadRequest');
  const since = Date.now();
  sim.device('plc-poll').set('temp-raw', 55.5);
  await rec.waitFor(report('plc-poll', (p) => p.temperature === 55.5), 5000, 'polled temperature 55.5', since);
  await eventually(() => sim.requests('ReadRequest') >= reads0 + 3, 5000, 'three more Read requests');
  // The poll device's value never leaks to the subscribed one (idOffset 0 vs 100).
  assert.ok(!rec.messages.some(report('plc-sub', (p) => p.temperature === 55.5)));
});

test('a delta writes every type with the node DataType and the new values are reported', async () => {
  const since = Date.now();
  const props = { setpoint: 12.5, level: -3, count: 70000, total: 123456789012, running: true, label: 'hello ua' };
  await rec.publish('thing/boiler/plc-poll/property/invoke', delta('plc-poll', props, 'req-ua-1'));
  const d = sim.device('plc-poll');
  await eventually(() => d.variable('label-raw').value === 'hello ua' && d.variable('setpoint-raw').value === 12.5, 5000, 'written values in the simulator');
  // The simulator stores a write only when the variant's DataType is the node's (else BadTypeMismatch).
  assert.equal(d.variable('setpoint-raw').value, 12.5);
  assert.equal(d.variable('level-raw').value, -3);
  assert.equal(d.variable('count-raw').value, 70000);
  assert.equal(d.variable('total-raw').value, 123456789012n);
  assert.equal(d.variable('running-raw').value, true);
  for (const p of ['setpoint-raw', 'level-raw', 'count-raw', 'total-raw', 'running-raw', 'label-raw']) assert.equal(d.variable(p).held, true, p);
  // The other device on the same server is untouched.
  assert.notEqual(sim.device('plc-sub').variable('label-raw').value, 'hello ua');
  await rec.waitFor(report('plc-poll', (p) => p.setpoint === 12.5 && p.level === -3 && p.label === 'hello ua' && p.running === true), 5000, 'written values reported', since);
  const all = rec.messages.filter((m) => m.at >= since && m.topic === 'thing/boiler/plc-poll/property/post').map((m) => m.json.content.blink.properties);
  assert.ok(all.some((p) => p.count === 70000), JSON.stringify(all));
  assert.ok(all.some((p) => p.total === 123456789012), JSON.stringify(all));
});

test('a Bad status becomes bad quality: left out of the report, marked bad in the shadow', async () => {
  const d = sim.device('plc-poll');
  d.setStatus('flow-raw', 'BadSensorFailure');
  const since = Date.now();
  d.set('temp-raw', 61.25);
  d.set('flow-raw', 9.5); // not reported while the node answers Bad
  const first = await rec.waitFor(report('plc-poll', (p) => p.temperature === 61.25), 5000, 'temperature 61.25 beside the bad flow', since);
  await eventually(() => gateway.store.get('plc-poll')?.meta.report.flow?.quality === 'bad', 5000, 'flow bad in the shadow');
  // Other attributes keep their good quality.
  assert.equal(gateway.store.get('plc-poll')?.meta.report.temperature?.quality, 'good');
  await new Promise((r) => setTimeout(r, 700)); // two more polls
  // From the first poll that saw the new temperature on (a poll already in flight when the
  // status changed may still carry the old good flow).
  const sinceBad = rec.messages.filter((m) => m.at >= first.at && m.topic === 'thing/boiler/plc-poll/property/post');
  assert.ok(sinceBad.length > 0);
  assert.ok(sinceBad.every((m) => !('flow' in m.json.content.blink.properties)), JSON.stringify(sinceBad.map((m) => m.json.content.blink.properties)));

  const back = Date.now();
  d.setStatus('flow-raw', undefined);
  await rec.waitFor(report('plc-poll', (p) => p.flow === 9.5), 5000, 'flow good again', back);
  await eventually(() => gateway.store.get('plc-poll')?.meta.report.flow?.quality === 'good', 5000, 'flow good in the shadow');
});

test('server restart on the same port: offline, then online again and values flow, without restarting the gateway', async () => {
  await rec.waitFor(lifecycle('plc-sub', true), 10_000, 'plc-sub online');
  const since = Date.now();
  const port = sim.port;
  await sim.stop();
  for (const name of ['plc-sub', 'plc-poll']) await rec.waitFor(lifecycle(name, false), 10_000, `${name} offline`, since);
  // Changed while the gateway cannot see it.
  sim.device('plc-sub').set('temp-raw', 77.25);
  sim.device('plc-poll').set('temp-raw', 88.5);
  const restarted = Date.now();
  sim.resetCounts();
  await sim.start();
  assert.equal(sim.port, port);
  for (const name of ['plc-sub', 'plc-poll']) await rec.waitFor(lifecycle(name, true), 15_000, `${name} online again`, restarted);
  await rec.waitFor(report('plc-sub', (p) => p.temperature === 77.25), 10_000, 'plc-sub value after restart', restarted);
  await rec.waitFor(report('plc-poll', (p) => p.temperature === 88.5), 10_000, 'plc-poll value after restart', restarted);
  const recoveredMs = Date.now() - restarted;
  assert.ok(recoveredMs < 15_000, `recovered in ${recoveredMs} ms`);

  // The subscription was recreated: a new change is pushed, not waited for until the 10 s poll.
  const live = Date.now();
  sim.device('plc-sub').set('temp-raw', 99.5);
  const m = await rec.waitFor(report('plc-sub', (p) => p.temperature === 99.5), 5000, 'pushed value after restart', live);
  assert.ok(m.at - live < 2000, `pushed value after restart took ${m.at - live} ms`);
  assert.equal(gateway.devices.get('plc-sub')?.isOnline, true);
  assert.ok(sim.requests('CreateSubscriptionRequest') >= 1 && sim.requests('CreateMonitoredItemsRequest') >= 1, 'subscription recreated on the new session');
});
