/**
 * Desired → reported round trip for a Modbus device on loopback: the cloud simulator sets a
 * desired value, the gateway validates and writes it, reads back, and the cloud sees the reported
 * value match. `node --import tsx bench/roundtrip.ts [count]` prints p50/p99 (no assertions).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startCloudSimulator } from '../simulators/cloud/index.ts';
import { startModbusSimulator } from '../simulators/modbus/simulator.ts';
import { loadConfig } from '../src/gateway/config/load.ts';
import { createRegistry } from '../src/gateway/drivers/registry.ts';
import { startGateway } from '../src/gateway/runtime/gateway.ts';
import { createLogger } from '../src/gateway/cli/logger.ts';

const COUNT = Number(process.argv[2] ?? 200);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const [simPort, mqttPort, cloudPort] = [await freePort(), await freePort(), await freePort()];
const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-rt-'));
mkdirSync(path.join(dir, 'modbus'));
writeFileSync(path.join(dir, 'gateway.yaml'), `node: rt\nembeddedBroker: {host: 127.0.0.1, port: ${mqttPort}}\napi: {enabled: false}\ncloud: {url: "mqtt://127.0.0.1:${cloudPort}"}\ndrivers:\n  - {name: modbus, driver: modbus}\n`);
writeFileSync(path.join(dir, 'modbus/models.yml'), 'valve:\n  - {name: position, type: int32, mode: rw, min: 0, max: 100000}\n');
writeFileSync(path.join(dir, 'modbus/access_template.yml'), 'valve-tpl:\n  properties:\n    - {name: p, id: "1", type: uint32, visitor: {modbus: {function: 3, address: "0x0", quantity: 2}}}\n  mappings:\n    - {attribute: position, type: value, expression: x1}\n');
writeFileSync(path.join(dir, 'modbus/sub_devices.yml'), `devices:\n  - name: valve-1\n    deviceModel: valve\n    accessTemplate: valve-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 1s, timeout: 500ms, tcp: {address: 127.0.0.1, port: ${simPort}}}\ndriver: ""\n`);
const registry = createRegistry();
const loaded = await loadConfig(dir, registry);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
const cloud = await startCloudSimulator({ port: cloudPort });
const sim = await startModbusSimulator({ devices: loaded.instances[0]!.devices, tickMs: 0 });
sim.device('valve-1').set('position', 0);
const gateway = await startGateway({ config: loaded.config, instances: loaded.instances, registry, log: createLogger('error') });
await cloud.waitFor(() => cloud.device('rt', 'valve-1')?.reported.position === 0, 20_000, 'first report');

const times: number[] = [];
const writeTimes: number[] = [];
const deadline = Date.now() + 120_000;
for (let i = 1; i <= COUNT && Date.now() < deadline; i++) {
  const t0 = performance.now();
  cloud.setDesired('rt', 'valve-1', { position: i });
  while (sim.device('valve-1').get('position') !== i && performance.now() - t0 < 10_000) await new Promise((r) => setImmediate(r));
  writeTimes.push(performance.now() - t0);
  while (cloud.device('rt', 'valve-1')?.reported.position !== i && performance.now() - t0 < 10_000) await new Promise((r) => setImmediate(r));
  times.push(performance.now() - t0);
}
await gateway.stop();
await sim.stop();
await cloud.close();
rmSync(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
console.log(`desired → written → re-read → reported at the cloud, ${times.length} round trips (Modbus/TCP on loopback, poll interval 1 s):`);
console.log(`p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${times[times.length - 1]!.toFixed(1)} ms`);
writeTimes.sort((a, b) => a - b);
console.log(`of which desired → value on the device: p50 ${writeTimes[Math.floor(writeTimes.length / 2)]!.toFixed(1)} ms, p99 ${writeTimes[Math.floor(writeTimes.length * 0.99)]!.toFixed(1)} ms`);
process.exit(0);
