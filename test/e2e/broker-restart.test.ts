/**
 * The broker (mosquitto, standing in for baetyl-broker) restarts while devices keep changing:
 * the gateway reconnects by itself, republishes every device's lifecycle, and the reports
 * queued during the outage arrive afterwards, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { startMosquitto, tempDir } from '../mqtt/helpers/mosquitto.ts';
import { freePort, load, Recorder, startTestGateway, writeConf } from './harness.ts';

test('broker restart: reconnect, lifecycle republished, queued reports delivered in order', async () => {
  const [simPort, mqttPort] = [await freePort(), await freePort()];
  const mq = tempDir('fieldgate-restart-');
  // Persistence on, as baetyl-broker keeps QoS 1 sessions: a restart loses no subscriber session.
  const mosq = await startMosquitto(mq.dir, mqttPort, ['persistence true', `persistence_location ${mq.dir}/`]);
  const conf = writeConf({
    gateway: `node: rb\nbroker: {url: "mqtt://127.0.0.1:${mqttPort}", protocolVersion: 5}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'counter:\n  - {name: count, type: int32, mode: ro}\n',
    template: 'counter-tpl:\n  properties:\n    - {name: c, id: "1", type: uint16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: count, type: value, expression: x1, deviation: 0.0001}\n',
    devices: `devices:\n  - name: counter-1\n    deviceModel: counter\n    accessTemplate: counter-tpl\n    deviceTopic:\n      report: {qos: 1, topic: thing/counter/counter-1/property/post}\n    accessConfig:\n      modbus: {id: 1, interval: 100ms, timeout: 400ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  sim.device('counter-1').set('count', 1);
  const { gateway, lines } = await startTestGateway(conf.dir);
  const rec = await Recorder.connect(`mqtt://127.0.0.1:${mqttPort}`, ['thing/#'], { clientId: 'restart-watcher' });
  try {
    await rec.waitFor((m) => m.topic === 'thing/counter/counter-1/property/post' && m.json.content.blink.properties.count === 1, 10_000, 'first report');
    await mosq.stop();
    for (let v = 2; v <= 8; v++) {
      sim.device('counter-1').set('count', v);
      await new Promise((r) => setTimeout(r, 200));
    }
    const restarted = Date.now();
    await mosq.start();
    const life = await rec.waitFor((m) => m.topic === 'thing/counter/counter-1/lifecycle/post', 15_000, 'lifecycle republished after the reconnect', restarted);
    assert.equal(life.json.content.blink.params.online_state, true);
    await rec.waitFor((m) => m.topic === 'thing/counter/counter-1/property/post' && m.json.content.blink.properties.count === 8, 15_000, 'the last value of the outage');
    const counts = rec.messages.filter((m) => m.topic.endsWith('/property/post')).map((m) => m.json.content.blink.properties.count as number);
    const during = counts.filter((c) => c >= 2 && c <= 8);
    assert.deepEqual(during, [...new Set(during)].sort((a, b) => a - b), `in order: ${during}`);
    assert.deepEqual([...new Set(during)], [2, 3, 4, 5, 6, 7, 8], `every change made during the outage arrived; link ${JSON.stringify(gateway.broker.counters)}; ${JSON.stringify(lines.filter((l) => l.level !== 'debug').slice(-12))}`);
    assert.ok(gateway.broker.counters.reconnects >= 1);
  } finally {
    await rec.close();
    await gateway.stop();
    await sim.stop();
    await mosq.stop();
    mq.remove();
    conf.cleanup();
  }
});
