/**
 * The BACnet benchmark's configuration: gateway.yaml plus one `bacnet` instance folder with
 * Baetyl's three files, for N devices × M analog-input objects, each device on its own UDP port
 * of 127.0.0.1 (one link, one socket each).
 *
 * Every device also has a `ts` object, a large-analog-value (Double, §20.2.7) that the simulator
 * sets to its `Date.now()` whenever it changes the device's values: the subscriber measures
 * latency from it (bench/lib/subscriber-child.ts). Each object has a `value` mapping to the
 * attribute of the same name with no deviation, so that every changed value is published.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How the gateway gets the values. */
export type BacnetBenchMode = 'poll' | 'cov';

/** What to generate. */
export interface BacnetBenchLayout {
  readonly devices: number;
  /** Value objects per device (the `ts` object comes on top). */
  readonly objects: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Requests in flight per link. */
  readonly window: number;
}

/** Object instance of the `ts` object (after the value objects, which start at 1). */
export const TS_INSTANCE = 1_000_000;
/** Device instance of device `i` (0-based). */
export const deviceInstance = (i: number): number => 10_000 + i;
/** Device name of device `i` (0-based). */
export const deviceName = (i: number): string => `bac-${String(i + 1).padStart(4, '0')}`;

function modelsYml(l: BacnetBenchLayout): string {
  const lines = ['bench:'];
  for (let i = 0; i < l.objects; i++) lines.push(`  - {name: v${i}, type: float32, mode: ro}`);
  lines.push('  - {name: ts, type: float64, mode: ro, unit: ms}');
  return `${lines.join('\n')}\n`;
}

function templateYml(l: BacnetBenchLayout): string {
  const props: string[] = [];
  const maps: string[] = [];
  for (let i = 0; i < l.objects; i++) {
    // Baetyl's keys: analog-input (0), instance i+1, REAL (4).
    props.push(`    - {name: v${i}, id: "${i + 1}", type: float32, visitor: {bacnet: {bacnetType: 0, bacnetAddress: ${i + 1}, applicationTagNumber: 4, type: float32}}}`);
    maps.push(`    - {attribute: v${i}, type: value, expression: x${i + 1}}`);
  }
  const ts = l.objects + 1;
  props.push(`    - {name: ts, id: "${ts}", type: float64, visitor: {bacnet: {objectType: large-analog-value, bacnetAddress: ${TS_INSTANCE}, type: float64}}}`);
  maps.push(`    - {attribute: ts, type: value, expression: x${ts}}`);
  return `bench-tpl:\n  properties:\n${props.join('\n')}\n  mappings:\n${maps.join('\n')}\n`;
}

/**
 * sub_devices.yml. With COV the devices subscribe every object (unconfirmed notifications) and
 * their gateway poll interval is an hour, so that the measured window sees COV traffic only.
 */
export function devicesYml(l: BacnetBenchLayout, ports: readonly number[], mode: BacnetBenchMode): string {
  const out = ['devices:'];
  for (let i = 0; i < l.devices; i++) {
    const common = `deviceId: ${deviceInstance(i)}, address: 127.0.0.1, port: ${ports[i]}, interface: 127.0.0.1, timeout: ${l.timeoutMs}ms, window: ${l.window}`;
    const access = mode === 'poll' ? `{${common}, interval: ${l.intervalMs}ms}` : `{${common}, interval: 1h, subscribe: true, cov: {confirmed: false, lifetime: 10m, pollInterval: 0}}`;
    out.push(`  - name: ${deviceName(i)}`, '    deviceModel: bench', '    accessTemplate: bench-tpl', '    accessConfig:', `      bacnet: ${access}`);
  }
  out.push('driver: ""');
  return `${out.join('\n')}\n`;
}

/** gateway.yaml: embedded aedes on `brokerPort`, REST API on a free port, warnings only. */
export function gatewayYml(brokerPort: number): string {
  return `node: bench\ndataDir: ./data\nlog: {level: warn}\napi: {port: 0}\nembeddedBroker: {host: 127.0.0.1, port: ${brokerPort}}\ndrivers:\n  - {name: bacnet, driver: bacnet}\n`;
}

/** Writes the whole configuration into a new temp folder; returns it. */
export function writeBacnetBenchConf(l: BacnetBenchLayout, ports: readonly number[], mode: BacnetBenchMode, brokerPort: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bench-bacnet-'));
  mkdirSync(path.join(dir, 'bacnet'));
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYml(brokerPort));
  writeFileSync(path.join(dir, 'bacnet', 'models.yml'), modelsYml(l));
  writeFileSync(path.join(dir, 'bacnet', 'access_template.yml'), templateYml(l));
  writeFileSync(path.join(dir, 'bacnet', 'sub_devices.yml'), devicesYml(l, ports, mode));
  return dir;
}

/** Switches an existing configuration to `mode` (and a new broker port). */
export function rewriteMode(dir: string, l: BacnetBenchLayout, ports: readonly number[], mode: BacnetBenchMode, brokerPort: number): void {
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYml(brokerPort));
  writeFileSync(path.join(dir, 'bacnet', 'sub_devices.yml'), devicesYml(l, ports, mode));
}
