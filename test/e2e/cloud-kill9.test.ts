/**
 * `kill -9` of the gateway process while the cloud is unreachable: after a restart, the outbox
 * in the SQLite file still delivers every stored report, in order, and the shadow is intact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { startCloudSimulator } from '../../simulators/cloud/index.ts';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { freePort, load, writeConf } from './harness.ts';

const root = path.resolve(import.meta.dirname, '../..');

function startGatewayProcess(dir: string): ChildProcess {
  return spawn(process.execPath, [path.join(root, 'bin/fieldgate.mjs'), 'run', '-c', dir, '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
}

test('kill -9 during a cloud outage: the restarted gateway delivers everything it had stored', async () => {
  const [simPort, mqttPort, cloudPort, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cloud = await startCloudSimulator({ port: cloudPort, keepHistory: true });
  await cloud.stop(); // the cloud is down from the start
  const conf = writeConf({
    gateway: `node: k9\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\napi: {port: ${apiPort}}\ncloud: {url: "mqtt://127.0.0.1:${cloudPort}"}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'meter:\n  - {name: energy, type: int32, mode: ro}\n',
    template: 'meter-tpl:\n  properties:\n    - {name: e, id: "1", type: uint16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: energy, type: value, expression: x1}\n',
    devices: `devices:\n  - name: meter-9\n    deviceModel: meter\n    accessTemplate: meter-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 100ms, timeout: 400ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  let child = startGatewayProcess(conf.dir);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const outbox = async () => {
      const r = await fetch(`http://127.0.0.1:${apiPort}/api/v1/outbox`).catch(() => undefined);
      return r?.ok ? ((await r.json()) as { outbox: { size: number } }).outbox.size : -1;
    };
    const written: number[] = [];
    // Wait until the gateway is up and polling.
    for (let i = 0; i < 100 && (await outbox()) < 0; i++) await new Promise((r) => setTimeout(r, 100));
    const seenByGateway = async () => {
      const r = await fetch(`http://127.0.0.1:${apiPort}/api/v1/devices/meter-9/properties`).catch(() => undefined);
      return r?.ok ? ((await r.json()) as { energy?: { value: number } }).energy?.value : undefined;
    };
    for (let v = 1000; v < 1015; v++) {
      sim.device('meter-9').set('energy', v);
      written.push(v);
      // Hold each value until the gateway has read it (a loaded machine may poll late).
      for (let i = 0; i < 200 && (await seenByGateway()) !== v; i++) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200)); // one store batch (50 ms) and then some
    const stored = await outbox();
    assert.ok(stored >= 15, `outbox holds ${stored} messages before the kill`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    await cloud.start();
    child = startGatewayProcess(conf.dir);
    child.stderr!.on('data', (d) => (stderr += d));
    await cloud.waitFor(() => cloud.device('k9', 'meter-9')?.history.some((h) => h.properties.energy === 1014) === true, 30_000, 'the last value before the kill');
    const d = cloud.device('k9', 'meter-9')!;
    const seen = d.history.map((h) => h.properties.energy).filter((e): e is number => typeof e === 'number' && e >= 1000);
    const firsts = seen.filter((e, i) => seen.indexOf(e) === i);
    assert.deepEqual(firsts.filter((e) => e < 1015), written, 'every value stored before the kill, in order');
    assert.equal(d.counters.gaps, 0);
  } finally {
    child.kill('SIGKILL');
    await sim.stop();
    await cloud.close();
    conf.cleanup();
  }
  assert.doesNotMatch(stderr, /"level":(50|60)/, stderr);
});
