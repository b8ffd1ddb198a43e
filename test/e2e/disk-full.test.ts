/**
 * The data directory fills up (the SQLite file reaches its cap while the cloud is unreachable):
 * the gateway says so (log error, /health `persisting: false`) and keeps publishing live data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { eventually, freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';

test('disk full: a clear error, live data keeps flowing, the gateway says it is not persisting', async () => {
  const [simPort, mqttPort, deadCloud] = [await freePort(), await freePort(), await freePort()];
  const n = 60;
  const models = `tank:\n${Array.from({ length: n }, (_, i) => `  - {name: a${i}, type: float32, mode: ro, min: 0, max: 100}`).join('\n')}\n`;
  const props = Array.from({ length: n }, (_, i) => `    - {name: p${i}, id: "${i}", type: uint16, visitor: {modbus: {function: 4, address: "${i}", quantity: 1}}}`).join('\n');
  const maps = Array.from({ length: n }, (_, i) => `    - {attribute: a${i}, type: calculate, expression: x${i}/100, precision: 2}`).join('\n');
  const conf = writeConf({
    gateway: `node: full\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\nstorage: {maxBytes: 131072}\ncloud: {url: "mqtt://127.0.0.1:${deadCloud}"}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models,
    template: `tank-tpl:\n  properties:\n${props}\n  mappings:\n${maps}\n`,
    devices: `devices:\n  - name: tank-1\n    deviceModel: tank\n    accessTemplate: tank-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 100ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  // Every value changes every 100 ms, so every poll adds a cloud message to the outbox.
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 100 });
  const { gateway, lines } = await startTestGateway(conf.dir);
  const rec = await Recorder.connect(gateway.brokerUrl, ['thing/#']);
  try {
    await eventually(() => gateway.store.stats().persisting === false, 30_000, 'the store to report that it is not persisting');
    assert.ok(lines.some((l) => l.level === 'error' && l.msg === 'shadow store is not persisting; live data continues'), 'a clear error in the log');
    const health = (await (await fetch(`${gateway.api!.url}/health`)).json()) as { persisting: boolean };
    assert.equal(health.persisting, false);
    const t0 = Date.now();
    await rec.waitFor((m) => m.topic === 'thing/tank/tank-1/property/post', 3000, 'live reports while the disk is full', t0);
    const reports = await new Promise<number>((r) => setTimeout(() => r(rec.messages.filter((m) => m.at >= t0 && m.topic.endsWith('/property/post')).length), 1000));
    assert.ok(reports >= 5, `${reports} reports in about a second with the disk full`);
    assert.equal(gateway.devices.get('tank-1')?.isOnline, true);
  } finally {
    await rec.close();
    await gateway.stop();
    await sim.stop();
    conf.cleanup();
  }
});
