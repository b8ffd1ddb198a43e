/**
 * The IEC 104 benchmark's configuration, written into a temp folder: one device per station
 * (each on its own endpoint, so one link each), `points` AI points per device (`pointNum` 0..,
 * IOA 0x4001..), each mapped 1:1 to a float32 attribute with no deviation, so that every changed
 * value is published. The interval (general interrogation period) is long, so interrogation runs
 * only after connecting and the measured traffic is spontaneous data alone.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What to generate. */
export interface Iec104BenchLayout {
  readonly stations: number;
  readonly points: number;
  /** Ports of the stations, one per station. */
  readonly ports: readonly number[];
  readonly brokerPort: number;
}

/** Device name of station `i` (0-based). */
export function stationDevice(i: number): string {
  return `rtu-${String(i + 1).padStart(3, '0')}`;
}

/** Writes gateway.yaml and the `iec104/` instance folder; returns the folder. */
export function writeIec104BenchConf(l: Iec104BenchLayout): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-bench104-'));
  mkdirSync(path.join(dir, 'iec104'));
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    `node: bench\ndataDir: ./data\nlog: {level: warn}\nembeddedBroker: {host: 127.0.0.1, port: ${l.brokerPort}}\ndrivers:\n  - {name: iec104, driver: iec104}\n`,
  );
  const model = ['bench:'];
  const props: string[] = [];
  const maps: string[] = [];
  for (let i = 0; i < l.points; i++) {
    model.push(`  - {name: p${i}, type: float32, mode: ro}`);
    props.push(`    - {name: p${i}, id: "${i + 1}", type: float32, visitor: {iec104: {pointNum: ${i}, pointType: AI, type: float32}}}`);
    maps.push(`    - {attribute: p${i}, type: value, expression: x${i + 1}}`);
  }
  writeFileSync(path.join(dir, 'iec104', 'models.yml'), `${model.join('\n')}\n`);
  writeFileSync(path.join(dir, 'iec104', 'access_template.yml'), `bench-104:\n  properties:\n${props.join('\n')}\n  mappings:\n${maps.join('\n')}\n`);
  const devs = ['devices:'];
  for (let i = 0; i < l.stations; i++) {
    devs.push(
      `  - name: ${stationDevice(i)}`,
      '    deviceModel: bench',
      '    accessTemplate: bench-104',
      `    accessConfig: {iec104: {endpoint: "127.0.0.1:${l.ports[i]}", interval: 1h, timeout: 60s}}`,
    );
  }
  devs.push('driver: ""');
  writeFileSync(path.join(dir, 'iec104', 'sub_devices.yml'), `${devs.join('\n')}\n`);
  return dir;
}

/**
 * Values carry their own generation time: epoch ms modulo {@link TIME_MODULO}, a whole number
 * below 2^24, so a float32 (M_ME_TF_1, the attribute type) holds it exactly. The subscriber
 * subtracts it from its own clock modulo the same number.
 */
export const TIME_MODULO = 10_000_000;
