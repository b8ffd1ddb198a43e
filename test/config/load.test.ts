/** loadConfig: gateway.yaml plus instance folders, on the demo conf and on broken copies of small ones. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/gateway/config/load.ts';
import type { LoadResult } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { genericDescriptor, modbusDescriptor, registryOf } from './registry.ts';
import { DEVICES, edit, MODELS, pos, TEMPLATE } from './texts.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const registry = registryOf(modbusDescriptor, genericDescriptor('opcua'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
/** Writes a config folder: `files` maps relative paths to contents. Returns its path. */
function folder(files: Record<string, string>): string {
  const dir = path.join(tmp, `c${++counter}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const GATEWAY = `node: edge-7
drivers:
  - name: plant
    driver: modbus
`;
const instance = (name = 'plant', t: { models?: string; template?: string; devices?: string } = {}) => ({
  [`${name}/models.yml`]: t.models ?? MODELS,
  [`${name}/access_template.yml`]: t.template ?? TEMPLATE,
  [`${name}/sub_devices.yml`]: t.devices ?? DEVICES,
});

/** Issue lines with the temporary folder cut off. */
function lines(r: LoadResult, dir: string): string[] {
  assert.equal(r.ok, false, 'expected the load to fail');
  return formatIssues((r as Extract<LoadResult, { ok: false }>).issues).split('\n').map((l) => l.replaceAll(`${dir}/`, ''));
}

describe('loadConfig: the demo configuration', () => {
  it('compiles conf/ with the real drivers', async () => {
    const r = await loadConfig(path.join(ROOT, 'conf'), createRegistry());
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
    assert.deepEqual(r.notes, []);
    const { config, instances } = r;
    assert.equal(config.node, 'demo-node');
    assert.equal(config.dataDir, path.join(ROOT, 'conf', 'data'));
    assert.equal(config.broker, undefined);
    assert.deepEqual(config.embeddedBroker, { host: '127.0.0.1', port: 1883 });
    assert.deepEqual(config.drivers[0], { name: 'modbus', driver: 'modbus', path: path.join(ROOT, 'conf', 'modbus'), simulate: true });
    assert.deepEqual(config.drivers.map((d) => d.driver), instances.map((i) => i.driver));
    const modbus = instances.find((i) => i.driver === 'modbus')!;
    const devs = new Map(modbus.devices.map((d) => [d.name, d]));
    assert.deepEqual([...devs.keys()], ['meter-01', 'th-sensor-01', 'io-module-01']);
    for (const d of devs.values()) assert.equal(d.connection.interval, 1000);

    const meter = devs.get('meter-01')!;
    assert.equal((meter.points[0]!.address as { order: string }).order, 'CDAB', 'voltage has swapped words');
    assert.deepEqual(meter.points.map((p) => p.type), ['float32', 'int32', 'uint16', 'uint32', 'uint16', 'uint16']);
    assert.equal(meter.mappings.find((m) => m.attribute === 'power')!.kind, 'calculate');
    assert.equal(meter.model.get('power-limit')!.mode, 'rw');
    assert.deepEqual(meter.connection.tcp, { address: '127.0.0.1', port: 15020, framing: 'mbap' });

    const th = devs.get('th-sensor-01')!;
    assert.deepEqual(th.connection.rtu, { port: '/tmp/fieldgate-demo/ttyV1', baudrate: 9600, parity: 'N', databit: 8, stopbit: 1 });
    assert.deepEqual(th.topics.report, { topic: 'thing/th-sensor/th-sensor-01/property/post', qos: 0 });
    assert.equal(th.model.get('high-temperature-threshold')!.mode, 'rw');

    const io = devs.get('io-module-01')!;
    assert.deepEqual(io.points.map((p) => (p.address as { table: string }).table), ['coil', 'coil', 'coil', 'coil', 'discrete', 'discrete', 'discrete', 'discrete']);
    assert.ok((io.connection.tcp as { port: number }).port >= 15000 && (io.connection.tcp as { port: number }).port <= 16000);
  });
});

describe('loadConfig: gateway.yaml', () => {
  it('applies defaults and makes paths absolute (relative to gateway.yaml)', async () => {
    const dir = folder({
      'gateway.yaml': `broker:
  url: mqtts://127.0.0.1:8883
  username: gw
  password: s3cret
  ca: certs/ca.pem
  key: /abs/key.pem
drivers:
  - name: plant
    driver: modbus
    path: ../shared/plant
`,
      ...Object.fromEntries(Object.entries(instance()).map(([k, v]) => [`../shared/${k}`, v])),
    });
    const r = await loadConfig(path.join(dir, 'gateway.yaml'), registry);
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
    assert.equal(r.config.node, 'fieldgate');
    assert.equal(r.config.dataDir, path.join(dir, 'data'));
    assert.equal(r.config.log.level, 'info');
    assert.equal(r.config.maxPayload, 32_768);
    assert.equal(r.config.heartbeat, undefined);
    assert.deepEqual(r.config.broker, {
      url: 'mqtts://127.0.0.1:8883',
      username: 'gw',
      password: 's3cret',
      ca: path.join(dir, 'certs', 'ca.pem'),
      key: '/abs/key.pem',
      rejectUnauthorized: true,
      protocolVersion: 4,
      keepalive: 60_000,
    });
    assert.equal(r.config.drivers[0]!.path, path.join(dir, '..', 'shared', 'plant'));
    assert.equal(r.instances[0]!.dir, path.join(dir, '..', 'shared', 'plant'));
  });

  it('never echoes a secret, and rejects broker + embeddedBroker together', async () => {
    const dir = folder({
      'gateway.yaml': `broker:\n  url: mqtt://127.0.0.1\n  password: 123456789\nembeddedBroker:\n  port: 1884\ndrivers: []\n`,
    });
    const out = lines(await loadConfig(dir, registry), dir);
    assert.deepEqual(out, [
      'gateway.yaml:3:13 broker.password: expected a string (value hidden)',
      'gateway.yaml:5:3 embeddedBroker: give either broker (an external one) or embeddedBroker, not both',
    ]);
    assert.ok(!out.join('\n').includes('123456789'));
  });

  it('unknown driver id lists the known ids; a far one lists them without a hint', async () => {
    const gw = `drivers:\n  - name: plant\n    driver: modbsu\n  - name: hall\n    driver: profinet\n`;
    const dir = folder({ 'gateway.yaml': gw, ...instance('plant'), ...instance('hall') });
    assert.deepEqual(lines(await loadConfig(dir, registry), dir), [
      `gateway.yaml:${pos(gw, 'modbsu')} drivers[0].driver: unknown driver "modbsu"; did you mean "modbus"? Known drivers: modbus, opcua`,
      `gateway.yaml:${pos(gw, 'profinet')} drivers[1].driver: unknown driver "profinet"; known drivers: modbus, opcua`,
    ]);
  });

  it('missing gateway.yaml, missing instance file, missing folder', async () => {
    const empty = folder({ 'README.md': 'nothing' });
    assert.deepEqual(lines(await loadConfig(empty, registry), empty), [
      `${empty}/gateway.yaml: not found: the gateway's settings (node, broker, drivers: [{name, driver, path}]) must be in this file`.replace(`${empty}/`, ''),
    ]);
    const gw = `drivers:\n  - name: plant\n    driver: modbus\n  - name: hall\n    driver: modbus\n`;
    const files = instance('plant');
    delete files['plant/access_template.yml'];
    const dir = folder({ 'gateway.yaml': gw, ...files });
    assert.deepEqual(lines(await loadConfig(dir, registry), dir), [
      'plant/access_template.yml: file not found: driver instance "plant" needs the access templates: { <template>: { properties: [...], mappings: [...] } }',
      `gateway.yaml:${pos(gw, 'name: hall', 'hall')} drivers[1].name: folder ${dir}/hall not found: driver instance "hall" needs it with models.yml, access_template.yml and sub_devices.yml (set path: to use another folder)`.replace(`${dir}/hall`, 'hall'),
    ]);
  });

  it('collects the issues of every file of every instance in one pass', async () => {
    const gw = `node: edge-7\nlog:\n  level: verbose\ndrivers:\n  - name: plant\n    driver: modbus\n  - name: hall\n    driver: modbus\n`;
    const devices = edit(DEVICES, 'port: 15020', 'port: 0');
    const template = edit(TEMPLATE, 'expression: x3', 'expression: x3 +');
    const hallDevices = edit(DEVICES, 'deviceModel: meter', 'deviceModel: boiler');
    const dir = folder({ 'gateway.yaml': gw, ...instance('plant', { devices, template }), ...instance('hall', { devices: hallDevices }) });
    assert.deepEqual(lines(await loadConfig(dir, registry), dir), [
      `gateway.yaml:${pos(gw, 'verbose')} log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "verbose"`,
      `plant/access_template.yml:${pos(template, 'x3 +', '+')}`.replace(/:(\d+)$/, (_, c: string) => `:${Number(c) + 1}`) +
        ` meter-tpl.mappings[2].expression: bad expression "x3 +": expected a number, a variable x<id> or '(' at column 5, got the end`,
      `plant/sub_devices.yml:${pos(devices, 'port: 0', '0')} devices[0].accessConfig.modbus.tcp.port: expected an integer 1..65535, got 0`,
      `hall/sub_devices.yml:${pos(hallDevices, 'boiler')} devices[0].deviceModel: model "boiler" is not in models.yml; its products: meter`,
    ]);
  });

  it('device names are unique across instances', async () => {
    const gw = `drivers:\n  - name: plant\n    driver: modbus\n  - name: hall\n    driver: modbus\n`;
    const dir = folder({ 'gateway.yaml': gw, ...instance('plant'), ...instance('hall') });
    assert.deepEqual(lines(await loadConfig(dir, registry), dir), [
      `hall/sub_devices.yml:${pos(DEVICES, 'name: meter-01', 'meter-01')} devices[0].name: duplicate device name "meter-01": driver instance "plant" has a device with this name (names are unique per node)`,
    ]);
  });

  it('accepts .yaml spellings and a folder argument', async () => {
    const files = Object.fromEntries(Object.entries(instance()).map(([k, v]) => [k.replace('.yml', '.yaml'), v]));
    const dir = folder({ 'gateway.yaml': GATEWAY, ...files });
    const r = await loadConfig(dir, registry);
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
    assert.equal(r.config.node, 'edge-7');
    assert.equal(r.instances[0]!.devices[0]!.name, 'meter-01');
  });
});
