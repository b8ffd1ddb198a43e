/**
 * Simulator → gateway → broker → subscriber, with real parts on 127.0.0.1: values arrive exactly
 * (typed, scaled, byte-ordered), writes through the delta topic reach the simulator's registers,
 * bad commands are answered and write nothing, and a killed device goes offline and comes back
 * while the other device keeps reporting.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { delta, eventually, freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';
import type { Line } from '../helpers/log.ts';

const MODELS = `
meter:
  - {name: voltage, type: float32, mode: ro, unit: V}
  - {name: current, type: float64, mode: ro, unit: A}
  - {name: power, type: float32, mode: ro, unit: W}
  - {name: energy, type: int64, mode: ro, unit: Wh}
  - {name: serial, type: string, mode: ro}
  - {name: running, type: bool, mode: ro}
  - {name: setpoint, type: float32, mode: rw, min: 0, max: 500}
  - {name: mode, type: int16, mode: rw, min: 0, max: 3}
io:
  - {name: relay, type: bool, mode: rw}
  - {name: input, type: bool, mode: ro}
`;

const TEMPLATE = `
meter-tpl:
  properties:
    - {name: voltage, id: "1", type: float32, visitor: {modbus: {function: 4, address: "0x0000", quantity: 2, type: float32, byteOrder: CDAB}}}
    - {name: current-ma, id: "2", type: int32, visitor: {modbus: {function: 4, address: "0x0002", quantity: 2, type: int32}}}
    - {name: power-dw, id: "3", type: uint16, visitor: {modbus: {function: 4, address: "0x0004", quantity: 1, type: uint16}}}
    - {name: energy, id: "4", type: int64, visitor: {modbus: {function: 4, address: "0x0005", quantity: 4, type: int64, byteOrder: DCBA}}}
    - {name: serial, id: "5", type: string, visitor: {modbus: {function: 3, address: "0x0010", quantity: 4, type: string}}}
    - {name: status-running, id: "6", type: bool, visitor: {modbus: {function: 3, address: "0x0020", bit: 3}}}
    - {name: setpoint-raw, id: "7", type: int16, visitor: {modbus: {function: 3, address: "0x0021", quantity: 1, type: int16}}}
    - {name: mode, id: "8", type: uint16, visitor: {modbus: {function: 3, address: "0x0022", quantity: 1, type: uint16, swapByte: false}}}
  mappings:
    - {attribute: voltage, type: value, expression: x1, precision: 2}
    - {attribute: current, type: calculate, expression: x2*0.001, precision: 3}
    - {attribute: power, type: calculate, expression: x3/10, precision: 1}
    - {attribute: energy, type: value, expression: x4}
    - {attribute: serial, type: value, expression: x5}
    - {attribute: running, type: value, expression: x6}
    - {attribute: setpoint, type: calculate, expression: x7*0.1, precision: 1}
    - {attribute: mode, type: value, expression: x8}
io-tpl:
  properties:
    - {name: relay-1, id: "1", type: bool, visitor: {modbus: {function: 1, address: "0x0000", quantity: 1, type: bool}}}
    - {name: input-1, id: "2", type: bool, visitor: {modbus: {function: 2, address: "0x0000", quantity: 1, type: bool}}}
  mappings:
    - {attribute: relay, type: value, expression: x1}
    - {attribute: input, type: value, expression: x2}
`;

function devices(meterPort: number, ioPort: number): string {
  return `
devices:
  - name: meter-1
    version: "1"
    deviceModel: meter
    accessTemplate: meter-tpl
    accessConfig:
      modbus: {id: 1, interval: 200ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${meterPort}}}
  - name: io-1
    deviceModel: io
    accessTemplate: io-tpl
    accessConfig:
      modbus: {id: 7, interval: 200ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${ioPort}}}
driver: ""
`;
}

let conf: { dir: string; cleanup: () => void };
let meterSim: ModbusSimulator;
let ioSim: ModbusSimulator;
let gateway: Gateway;
let lines: Line[];
let rec: Recorder;

const ENERGY = 9_007_199_254_740_993n; // 2^53 + 1: not representable as a double

before(async () => {
  const [meterPort, ioPort, mqttPort] = [await freePort(), await freePort(), await freePort()];
  conf = writeConf({
    gateway: `node: e2e-node\ndataDir: ./data\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: MODELS,
    template: TEMPLATE,
    devices: devices(meterPort, ioPort),
  });
  const { instances } = await load(conf.dir);
  const all = instances[0]!.devices;
  meterSim = await startModbusSimulator({ devices: all.filter((d) => d.name === 'meter-1'), tickMs: 0 });
  ioSim = await startModbusSimulator({ devices: all.filter((d) => d.name === 'io-1'), tickMs: 0 });
  const m = meterSim.device('meter-1');
  m.set('voltage', 231.5);
  m.set('current', 12.345);
  m.set('power', 1234.5);
  m.set('energy', ENERGY);
  m.set('serial', 'FG-00042');
  m.set('running', true);
  m.set('setpoint', 21.5);
  m.set('mode', 2);
  ioSim.device('io-1').set('relay', false);
  ioSim.device('io-1').set('input', true);
  ({ gateway, lines } = await startTestGateway(conf.dir));
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#', 'fieldgate/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  await meterSim?.stop();
  await ioSim?.stop();
  conf?.cleanup();
});

const isReport = (device: string) => (m: { topic: string; json: any }) =>
  m.topic === `thing/${device === 'meter-1' ? 'meter' : 'io'}/${device}/property/post` && m.json?.kind === 'deviceReport';

test('reports carry the simulator values exactly, in Baetyl envelopes', async () => {
  const m = await rec.waitFor(isReport('meter-1'), 5000, 'a meter report');
  assert.deepEqual(m.json.meta, { device: 'meter-1', deviceProduct: 'meter', accessTemplate: 'meter-tpl', node: 'e2e-node', nodeProduct: 'BIE-Product' });
  const blink = m.json.content.blink;
  assert.equal(blink.method, 'thing.property.post');
  assert.equal(blink.version, '1.0');
  assert.match(blink.reqId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Math.abs(blink.timestamp - Date.now()) < 10_000);
  const { energy, ...rest } = blink.properties;
  assert.deepEqual(rest, { voltage: 231.5, current: 12.345, power: 1234.5, serial: 'FG-00042', running: true, setpoint: 21.5, mode: 2 });
  assert.equal(typeof energy, 'number');
  // The wire text keeps every digit of the 64-bit value (JSON.parse above rounds it).
  const raw = rec.messages.find((x) => x === m)!;
  assert.ok(JSON.stringify(raw.json).length > 0);
  const io = await rec.waitFor(isReport('io-1'), 5000, 'an io report');
  assert.deepEqual(io.json.content.blink.properties, { relay: false, input: true });
});

test('64-bit values are published with every digit', async () => {
  const client = rec.client;
  const text = await new Promise<string>((resolve) => {
    const on = (topic: string, payload: Buffer) => {
      if (topic === 'thing/meter/meter-1/property/post' && payload.includes('"energy"')) {
        client.off('message', on);
        resolve(payload.toString());
      }
    };
    client.on('message', on);
  });
  assert.match(text, /"energy":9007199254740993[,}]/);
});

test('lifecycle: both devices are reported online', async () => {
  for (const [product, device] of [['meter', 'meter-1'], ['io', 'io-1']]) {
    const m = await rec.waitFor((x) => x.topic === `thing/${product}/${device}/lifecycle/post`, 5000, `${device} online`);
    assert.equal(m.json.kind, 'thing.lifecycle.post');
    assert.deepEqual(m.json.content.blink.params, { online_state: true });
  }
});

test('a delta writes through the inverse mapping to the simulator registers', async () => {
  await rec.publish('thing/meter/meter-1/property/invoke', delta('meter-1', { setpoint: 42.5, mode: 3, voltage: null }));
  const dev = meterSim.device('meter-1');
  await eventually(() => dev.readRaw('holding', 0x21, 1)[0] === 425 && dev.readRaw('holding', 0x22, 1)[0] === 3, 5000, 'registers 0x21=425 and 0x22=3');
  const since = Date.now();
  const m = await rec.waitFor((x) => isReport('meter-1')(x) && x.json.content.blink.properties.setpoint === 42.5, 5000, 'setpoint 42.5 reported', since - 50);
  assert.equal(m.json.content.blink.properties.mode, 3);
});

test('a coil write via delta', async () => {
  await rec.publish('thing/io/io-1/property/invoke', delta('io-1', { relay: true }));
  await eventually(() => ioSim.device('io-1').readRaw('coil', 0, 1)[0] === 1, 5000, 'coil 0 on');
});

test('bad deltas are answered with an error naming the property, and nothing is written', async () => {
  const dev = meterSim.device('meter-1');
  const before = [dev.readRaw('holding', 0x21, 1)[0], dev.readRaw('holding', 0x22, 1)[0]];
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ setpoint: 'abc' }, 'setpoint', /number/],
    [{ setpoint: 600 }, 'setpoint', /500/],
    [{ voltage: 1 }, 'voltage', /read-only/],
    [{ nosuch: 1 }, 'nosuch', /not a property/],
    [{ setpoint: 50, mode: 9 }, 'mode', /3/],
  ];
  for (const [i, [props, property, reason]] of cases.entries()) {
    const reqId = `bad-${i}`;
    const since = Date.now();
    await rec.publish('thing/meter/meter-1/property/invoke', delta('meter-1', props, reqId));
    const m = await rec.waitFor((x) => x.topic === '$baetyl/device/meter-1/get' && x.json?.content?.reqId === reqId, 5000, `error for ${reqId}`, since - 50);
    assert.equal(m.json.kind, 'error');
    assert.equal(m.json.content.property, property);
    assert.match(m.json.content.message, reason);
  }
  // Malformed JSON on the delta topic: no crash, no write.
  await rec.publish('thing/meter/meter-1/property/invoke', '{"kind":');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual([dev.readRaw('holding', 0x21, 1)[0], dev.readRaw('holding', 0x22, 1)[0]], before);
  assert.ok(gateway.commands.counters.rejected >= 5);
});

test('property/get reads now and answers on the get topic', async () => {
  const since = Date.now();
  await rec.publish('thing/meter/meter-1/property/get', {
    kind: 'thing.property.get',
    meta: { device: 'meter-1' },
    content: { blink: { reqId: 'g1', method: 'thing.property.get', version: '1.0', timestamp: Date.now(), properties: ['voltage', 'serial'] } },
  });
  const m = await rec.waitFor((x) => x.topic === '$baetyl/device/meter-1/get' && x.json?.kind === 'deviceReport', 5000, 'read-now answer', since - 50);
  assert.deepEqual(m.json.content.blink.properties, { voltage: 231.5, serial: 'FG-00042' });
});

test('raw/c2d {type: report} reads now and answers on the get topic', async () => {
  const since = Date.now();
  await rec.publish('thing/io/io-1/raw/c2d', { kind: 'deviceEvent', meta: { device: 'io-1' }, content: { type: 'report', payload: null } });
  const m = await rec.waitFor((x) => x.topic === '$baetyl/device/io-1/get' && x.json?.kind === 'deviceReport', 5000, 'read-now answer', since - 50);
  assert.deepEqual(Object.keys(m.json.content.blink.properties).sort(), ['input', 'relay']);
});

test('a killed device goes offline, the other keeps reporting, and it comes back by itself', async () => {
  const killedAt = Date.now();
  await meterSim.kill();
  const off = await rec.waitFor(
    (x) => x.topic === 'thing/meter/meter-1/lifecycle/post' && x.json.content.blink.params.online_state === false,
    5000,
    'meter-1 offline',
    killedAt,
  );
  assert.ok(off.at - killedAt < 3000, `offline after ${off.at - killedAt} ms`);
  // io-1 keeps its rate while meter-1 is down: at least 4 reports in the next second.
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  const ioReports = rec.messages.filter((x) => x.at >= t0 && isReport('io-1')(x)).length;
  assert.ok(ioReports >= 4, `io-1 published ${ioReports} reports in 1 s while meter-1 was down`);
  const restartedAt = Date.now();
  await meterSim.restart();
  await rec.waitFor(
    (x) => x.topic === 'thing/meter/meter-1/lifecycle/post' && x.json.content.blink.params.online_state === true,
    15_000,
    'meter-1 online again',
    restartedAt,
  );
  await rec.waitFor(isReport('meter-1'), 5000, 'meter-1 reporting again', restartedAt);
  assert.ok(lines.some((l) => l.msg === 'link state' && (l.obj as { to?: string }).to === 'backoff'));
});
