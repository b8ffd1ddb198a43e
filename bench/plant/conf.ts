/**
 * The plant's configuration: one gateway.yaml with a driver instance per protocol, each instance
 * folder written by that protocol's own benchmark (bench/lib, bench/opcua, bench/bacnet,
 * bench/iec104), so that its simulator child can be started on that folder unchanged. The plant
 * adds what the single-protocol benches lack: an external broker (the mosquitto the bench
 * starts), the cloud link, report by exception, and the cameras.
 *
 * Device names tell the protocols apart (the subscriber counts by them): `dev-…` Modbus, `ua-…`
 * OPC UA, `bac-…` BACnet, `rtu-…` IEC 104, `cam-…` cameras.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBacnetBenchConf } from '../bacnet/conf.ts';
import { writeIec104BenchConf } from '../iec104/conf.ts';
import { writeBenchConf } from '../lib/conf.ts';
import { writeOpcuaBenchConf } from '../opcua/conf.ts';
import type { Protocol } from './options.ts';
import { SHAPE } from './options.ts';

/** How the subscriber finds a value's age in a report (see subscriber-child.ts). */
export type LatencyMode = 'ts' | 'value' | 'none';

/** Device-name prefix and latency mode of each protocol. */
export const NAMING: Readonly<Record<Protocol, { prefix: string; latency: LatencyMode }>> = {
  modbus: { prefix: 'dev-', latency: 'ts' },
  opcua: { prefix: 'ua-', latency: 'ts' },
  bacnet: { prefix: 'bac-', latency: 'ts' },
  iec104: { prefix: 'rtu-', latency: 'value' },
  cameras: { prefix: 'cam-', latency: 'none' },
};

/** Modbus unit ids per TCP endpoint (one gateway link per endpoint), as in the Modbus bench. */
export const MODBUS_PER_ENDPOINT = 200;
/** OPC UA simulator endpoints (each device still has a session of its own). */
export const OPCUA_SERVERS = 4;
/** Camera credentials (the simulator checks them). */
export const CAMERA_USER = { username: 'admin', password: 'plant-pw' } as const;

/** Ports of every simulator, chosen free by the caller. */
export interface PlantPorts {
  readonly modbus: readonly number[];
  readonly opcua: readonly number[];
  /** UDP, one per device. */
  readonly bacnet: readonly number[];
  readonly iec104: readonly number[];
  /** Camera simulators' ONVIF (HTTP) ports, one per camera. */
  readonly cameras: readonly number[];
}

/** What was written: the gateway's folder and, per protocol present, the folder its simulator child loads. */
export interface PlantConf {
  readonly root: string;
  readonly parts: Partial<Record<Protocol, string>>;
}

/** The folder a protocol's own writer made holds `<instance>/`; returns that instance folder. */
const instanceOf = (dir: string, name: string) => path.join(dir, name);

function cameraConf(dir: string, ports: readonly number[]): void {
  const inst = path.join(dir, 'ipc');
  mkdirSync(inst, { recursive: true });
  const props: [string, string, string][] = [
    ['online', 'bool', 'online'],
    ['manufacturer', 'string', 'info.manufacturer'],
    ['model', 'string', 'info.model'],
    ['firmware', 'string', 'info.firmware'],
    ['profiles', 'int32', 'profiles.count'],
    ['width', 'int32', 'profile[0].width'],
    ['height', 'int32', 'profile[0].height'],
  ];
  writeFileSync(path.join(inst, 'models.yml'), `camera:\n${props.map(([n, t]) => `  - {name: ${n}, type: ${t}, mode: ro}`).join('\n')}\n`);
  writeFileSync(
    path.join(inst, 'access_template.yml'),
    `camera-tpl:\n  properties:\n${props.map(([n, t, a], i) => `    - {name: ${n}, id: "${i + 1}", type: ${t}, visitor: {ipc: "${a}"}}`).join('\n')}\n` +
      `  mappings:\n${props.map(([n], i) => `    - {attribute: ${n}, type: value, expression: x${i + 1}}`).join('\n')}\n`,
  );
  const devs = ['devices:'];
  ports.forEach((port, i) => {
    devs.push(
      `  - name: cam-${String(i + 1).padStart(3, '0')}`,
      '    deviceModel: camera',
      '    accessTemplate: camera-tpl',
      `    accessConfig: {ipc: {ip: 127.0.0.1, port: ${port}, username: ${CAMERA_USER.username}, password: ${CAMERA_USER.password}, interval: ${SHAPE.cameraIntervalMs}ms, timeout: 3s}}`,
    );
  });
  devs.push('driver: ""');
  writeFileSync(path.join(inst, 'sub_devices.yml'), `${devs.join('\n')}\n`);
}

/**
 * Writes the folder of every protocol present but the cameras (each in its own temp folder, which
 * its simulator child loads) into a new plant folder; `writeGatewayYaml` completes it.
 */
export function writeProtocolFolders(counts: Readonly<Record<Protocol, number>>, ports: Omit<PlantPorts, 'cameras'>): PlantConf {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-plant-'));
  const parts: Partial<Record<Protocol, string>> = {};
  // The single-protocol writers put a throwaway gateway.yaml (broker port 1) next to their
  // instance folder: the simulator children load it, the gateway never does.
  if (counts.modbus > 0) {
    const layout = {
      devices: counts.modbus,
      points: SHAPE.modbusPoints,
      intervalMs: SHAPE.modbusIntervalMs,
      timeoutMs: 2 * SHAPE.modbusIntervalMs,
      window: 16,
      perEndpoint: MODBUS_PER_ENDPOINT,
      pointType: 'float32' as const,
    };
    parts.modbus = writeBenchConf(layout, ports.modbus, { kind: 'embedded', port: 1 });
  }
  if (counts.opcua > 0) parts.opcua = writeOpcuaBenchConf({ devices: counts.opcua, items: SHAPE.opcuaItems, ports: ports.opcua, samplingMs: SHAPE.opcuaMs, brokerPort: 1 });
  if (counts.bacnet > 0) {
    const layout = { devices: counts.bacnet, objects: SHAPE.bacnetObjects, intervalMs: SHAPE.bacnetIntervalMs, timeoutMs: SHAPE.bacnetIntervalMs, window: 4 };
    parts.bacnet = writeBacnetBenchConf(layout, ports.bacnet, 'poll', 1);
  }
  if (counts.iec104 > 0) parts.iec104 = writeIec104BenchConf({ stations: counts.iec104, points: SHAPE.iec104Points, ports: ports.iec104, brokerPort: 1 });
  return { root, parts };
}

/** Instance name and driver id of each protocol in the plant's gateway.yaml (the gateway counts per driver id). */
export const DRIVER_ID: Readonly<Record<Protocol, string>> = { modbus: 'modbus', opcua: 'opcua', bacnet: 'bacnet', iec104: 'iec104', cameras: 'ipc' };

/**
 * Writes the cameras' folder (for `cameraPorts`, none when empty) and the plant's gateway.yaml:
 * `brokerUrl` is the mosquitto the bench started, `cloudUrl` the cloud simulator's.
 */
export function writeGatewayYaml(conf: PlantConf, cameraPorts: readonly number[], brokerUrl: string, cloudUrl: string): PlantConf {
  const parts = { ...conf.parts };
  if (cameraPorts.length > 0) {
    parts.cameras = path.join(conf.root, 'cameras');
    cameraConf(parts.cameras, cameraPorts);
  }
  const drivers = (Object.entries(parts) as [Protocol, string][]).map(([p, dir]) => `  - {name: ${DRIVER_ID[p]}, driver: ${DRIVER_ID[p]}, path: "${instanceOf(dir, DRIVER_ID[p])}"}`);
  writeFileSync(
    path.join(conf.root, 'gateway.yaml'),
    [
      'node: plant',
      'dataDir: ./data',
      'log: {level: warn}',
      // The REST API and console stay on, as in a real gateway (a free port).
      'api: {port: 0}',
      // Report by exception: with no deviation set, unchanged values are not published.
      'onChangeOnly: true',
      `broker: {url: "${brokerUrl}", clientId: fieldgate-plant}`,
      `cloud: {url: "${cloudUrl}", clientId: fieldgate-plant-cloud}`,
      'drivers:',
      ...drivers,
      '',
    ].join('\n'),
  );
  return { root: conf.root, parts };
}
