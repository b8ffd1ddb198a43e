/**
 * The OPC UA benchmark's configuration, written into a temp folder: `devices` devices, each with
 * its own OPC UA session (its own user on the server, so its own link), spread over `servers`
 * simulator endpoints. Every device has `items` monitored items: value points p0 … p(items-3)
 * (Double), `ts` (Double: the simulator's Date.now() when it changed the device's values, for
 * latency) and `sp` (Float, read-write: the target of the write round trips). Each point maps 1:1
 * to an attribute with no deviation, so every changed value is published.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What to generate. */
export interface OpcuaBenchLayout {
  readonly devices: number;
  /** Monitored items per device, `ts` and `sp` included (at least 3). */
  readonly items: number;
  /** Ports of the simulator endpoints; device i uses ports[i % ports.length]. */
  readonly ports: readonly number[];
  readonly samplingMs: number;
  readonly brokerPort: number;
}

/** Device name of index `i` (0-based); also its user name on the server. */
export function benchDevice(i: number): string {
  return `ua-${String(i + 1).padStart(3, '0')}`;
}

/** The password every bench user has. */
export const BENCH_PASSWORD = 'bench-pw';

/** Node id of point `k` (0-based) of device `i`: one namespace, ids i*1000 + k + 1. */
export function benchNodeId(i: number, k: number): string {
  return `ns=2;i=${i * 1000 + k + 1}`;
}

function modelsYml(l: OpcuaBenchLayout): string {
  const lines = ['uabench:'];
  for (let k = 0; k < l.items - 2; k++) lines.push(`  - {name: p${k}, type: float64, mode: ro}`);
  lines.push('  - {name: ts, type: float64, mode: ro, unit: ms}', '  - {name: sp, type: float32, mode: rw}');
  return `${lines.join('\n')}\n`;
}

/** One template with Baetyl's nsBase/idBase; each device's idOffset moves it to its own ids. */
function templateYml(l: OpcuaBenchLayout): string {
  const props: string[] = [];
  const maps: string[] = [];
  const add = (name: string, k: number, type: string) => {
    props.push(`    - {name: ${name}, id: "${k + 1}", type: ${type}, visitor: {opcua: {nsBase: 2, idBase: ${k + 1}, idType: i, type: ${type}}}}`);
    maps.push(`    - {attribute: ${name}, type: value, expression: x${k + 1}}`);
  };
  for (let k = 0; k < l.items - 2; k++) add(`p${k}`, k, 'float64');
  add('ts', l.items - 2, 'float64');
  add('sp', l.items - 1, 'float32');
  return `uabench-tpl:\n  properties:\n${props.join('\n')}\n  mappings:\n${maps.join('\n')}\n`;
}

function devicesYml(l: OpcuaBenchLayout): string {
  const out = ['devices:'];
  for (let i = 0; i < l.devices; i++) {
    const port = l.ports[i % l.ports.length]!;
    out.push(
      `  - name: ${benchDevice(i)}`,
      '    deviceModel: uabench',
      '    accessTemplate: uabench-tpl',
      '    accessConfig:',
      // The poll interval is long: in subscribe mode it only re-reads the subscription's cache.
      `      opcua: {endpoint: "opc.tcp://127.0.0.1:${port}", interval: 60s, timeout: 10s, subscribe: true, samplingInterval: ${l.samplingMs}ms, idOffset: ${i * 1000}, auth: {username: ${benchDevice(i)}, password: ${BENCH_PASSWORD}}}`,
    );
  }
  out.push('driver: ""');
  return `${out.join('\n')}\n`;
}

/** Writes gateway.yaml and the `opcua/` instance folder into a new temp folder; returns it. */
export function writeOpcuaBenchConf(l: OpcuaBenchLayout): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-benchua-'));
  mkdirSync(path.join(dir, 'opcua'));
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    `node: bench\ndataDir: ./data\nlog: {level: warn}\napi: {port: 0}\nembeddedBroker: {host: 127.0.0.1, port: ${l.brokerPort}}\ndrivers:\n  - {name: opcua, driver: opcua}\n`,
  );
  writeFileSync(path.join(dir, 'opcua', 'models.yml'), modelsYml(l));
  writeFileSync(path.join(dir, 'opcua', 'access_template.yml'), templateYml(l));
  writeFileSync(path.join(dir, 'opcua', 'sub_devices.yml'), devicesYml(l));
  return dir;
}
