/**
 * Child-process entry that runs the fault scenarios' simulators, so that their work (an OPC UA
 * server loading its address space on restart, sixty Modbus servers) does not stall the
 * gateway's event loop in the test process: the devices are other machines, as in the field.
 *
 * It loads the scenario's configuration folder, serves every device with the protocol's own
 * simulator, drives each `seq` attribute with a counter, and takes fault commands over IPC
 * (see {@link HostCommand}); each command is answered once it has taken effect.
 */
import os from 'node:os';
import path from 'node:path';
import { load } from '../../e2e/harness.ts';
import { watchStalls } from './stalls.ts';
import { startModbusSimulator } from '../../../simulators/modbus/simulator.ts';
import type { ModbusSimulator } from '../../../simulators/modbus/simulator.ts';
import type { ModbusFaultsInput } from '../../../simulators/modbus/faults.ts';
import { startIec104Simulator } from '../../../simulators/iec104/index.ts';
import type { Iec104Simulator } from '../../../simulators/iec104/index.ts';
import { pointsFromDevice } from '../../../simulators/iec104/device.ts';
import type { CompiledDevice } from '../../../src/devicemodel/compiled.ts';
import type { OpcuaSimulator } from '../../../simulators/opcua/simulator.ts';
import type { BacnetSimulator } from '../../../simulators/bacnet/index.ts';

/** What the parent asks for at start. */
export interface HostSpec {
  readonly confDir: string;
  /** The counter behind every `seq` attribute moves by one this often (ms). */
  readonly counterEveryMs: number;
  /** Serial paths the simulator opens instead of a device's `rtu.port` (the pty's other end). */
  readonly serialPaths?: Readonly<Record<string, string>>;
  /** Serve only these devices (default: every device of the configuration). */
  readonly only?: readonly string[];
  /** Faults present from the start, by Modbus device name. */
  readonly modbusFaults?: Readonly<Record<string, ModbusFaultsInput>>;
}

/** Commands; every one names a device and acts on the simulator that serves it. */
export type HostCommand =
  | { readonly op: 'modbus.kill' | 'modbus.restart'; readonly device: string }
  | { readonly op: 'modbus.faults'; readonly device: string; readonly faults: ModbusFaultsInput }
  | { readonly op: 'opcua.stop' | 'opcua.start'; readonly device: string }
  | { readonly op: 'iec104.drop'; readonly device: string }
  | { readonly op: 'bacnet.faults'; readonly device: string; readonly stopAnswering: boolean }
  /** The counter's value at the simulator now. */
  | { readonly op: 'value'; readonly device: string }
  /** This process's event-loop stalls so far (see stalls.ts); `device` picks the process. */
  | { readonly op: 'stalls'; readonly device: string };

export type HostMessage =
  | { readonly type: 'ready'; readonly devices: number }
  | { readonly type: 'fatal'; readonly error: string }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

type Request = { readonly type: 'start'; readonly spec: HostSpec } | { readonly type: 'cmd'; readonly id: number; readonly cmd: HostCommand } | { readonly type: 'stop' };

const send = (m: HostMessage): void => {
  process.send?.(m);
};

interface Served {
  modbus: Map<string, ModbusSimulator>;
  opcua: Map<string, OpcuaSimulator>;
  iec104: Map<string, { sim: Iec104Simulator; ioa: number }>;
  bacnet: BacnetSimulator | undefined;
  all: (() => Promise<void>)[];
}

const loop = watchStalls();
const served: Served = { modbus: new Map(), opcua: new Map(), iec104: new Map(), bacnet: undefined, all: [] };

function byDriver(devices: readonly CompiledDevice[], driver: string): CompiledDevice[] {
  return devices.filter((d) => d.driver === driver);
}

/** Groups devices by a key (one simulator per group). */
function groupBy(devices: readonly CompiledDevice[], key: (d: CompiledDevice) => string): CompiledDevice[][] {
  const m = new Map<string, CompiledDevice[]>();
  for (const d of devices) m.set(key(d), [...(m.get(key(d)) ?? []), d]);
  return [...m.values()];
}

async function start(spec: HostSpec): Promise<number> {
  const { instances } = await load(spec.confDir);
  const devices = instances.flatMap((i) => i.devices).filter((d) => spec.only === undefined || spec.only.includes(d.name));
  const counter = { kind: 'counter' as const, start: 0, increment: 1, every: spec.counterEveryMs };
  const gens = (list: readonly CompiledDevice[]) => Object.fromEntries(list.map((d) => [d.name, { seq: counter }]));
  const tickMs = spec.counterEveryMs;

  // Modbus: one simulator per TCP port (so one can die alone), one per serial bus.
  const conn = (d: CompiledDevice) => d.connection as { tcp?: { port: number }; rtu?: { port: string } };
  for (const group of groupBy(byDriver(devices, 'modbus'), (d) => (conn(d).tcp ? `tcp:${conn(d).tcp!.port}` : `rtu:${conn(d).rtu!.port}`))) {
    const faults = Object.fromEntries(group.filter((d) => spec.modbusFaults?.[d.name]).map((d) => [d.name, spec.modbusFaults![d.name]!]));
    const sim = await startModbusSimulator({ devices: group, tickMs, generators: gens(group), faults, ...(spec.serialPaths ? { serialPaths: spec.serialPaths } : {}) });
    for (const d of group) served.modbus.set(d.name, sim);
    served.all.push(() => sim.stop());
  }

  // OPC UA: one server per endpoint port; node-opcua loads only when there is one.
  const ua = byDriver(devices, 'opcua');
  if (ua.length > 0) {
    const { startOpcuaSimulator } = await import('../../../simulators/opcua/simulator.ts');
    for (const group of groupBy(ua, (d) => (d.connection as unknown as { endpoint: string }).endpoint)) {
      const port = Number(/:(\d+)$/.exec((group[0]!.connection as unknown as { endpoint: string }).endpoint)![1]);
      // One PKI folder for every server and run: the server certificate is made once (seconds of
      // RSA key generation), not per server.
      const pkiDir = path.join(os.tmpdir(), 'fieldgate-faults-opcua-pki');
      const sim = await startOpcuaSimulator({ devices: group, port, tickMs, generators: gens(group), securityModes: ['None'], pkiDir });
      for (const d of group) served.opcua.set(d.name, sim);
      served.all.push(() => sim.stop());
    }
  }

  // IEC 104: one station per device (its own endpoint).
  for (const d of byDriver(devices, 'iec104')) {
    const { points } = pointsFromDevice(d, { seed: 1, generators: { seq: counter }, tickMs });
    const port = (d.connection as unknown as { endpoint: { port: number } }).endpoint.port;
    const sim = await startIec104Simulator({ port, points, commonAddress: 1 });
    served.iec104.set(d.name, { sim, ioa: points[0]!.ioa });
    served.all.push(() => sim.stop());
  }

  // BACnet: every device on its own UDP port, one simulator.
  const bac = byDriver(devices, 'bacnet');
  if (bac.length > 0) {
    const { startBacnetSimulator } = await import('../../../simulators/bacnet/index.ts');
    const sim = await startBacnetSimulator({ devices: bac, tickMs, generators: gens(bac) });
    served.bacnet = sim;
    served.all.push(() => sim.stop());
  }
  return devices.length;
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`no simulator serves ${what}`);
  return v;
}

async function run(cmd: HostCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'modbus.kill':
      return need(served.modbus.get(cmd.device), cmd.device).kill();
    case 'modbus.restart':
      return need(served.modbus.get(cmd.device), cmd.device).restart();
    case 'modbus.faults':
      return need(served.modbus.get(cmd.device), cmd.device).device(cmd.device).setFaults(cmd.faults);
    case 'opcua.stop':
      return need(served.opcua.get(cmd.device), cmd.device).stop();
    case 'opcua.start':
      return need(served.opcua.get(cmd.device), cmd.device).start();
    case 'iec104.drop':
      return need(served.iec104.get(cmd.device), cmd.device).sim.faults.dropConnections();
    case 'bacnet.faults':
      return need(served.bacnet, cmd.device).device(cmd.device).setFaults({ stopAnswering: cmd.stopAnswering });
    case 'stalls':
      return loop.stalls;
    case 'value': {
      const mb = served.modbus.get(cmd.device);
      if (mb) return mb.device(cmd.device).get('seq');
      const ua = served.opcua.get(cmd.device);
      if (ua) return ua.device(cmd.device).variable('seq-raw').value;
      const iec = served.iec104.get(cmd.device);
      if (iec) return iec.sim.getValue(iec.ioa);
      return need(served.bacnet, cmd.device).device(cmd.device).object('seq-raw').presentValue().value;
    }
  }
}

async function stopAll(): Promise<void> {
  await Promise.allSettled(served.all.map((s) => s()));
}

process.on('message', (raw: Request) => {
  if (raw.type === 'start') {
    start(raw.spec).then(
      (n) => send({ type: 'ready', devices: n }),
      (e: unknown) => send({ type: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  } else if (raw.type === 'cmd') {
    run(raw.cmd).then(
      (result) => send({ type: 'reply', id: raw.id, ok: true, result: typeof result === 'bigint' ? Number(result) : (result ?? null) }),
      (e: unknown) => send({ type: 'reply', id: raw.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  } else if (raw.type === 'stop') {
    void stopAll().then(() => process.exit(0));
  }
});
// The parent went away (crashed or killed): do not linger.
process.on('disconnect', () => {
  void stopAll().then(() => process.exit(0));
});
