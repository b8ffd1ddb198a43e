/**
 * The fault scenarios' configuration: one gateway.yaml and up to four driver instance folders
 * (Modbus, OPC UA, IEC 104, BACnet), every device reading one attribute, `seq`, that the
 * simulators drive with a counter. A counter makes loss, order and staleness visible in the
 * values themselves: every poll reads a number at least as large as the one before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One simulated device as the gateway sees it. */
export interface DevicePlan {
  readonly name: string;
  /** Poll interval and request timeout, ms. */
  readonly interval: number;
  readonly timeout: number;
}

export interface ModbusPlan extends DevicePlan {
  readonly unit: number;
  /** TCP port (MBAP framing) of its own simulator. */
  readonly port?: number;
  /** Or: the gateway's end of a serial line (RTU); devices on one path share the bus. */
  readonly serial?: string;
}
export interface OpcuaPlan extends DevicePlan {
  readonly port: number;
  /** Devices on one server are told apart by their node id offset. */
  readonly idOffset: number;
}
export interface Iec104Plan extends DevicePlan {
  readonly port: number;
}
export interface BacnetPlan extends DevicePlan {
  readonly port: number;
  readonly deviceId: number;
}

export interface FleetPlan {
  readonly node: string;
  readonly mqttPort: number;
  /** The cloud simulator's MQTT URL, when the scenario checks the cloud side. */
  readonly cloudUrl?: string;
  readonly modbus?: readonly ModbusPlan[];
  readonly opcua?: readonly OpcuaPlan[];
  readonly iec104?: readonly Iec104Plan[];
  readonly bacnet?: readonly BacnetPlan[];
}

/** Instance folder, model (product) name and driver id per protocol. */
export const PROTOCOLS = {
  modbus: { folder: 'modbus', product: 'mb-counter', template: 'mb-tpl' },
  opcua: { folder: 'opcua', product: 'ua-counter', template: 'ua-tpl' },
  iec104: { folder: 'iec104', product: 'iec-counter', template: 'iec-tpl' },
  bacnet: { folder: 'bacnet', product: 'bac-counter', template: 'bac-tpl' },
} as const;
export type Protocol = keyof typeof PROTOCOLS;

const VISITORS: Record<Protocol, unknown> = {
  modbus: { modbus: { function: 3, address: '0x0000', quantity: 1, type: 'uint16' } },
  opcua: { opcua: { nsBase: 2, idBase: 1, idType: 'i', type: 'int32' } },
  iec104: { iec104: { pointNum: 0, pointType: 'AI', type: 'float32' } },
  bacnet: { bacnet: { objectType: 'integer-value', bacnetAddress: 1 } },
};
const POINT_TYPES: Record<Protocol, string> = { modbus: 'uint16', opcua: 'int32', iec104: 'float32', bacnet: 'int32' };
/** IEC 104 measured values are floats (M_ME_NC_1): the attribute is a float that carries whole numbers. */
const MODEL_TYPES: Record<Protocol, string> = { modbus: 'int32', opcua: 'int32', iec104: 'float64', bacnet: 'int32' };

function accessConfig(p: Protocol, d: DevicePlan): unknown {
  const base = { interval: `${d.interval}ms`, timeout: `${d.timeout}ms` };
  switch (p) {
    case 'modbus': {
      const m = d as ModbusPlan;
      return {
        modbus: {
          id: m.unit,
          ...base,
          // A serial bus is shared: a silent unit costs bus time; no retries keep that cost to one timeout.
          ...(m.serial !== undefined ? { rtu: { port: m.serial, baudrate: 115200, parity: 'N' }, interFrameDelay: '2ms' } : { tcp: { address: '127.0.0.1', port: m.port } }),
        },
      };
    }
    case 'opcua': {
      const o = d as OpcuaPlan;
      return { opcua: { endpoint: `opc.tcp://127.0.0.1:${o.port}`, ...base, subscribe: false, idOffset: o.idOffset } };
    }
    case 'iec104': {
      const i = d as Iec104Plan;
      // General interrogation every 5 s; between them values come spontaneously and polls read what the link holds.
      return { iec104: { endpoint: `127.0.0.1:${i.port}`, ...base, interrogationInterval: '5s' } };
    }
    case 'bacnet': {
      const b = d as BacnetPlan;
      return { bacnet: { deviceId: b.deviceId, address: '127.0.0.1', port: b.port, ...base, retries: 0, interface: '127.0.0.1' } };
    }
  }
}

/** Topic helpers for a device of a protocol. */
export function topics(p: Protocol, device: string): { report: string; lifecycle: string } {
  const product = PROTOCOLS[p].product;
  return { report: `thing/${product}/${device}/property/post`, lifecycle: `thing/${product}/${device}/lifecycle/post` };
}

/** Writes the configuration folder; `cleanup` removes it. */
export function writeFleetConf(plan: FleetPlan): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-faults-'));
  const drivers: string[] = [];
  for (const p of Object.keys(PROTOCOLS) as Protocol[]) {
    const list = plan[p];
    if (list === undefined || list.length === 0) continue;
    const { folder, product, template } = PROTOCOLS[p];
    drivers.push(`  - {name: ${folder}, driver: ${p}}`);
    mkdirSync(path.join(dir, folder));
    // JSON is YAML: the files are written as JSON to keep quoting out of the way.
    writeFileSync(path.join(dir, folder, 'models.yml'), JSON.stringify({ [product]: [{ name: 'seq', type: MODEL_TYPES[p], mode: 'ro' }] }));
    writeFileSync(
      path.join(dir, folder, 'access_template.yml'),
      JSON.stringify({
        [template]: {
          properties: [{ name: 'seq-raw', id: '1', type: POINT_TYPES[p], visitor: VISITORS[p] }],
          mappings: [{ attribute: 'seq', type: 'value', expression: 'x1' }],
        },
      }),
    );
    writeFileSync(
      path.join(dir, folder, 'sub_devices.yml'),
      JSON.stringify({ devices: list.map((d) => ({ name: d.name, deviceModel: product, accessTemplate: template, accessConfig: accessConfig(p, d) })), driver: '' }),
    );
  }
  const cloud = plan.cloudUrl !== undefined ? `cloud: {url: "${plan.cloudUrl}"}\n` : '';
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    `node: ${plan.node}\ndataDir: ./data\nlog: {level: debug}\nembeddedBroker: {host: 127.0.0.1, port: ${plan.mqttPort}}\napi: {port: 0}\n${cloud}drivers:\n${drivers.join('\n')}\n`,
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
