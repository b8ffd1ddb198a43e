/**
 * The REST API and metrics over real HTTP, against a gateway polling a Modbus simulator: auth,
 * JSON errors naming the field, writes validated like cloud desired values, and counters.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { ROUTES } from '../../src/gateway/api/openapi.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { eventually, freePort, load, startTestGateway, writeConf } from '../e2e/harness.ts';

const TOKEN = 'test-token-0123456789abcdef';
let conf: { dir: string; cleanup: () => void };
let sim: ModbusSimulator;
let gateway: Gateway;
let base: string;

before(async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  conf = writeConf({
    gateway: `node: api-node\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\napi: {host: 127.0.0.1, port: 0, token: ${TOKEN}}\ndrivers:\n  - {name: plant, driver: modbus, path: ./modbus}\n`,
    models: 'boiler:\n  - {name: temperature, type: float32, mode: ro, unit: °C}\n  - {name: setpoint, type: float32, mode: rw, min: 20, max: 90}\n',
    template:
      'boiler-tpl:\n  properties:\n    - {name: t, id: "1", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n    - {name: sp, id: "2", type: int16, visitor: {modbus: {function: 3, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: temperature, type: calculate, expression: x1/10, precision: 1}\n    - {attribute: setpoint, type: calculate, expression: x2/10, precision: 1}\n',
    devices: `devices:\n  - name: boiler-1\n    deviceModel: boiler\n    accessTemplate: boiler-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 200ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  sim.device('boiler-1').set('temperature', 61.5);
  sim.device('boiler-1').set('setpoint', 65);
  ({ gateway } = await startTestGateway(conf.dir));
  assert.ok(gateway.api, 'the API is up');
  base = gateway.api.url;
  await eventually(() => gateway.devices.get('boiler-1')?.isOnline === true, 5000, 'boiler online');
});

after(async () => {
  await gateway?.stop();
  await sim?.stop();
  conf?.cleanup();
});

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

test('health needs no token; everything else does', async () => {
  const h = await call('GET', '/health', undefined, null);
  assert.equal(h.status, 200);
  assert.equal(h.json.devices, 1);
  const denied = await call('GET', '/api/v1/devices', undefined, null);
  assert.equal(denied.status, 401);
  assert.equal(denied.json.error.code, 'Unauthorized');
  assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await call('GET', '/api/v1/devices', undefined, 'wrong-token-0123456789')).status, 401);
});

test('devices: list and one device with live values', async () => {
  const list = await call('GET', '/api/v1/devices');
  assert.equal(list.status, 200);
  assert.equal(list.json[0].name, 'boiler-1');
  assert.equal(list.json[0].online, true);
  assert.equal(list.json[0].driver, 'modbus');
  assert.equal(list.json[0].link.state, 'online');
  const one = await call('GET', '/api/v1/devices/boiler-1');
  assert.equal(one.json.properties.temperature.value, 61.5);
  assert.equal(one.json.properties.temperature.quality, 'good');
  assert.deepEqual(one.json.model.find((p: { name: string }) => p.name === 'setpoint'), { name: 'setpoint', type: 'float32', mode: 'rw', min: 20, max: 90 });
  const missing = await call('GET', '/api/v1/devices/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.field, 'name');
  assert.match(missing.json.error.message, /boiler-1/);
});

test('writes: bad bodies get 400 naming the field, bad values 422, good ones reach the device', async () => {
  const notJson = await call('POST', '/api/v1/devices/boiler-1/properties', '{oops');
  assert.equal(notJson.status, 400);
  const empty = await call('POST', '/api/v1/devices/boiler-1/properties', { properties: {} });
  assert.equal(empty.status, 400);
  assert.equal(empty.json.error.field, 'properties');
  const extra = await call('POST', '/api/v1/devices/boiler-1/properties', { properties: { setpoint: 50 }, force: true });
  assert.equal(extra.status, 400);
  const range = await call('POST', '/api/v1/devices/boiler-1/properties', { properties: { setpoint: 95 } });
  assert.equal(range.status, 422);
  assert.equal(range.json.error.field, 'properties.setpoint');
  assert.match(range.json.error.message, /90/);
  const ro = await call('POST', '/api/v1/devices/boiler-1/properties', { properties: { temperature: 50 } });
  assert.equal(ro.status, 422);
  assert.equal(ro.json.error.code, 'ReadOnly');
  assert.equal(sim.device('boiler-1').readRaw('holding', 0, 1)[0], 650, 'nothing written');
  const ok = await call('POST', '/api/v1/devices/boiler-1/properties', { properties: { setpoint: 72.5 } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.written, ['setpoint']);
  assert.equal(ok.json.properties.setpoint.value, 72.5, 're-read after the write');
  assert.equal(sim.device('boiler-1').readRaw('holding', 0, 1)[0], 725);
});

test('read now, shadow, links, drivers, outbox', async () => {
  sim.device('boiler-1').set('temperature', 63.2);
  const r = await call('POST', '/api/v1/devices/boiler-1/read');
  assert.equal(r.json.temperature.value, 63.2);
  const sh = await call('GET', '/api/v1/devices/boiler-1/shadow');
  assert.equal(sh.json.report.temperature, 63.2);
  assert.ok(sh.json.reportVersion > 0);
  const links = await call('GET', '/api/v1/links');
  assert.equal(links.json[0].state, 'online');
  const drivers = await call('GET', '/api/v1/drivers');
  assert.equal(drivers.json[0].id, 'modbus');
  assert.deepEqual(drivers.json[0].instances, ['plant']);
  assert.equal(drivers.json[0].capabilities.write, true);
  const outbox = await call('GET', '/api/v1/outbox');
  assert.equal(outbox.json.persisting, true);
});

test('log level: validated, then changed', async () => {
  const bad = await call('PUT', '/api/v1/log/level', { level: 'loud' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'level');
  const ok = await call('PUT', '/api/v1/log/level', { level: 'debug' });
  assert.equal(ok.json.level, 'debug');
  assert.equal((await call('GET', '/api/v1/log/level')).json.level, 'debug');
});

test('config validate reports the configuration on disk', async () => {
  const r = await call('POST', '/api/v1/config/validate');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ok: true, issues: [], devices: 1 });
});

test('metrics expose the counters after a run', async () => {
  const m = await call('GET', '/metrics');
  assert.equal(m.status, 200);
  const polls = /fieldgate_polls_total\{driver="modbus",device="boiler-1"\} (\d+)/.exec(m.json);
  assert.ok(polls && Number(polls[1]) > 0, 'polls counted');
  assert.match(m.json, /fieldgate_poll_duration_seconds_bucket\{le="0\.05",driver="modbus",device="boiler-1"\} \d+/);
  assert.match(m.json, /fieldgate_device_online\{driver="modbus",device="boiler-1"\} 1/);
  assert.match(m.json, /fieldgate_link_state\{link="plant\/tcp:127\.0\.0\.1:\d+:mbap",state="online"\} 1/);
  assert.match(m.json, /fieldgate_mqtt_online 1/);
  assert.match(m.json, /fieldgate_outbox_oldest_age_seconds 0/);
  assert.match(m.json, /# TYPE fieldgate_point_errors_total counter/);
  assert.match(m.json, /fieldgate_nodejs_eventloop_lag_p99_seconds/);
  assert.match(m.json, /fieldgate_process_resident_memory_bytes/);
});

test('the OpenAPI document lists every route, and every route is served', async () => {
  const doc = await call('GET', '/api/v1/openapi.json');
  assert.equal(doc.json.openapi, '3.1.0');
  for (const r of ROUTES) {
    assert.ok(doc.json.paths[r.path]?.[r.method], `${r.method} ${r.path} in the document`);
    if (r.path === '/api/v1/events') {
      // A stream: check that it opens, then hang up.
      const ac = new AbortController();
      const res = await fetch(base + r.path, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ac.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      ac.abort();
      continue;
    }
    const res = await call(r.method.toUpperCase(), r.path.replace('{name}', 'boiler-1'), r.body ? {} : undefined);
    assert.notEqual(res.json?.error?.message, `no route ${r.method.toUpperCase()} ${r.path.replace('{name}', 'boiler-1')}`, `${r.method} ${r.path} is served`);
  }
  const body = doc.json.paths['/api/v1/devices/{name}/properties'].post.requestBody.content['application/json'].schema;
  assert.ok(body.$defs.WriteRequest.properties.properties, 'the write body is described');
});
