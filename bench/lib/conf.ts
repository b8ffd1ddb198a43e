/**
 * The benchmark's configuration: Baetyl's three files plus gateway.yaml, written into a temp
 * folder, for N devices × M points spread over several Modbus/TCP endpoints (one link each).
 *
 * Layout of every device (holding registers, function 3, byte order ABCD):
 * - points p0 … p(M-2) of `pointType` at consecutive addresses from 0;
 * - the last point, `ts`, a float64 that the simulator sets to its `Date.now()` whenever it
 *   changes the device's values, so that the subscriber can measure latency.
 * Each point has a `value` mapping to the model attribute of the same name, with no deviation,
 * so that every changed value is published.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Point types the benchmark can lay out. */
export type BenchPointType = 'float32' | 'uint16';

/** What to generate. */
export interface BenchLayout {
  readonly devices: number;
  /** Points per device, the timestamp point included (at least 2). */
  readonly points: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Requests in flight per link (Modbus/TCP pipelining). */
  readonly window: number;
  /** Unit ids per endpoint (at most 247). */
  readonly perEndpoint: number;
  readonly pointType: BenchPointType;
}

/** Registers of one point of the given type. */
export function regsOf(type: BenchPointType): number {
  return type === 'float32' ? 2 : 1;
}

/** Holding-register address of the timestamp point (it follows the value points). */
export function tsAddress(layout: Pick<BenchLayout, 'points' | 'pointType'>): number {
  return (layout.points - 1) * regsOf(layout.pointType);
}

/** Registers each device serves: the value points, then 4 for the float64 timestamp. */
export function deviceRegisters(layout: Pick<BenchLayout, 'points' | 'pointType'>): number {
  return tsAddress(layout) + 4;
}

/** How many endpoints the devices need. */
export function endpointCount(layout: Pick<BenchLayout, 'devices' | 'perEndpoint'>): number {
  return Math.ceil(layout.devices / layout.perEndpoint);
}

const hex = (n: number) => `"0x${n.toString(16).padStart(4, '0')}"`;

function modelsYml(l: BenchLayout): string {
  const lines = ['bench:'];
  for (let i = 0; i < l.points - 1; i++) lines.push(`  - {name: p${i}, type: ${l.pointType === 'float32' ? 'float32' : 'int32'}, mode: ro}`);
  lines.push('  - {name: ts, type: float64, mode: ro, unit: ms}');
  return `${lines.join('\n')}\n`;
}

function templateYml(l: BenchLayout): string {
  const props: string[] = [];
  const maps: string[] = [];
  const r = regsOf(l.pointType);
  for (let i = 0; i < l.points - 1; i++) {
    props.push(`    - {name: p${i}, id: "${i + 1}", type: ${l.pointType}, visitor: {modbus: {function: 3, address: ${hex(i * r)}, quantity: ${r}, type: ${l.pointType}}}}`);
    maps.push(`    - {attribute: p${i}, type: value, expression: x${i + 1}}`);
  }
  props.push(`    - {name: ts, id: "${l.points}", type: float64, visitor: {modbus: {function: 3, address: ${hex(tsAddress(l))}, quantity: 4, type: float64}}}`);
  maps.push(`    - {attribute: ts, type: value, expression: x${l.points}}`);
  return `bench-tpl:\n  properties:\n${props.join('\n')}\n  mappings:\n${maps.join('\n')}\n`;
}

/** Device name of index `i` (0-based). */
export function deviceName(i: number): string {
  return `dev-${String(i + 1).padStart(5, '0')}`;
}

function devicesYml(l: BenchLayout, ports: readonly number[]): string {
  const out = ['devices:'];
  for (let i = 0; i < l.devices; i++) {
    const ep = Math.floor(i / l.perEndpoint);
    const unit = (i % l.perEndpoint) + 1;
    out.push(
      `  - name: ${deviceName(i)}`,
      '    deviceModel: bench',
      '    accessTemplate: bench-tpl',
      '    accessConfig:',
      `      modbus: {id: ${unit}, interval: ${l.intervalMs}ms, timeout: ${l.timeoutMs}ms, window: ${l.window}, tcp: {address: 127.0.0.1, port: ${ports[ep]}}}`,
    );
  }
  out.push('driver: ""');
  return `${out.join('\n')}\n`;
}

/** Where the gateway finds its broker. */
export type BrokerChoice = { readonly kind: 'embedded'; readonly port: number } | { readonly kind: 'external'; readonly url: string };

/** gateway.yaml for one run (written again for each broker choice). */
export function gatewayYml(broker: BrokerChoice, api = true): string {
  const b = broker.kind === 'embedded' ? `embeddedBroker: {host: 127.0.0.1, port: ${broker.port}}` : `broker: {url: "${broker.url}", clientId: fieldgate-bench}`;
  // The REST API (and its web console) stays on by default, as in a real gateway, on a free port.
  return `node: bench\ndataDir: ./data\nlog: {level: warn}\napi: ${api ? '{port: 0}' : '{enabled: false}'}\n${b}\ndrivers:\n  - {name: modbus, driver: modbus}\n`;
}

/** Writes the instance folder (and a first gateway.yaml) into a new temp folder; returns it. */
export function writeBenchConf(layout: BenchLayout, modbusPorts: readonly number[], broker: BrokerChoice): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bench-'));
  mkdirSync(path.join(dir, 'modbus'));
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYml(broker));
  writeFileSync(path.join(dir, 'modbus', 'models.yml'), modelsYml(layout));
  writeFileSync(path.join(dir, 'modbus', 'access_template.yml'), templateYml(layout));
  writeFileSync(path.join(dir, 'modbus', 'sub_devices.yml'), devicesYml(layout, modbusPorts));
  return dir;
}
