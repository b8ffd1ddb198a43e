/**
 * End to end: the Python Baetyl driver folder, unchanged, under the fieldgate gateway. Its
 * deviceReport Posts become blink reports on `thing/{product}/{device}/property/post` (mapped from
 * point names to model attributes), its State true a lifecycle message, and a delta from the broker
 * becomes a Set on the driver whose new value shows in the next report.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import { delta, freePort, Recorder } from '../e2e/harness.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/py-driver', import.meta.url));
const REPORT = 'thing/custom-simulator/custom-py/property/post';

let dir: string;
let gateway: Gateway;
let rec: Recorder;
const lines: Line[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-baetyl-'));
  const inst = path.join(dir, 'custom-py');
  mkdirSync(inst);
  cpSync(FIXTURE, inst, { recursive: true });
  const mqttPort = await freePort();
  // `baetyl:` hosts the folder's own driver; the files say `visitor.custom` / `accessConfig.custom`,
  // so the instance's driver id is `custom`. Nothing else is registered.
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    `node: e2e\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\napi: {port: 0}\ndrivers:\n  - {name: custom-py, driver: custom, path: ./custom-py, baetyl: {driverName: custom-python}}\n`,
  );
  const registry = createRegistry();
  const r = await loadConfig(dir, registry);
  if (!r.ok) throw new Error(formatIssues(r.issues));
  gateway = await startGateway({ config: r.config, instances: r.instances, registry, log: memoryLogger(lines) });
  rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#']);
});

after(async () => {
  await rec?.close();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the Python driver's values are published as Baetyl reports", async () => {
  const m = await rec.waitFor((x) => x.topic === REPORT && typeof x.json.content.blink.properties.temperature === 'number', 20_000, 'a report from the Python driver');
  assert.equal(m.json.kind, 'deviceReport');
  assert.equal(m.json.meta.device, 'custom-py');
  assert.equal(m.json.meta.deviceProduct, 'custom-simulator');
  assert.equal(m.json.content.blink.method, 'thing.property.post');
  const p = m.json.content.blink.properties;
  assert.deepEqual(Object.keys(p).sort(), ['humidity', 'pressure', 'temperature']);
  assert.equal(p.pressure, 11);
  const online = await rec.waitFor((x) => x.topic === 'thing/custom-simulator/custom-py/lifecycle/post', 5000, 'lifecycle');
  assert.equal(online.json.content.blink.params.online_state, true);
  // Reports keep coming (the driver posts every 300 ms) with changing values.
  const next = await rec.waitFor((x) => x.topic === REPORT && x.json.content.blink.properties.temperature !== p.temperature, 5000, 'a later report', m.at + 1);
  assert.ok(next.at > m.at);
});

test('a delta on the broker becomes a Set on the driver and the next report shows the value', async () => {
  const since = Date.now();
  await rec.publish('thing/custom-simulator/custom-py/property/invoke', delta('custom-py', { pressure: 55.25 }));
  const m = await rec.waitFor((x) => x.topic === REPORT && x.json.content.blink.properties.pressure === 55.25, 10_000, 'pressure 55.25', since);
  assert.equal(m.json.meta.device, 'custom-py');
});
