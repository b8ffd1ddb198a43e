/**
 * The `fieldgate` command as a user runs it (a child process): validate on good and bad
 * configurations, and `run` against a real mosquitto (MQTT 5) named in gateway.yaml.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startModbusSimulator } from '../../simulators/modbus/simulator.ts';
import { startMosquitto, tempDir } from '../mqtt/helpers/mosquitto.ts';
import { freePort, load, Recorder, writeConf } from '../e2e/harness.ts';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/fieldgate.mjs');

function fieldgate(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

test('validate: the shipped demo configuration is valid', () => {
  const r = fieldgate(['validate', '-c', 'conf']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /conf: OK \(5 driver instance\(s\), 7 device\(s\)\)/);
});

test('validate: a broken configuration exits 2 and names file, line, path and the fix', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-cli-'));
  try {
    cpSync(path.join(root, 'conf'), dir, { recursive: true, filter: (p) => !p.includes(`${path.sep}data`) });
    const subs = path.join(dir, 'modbus/sub_devices.yml');
    writeFileSync(subs, readFileSync(subs, 'utf8').replace('port: 15020', 'prot: 15020'));
    const tpl = path.join(dir, 'modbus/access_template.yml');
    writeFileSync(tpl, readFileSync(tpl, 'utf8').replace('function: 4', 'function: 7'));
    const r = fieldgate(['validate', '-c', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /sub_devices\.yml:\d+:\d+ devices\[0\]\.accessConfig\.modbus\.tcp\.prot: unknown key "prot"; did you mean "port"\?/);
    assert.match(r.stderr, /access_template\.yml:\d+:\d+ power-meter-modbus\.properties\[0\]\.visitor\.modbus\.function: .*1, 2, 3.*4/);
    assert.match(r.stderr, /\d+ problem\(s\) in /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: against mosquitto (MQTT 5) named in gateway.yaml; SIGTERM stops cleanly with offline lifecycle', async () => {
  const mq = tempDir('fieldgate-mosq-');
  const mqttPort = await freePort();
  const simPort = await freePort();
  const mosq = await startMosquitto(mq.dir, mqttPort);
  const conf = writeConf({
    gateway: `node: cli-node\ndataDir: ./data\nbroker: {url: "mqtt://127.0.0.1:${mqttPort}", protocolVersion: 5, clientId: fg-cli}\napi: {port: 0}\ndrivers:\n  - {name: modbus, driver: modbus}\n`,
    models: 'pump:\n  - {name: speed, type: int32, mode: rw}\n',
    template: 'pump-tpl:\n  properties:\n    - {name: speed, id: "1", type: int16, visitor: {modbus: {function: 3, address: "0x0010", quantity: 1}}}\n  mappings:\n    - {attribute: speed, type: value, expression: x1}\n',
    devices: `devices:\n  - name: pump-1\n    deviceModel: pump\n    accessTemplate: pump-tpl\n    accessConfig:\n      modbus: {id: 3, interval: 300ms, timeout: 1s, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`,
  });
  const { instances } = await load(conf.dir);
  const sim = await startModbusSimulator({ devices: instances[0]!.devices, tickMs: 0 });
  sim.device('pump-1').set('speed', 1450);
  const rec = await Recorder.connect(`mqtt://127.0.0.1:${mqttPort}`, ['thing/#', 'fieldgate/#']);
  const child = spawn(process.execPath, [bin, 'run', '-c', conf.dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const m = await rec.waitFor((x) => x.topic === 'thing/pump/pump-1/property/post', 20_000, 'a report through mosquitto');
    assert.deepEqual(m.json.content.blink.properties, { speed: 1450 });
    const status = await rec.waitFor((x) => x.topic === 'fieldgate/cli-node/status', 5000, 'retained gateway status');
    assert.equal(status.json.online, true);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const stopAt = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    const off = await rec.waitFor((x) => x.topic === 'thing/pump/pump-1/lifecycle/post' && x.json.content.blink.params.online_state === false, 5000, 'offline lifecycle on stop', stopAt);
    assert.equal(off.json.kind, 'thing.lifecycle.post');
    await rec.waitFor((x) => x.topic === 'fieldgate/cli-node/status' && x.json.online === false, 5000, 'status offline on stop', stopAt);
    assert.doesNotMatch(out, /"level":50/, 'no error lines in the log');
  } finally {
    child.kill('SIGKILL');
    await rec.close();
    await sim.stop();
    await mosq.stop();
    mq.remove();
    conf.cleanup();
  }
});
