/**
 * The gateway keeps a shadow per device in SQLite: a Baetyl `deviceDesire` request on `get` is
 * answered on `getResponse` as baetyl-core does, and the shadow survives a gateway restart.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { openShadowStore } from '../../src/shadow/store.ts';
import { freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';

test('deviceDesire on get is answered with the shadow on getResponse, and the shadow survives a restart', async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  const conf = writeConf({
    gateway: `node: shadow-node\ndataDir: ./state\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'tank:\n  - {name: level, type: float32, mode: ro}\n  - {name: valve, type: bool, mode: rw}\n',
    template: 'tank-tpl:\n  properties:\n    - {name: level, id: "1", type: uint16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n    - {name: valve, id: "2", type: bool, visitor: {modbus: {function: 1, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: level, type: calculate, expression: x1/100, precision: 2}\n    - {attribute: valve, type: value, expression: x2}\n',
    devices: `devices:\n  - name: tank-1\n    deviceModel: tank\n    accessTemplate: tank-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 200ms, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances, config } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  sim.device('tank-1').set('level', 42.17);
  sim.device('tank-1').set('valve', true);
  let { gateway } = await startTestGateway(conf.dir);
  let rec = await Recorder.connect(gateway.brokerUrl, ['thing/#', '$baetyl/#']);
  try {
    await rec.waitFor((m) => m.topic === 'thing/tank/tank-1/property/post', 5000, 'a report');
    await rec.publish('$baetyl/device/tank-1/get', { kind: 'deviceDesire', meta: { device: 'tank-1' }, content: { name: 'tank-1' } });
    const ans = await rec.waitFor((m) => m.topic === '$baetyl/device/tank-1/getResponse', 5000, 'the shadow answer');
    assert.equal(ans.json.kind, 'response');
    assert.equal(ans.json.meta.device, 'tank-1');
    assert.deepEqual(ans.json.content, { name: 'tank-1', report: { level: 42.17, valve: true }, desire: {} });

    await rec.close();
    await gateway.stop();
    // The file holds the shadow as last committed.
    const file = path.join(config.dataDir, 'fieldgate.db');
    const store = openShadowStore(file);
    const s = store.get('tank-1');
    store.close();
    assert.deepEqual(s?.report, { level: 42.17, valve: true });
    assert.ok((s?.reportVersion ?? 0) >= 1);

    // Restart with the device unreachable: the answer still comes from the stored shadow.
    await sim.stop();
    ({ gateway } = await startTestGateway(conf.dir));
    rec = await Recorder.connect(gateway.brokerUrl, ['$baetyl/#']);
    await rec.publish('$baetyl/device/tank-1/get', { kind: 'deviceDesire', meta: { device: 'tank-1' }, content: {} });
    const again = await rec.waitFor((m) => m.topic === '$baetyl/device/tank-1/getResponse', 5000, 'the shadow answer after restart');
    assert.deepEqual(again.json.content.report, { level: 42.17, valve: true });
  } finally {
    await rec.close();
    await gateway.stop();
    await sim.stop();
    conf.cleanup();
  }
});
