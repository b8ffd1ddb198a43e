/**
 * Hot reload: a changed device restarts, an added one starts, a removed one goes offline, and an
 * unchanged one keeps publishing with no gap larger than one interval; a broken configuration is
 * refused as a whole and the running one stays.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';

const TEMPLATE = 'tpl:\n  properties:\n    - {name: v, id: "1", type: uint16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: value, type: value, expression: x1}\n';

function devices(port: number, list: [name: string, unit: number, interval: string][]): string {
  return `devices:\n${list.map(([n, u, iv]) => `  - name: ${n}\n    deviceModel: m\n    accessTemplate: tpl\n    accessConfig:\n      modbus: {id: ${u}, interval: ${iv}, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${port}}}\n`).join('')}driver: ""\n`;
}

test('reload applies only the difference; unchanged devices keep publishing without a gap', async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  const all: [string, number, string][] = [['keep', 1, '100ms'], ['change', 2, '100ms'], ['drop', 3, '100ms'], ['add', 4, '100ms']];
  // The simulator serves all four units from the start.
  const conf = writeConf({
    gateway: `node: reload\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'm:\n  - {name: value, type: int32, mode: ro}\n',
    template: TEMPLATE,
    devices: devices(simPort, all),
  });
  const { instances } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  all.forEach(([n], i) => sim.device(n).set('value', 100 + i));
  const subs = path.join(conf.dir, 'modbus/sub_devices.yml');
  writeFileSync(subs, devices(simPort, all.slice(0, 3)));
  const { gateway } = await startTestGateway(conf.dir);
  const rec = await Recorder.connect(gateway.brokerUrl, ['thing/#']);
  try {
    await rec.waitFor((m) => m.topic === 'thing/m/drop/property/post', 5000, 'drop reporting');
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    // change: a new interval; drop: removed; add: new.
    writeFileSync(subs, devices(simPort, [['keep', 1, '100ms'], ['change', 2, '150ms'], ['add', 4, '100ms']]));
    const reloadAt = Date.now();
    const r = await gateway.reload();
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual({ added: r.added, removed: r.removed, changed: r.changed, unchanged: r.unchanged }, { added: ['add'], removed: ['drop'], changed: ['change'], unchanged: ['keep'] });
    await rec.waitFor((m) => m.topic === 'thing/m/add/property/post' && m.json.content.blink.properties.value === 103, 5000, 'the added device reports', reloadAt);
    await rec.waitFor((m) => m.topic === 'thing/m/drop/lifecycle/post' && m.json.content.blink.params.online_state === false, 5000, 'the removed device goes offline', reloadAt);
    await rec.waitFor((m) => m.topic === 'thing/m/change/property/post', 5000, 'the changed device reports again', reloadAt);
    await new Promise((r) => setTimeout(r, 500));
    const keepTimes = rec.messages.filter((m) => m.topic === 'thing/m/keep/property/post' && m.at >= before).map((m) => m.json.content.blink.timestamp as number);
    const gaps = keepTimes.slice(1).map((t, i) => t - keepTimes[i]!);
    assert.ok(keepTimes.length >= 10, `keep published ${keepTimes.length} reports`);
    assert.ok(Math.max(...gaps) <= 200, `largest gap of the unchanged device: ${Math.max(...gaps)} ms (interval 100 ms)`);
    assert.equal(gateway.timers.has('drop'), false);
    assert.equal(gateway.timers.get('change')?.polls !== undefined, true);

    // A broken configuration is refused as a whole; everything keeps running.
    writeFileSync(subs, readFileSync(subs, 'utf8').replace('deviceModel: m', 'deviceModel: nosuch'));
    const bad = await gateway.reload();
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.issues.some((i) => /nosuch/.test(i.message)), JSON.stringify(bad));
    const t0 = Date.now();
    await rec.waitFor((m) => m.topic === 'thing/m/keep/property/post', 2000, 'keep still reporting', t0);
    assert.deepEqual([...gateway.devices.keys()].sort(), ['add', 'change', 'keep']);
  } finally {
    await rec.close();
    await gateway.stop();
    await sim.stop();
    conf.cleanup();
  }
});

test('with reload.watch, editing sub_devices.yml applies the change by itself; a plan shows it first', async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  const conf = writeConf({
    gateway: `node: watch\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\nreload: {watch: true, debounce: 200ms}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'm:\n  - {name: value, type: int32, mode: ro}\n',
    template: TEMPLATE,
    devices: devices(simPort, [['one', 1, '100ms'], ['two', 2, '100ms']]),
  });
  const { instances } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  const subs = path.join(conf.dir, 'modbus/sub_devices.yml');
  writeFileSync(subs, devices(simPort, [['one', 1, '100ms']]));
  const { gateway, lines } = await startTestGateway(conf.dir);
  try {
    assert.deepEqual([...gateway.devices.keys()], ['one']);
    // Stop the watcher's reload from racing the plan: write, then ask at once (debounce 200 ms).
    writeFileSync(subs, devices(simPort, [['one', 1, '100ms'], ['two', 2, '100ms']]));
    const plan = await gateway.planReload();
    assert.ok(plan.ok && plan.added.includes('two') && plan.unchanged.includes('one'), JSON.stringify(plan));
    const end = Date.now() + 10_000;
    while (!gateway.devices.has('two') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(gateway.devices.has('two'), 'the watcher reloaded the configuration');
    // The SQLite file under dataDir (inside the folder) is written all the time: no reloads from it.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual([...gateway.devices.keys()].sort(), ['one', 'two']);
    assert.equal(lines.filter((l) => l.msg === 'configuration reloaded').length, 1, 'one reload, none from data files');
  } finally {
    await gateway.stop();
    await sim.stop();
    conf.cleanup();
  }
});
