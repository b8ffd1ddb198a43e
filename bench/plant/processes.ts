/**
 * Starting the plant's processes: mosquitto, the cloud simulator, one simulator child per
 * protocol (the single-protocol benches' children, unchanged), the cameras, the gateway and the
 * subscriber. Every process is registered with bench/lib/proc.ts, so that `killAll` ends it.
 */
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { Child, freePort, startMosquitto } from '../lib/proc.ts';
import type { PlantConf, PlantPorts } from './conf.ts';
import { MODBUS_PER_ENDPOINT, NAMING, OPCUA_SERVERS } from './conf.ts';
import type { Protocol } from './options.ts';
import { SHAPE, TITLE } from './options.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = (rel: string) => path.join(ROOT, 'bench', rel);

/** Whether `port` of 127.0.0.1 can be bound now (TCP or UDP). */
function bindable(port: number, udp: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      return;
    }
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A port of 127.0.0.1 that is free now, below the kernel's ephemeral range: the simulators bind
 * their ports only after loading for seconds, and a port from the ephemeral range (what port 0
 * gives) may meanwhile become the local end of some other process's outgoing connection.
 */
async function simPort(udp: boolean, taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || !(await bindable(port, udp))) continue;
    taken.add(port);
    return port;
  }
  return udp ? await freeUdpPort() : await freePort();
}

/** A UDP port of 127.0.0.1 that is free now (from the ephemeral range). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const many = async (n: number, f: () => Promise<number>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
};

/** Free ports for every simulator but the cameras (which pick their own). */
export async function simulatorPorts(counts: Readonly<Record<Protocol, number>>): Promise<Omit<PlantPorts, 'cameras'>> {
  const taken = new Set<number>();
  const tcp = () => simPort(false, taken);
  return {
    modbus: await many(Math.ceil(counts.modbus / MODBUS_PER_ENDPOINT), tcp),
    opcua: await many(Math.min(OPCUA_SERVERS, counts.opcua), tcp),
    bacnet: await many(counts.bacnet, () => simPort(true, taken)),
    iec104: await many(counts.iec104, tcp),
  };
}

/**
 * Why the cameras cannot run, or undefined when they can: their driver and simulator are being
 * written alongside this bench, and the driver must be registered as a built-in.
 */
export function camerasMissing(): string | undefined {
  const files = ['simulators/ipc/index.ts', 'src/drivers/ipc/index.ts'].filter((f) => !existsSync(path.join(ROOT, f)));
  if (files.length > 0) return `cameras skipped: ${files.join(' and ')} not found`;
  if (!createRegistry().ids().includes('ipc')) return 'cameras skipped: the `ipc` driver is not registered in src/gateway/drivers/registry.ts';
  return undefined;
}

/** mosquitto on a free port, its $SYS counters updated every second. */
export async function startBroker(logs: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = await startMosquitto(port, path.join(logs, 'mosquitto.conf'), path.join(logs, 'mosquitto.log'), ['sys_interval 1']);
  return { proc, url: `mqtt://127.0.0.1:${port}` };
}

export async function startCloud(logs: string): Promise<{ child: Child; url: string }> {
  const { child, ready } = await Child.start('cloud', script('plant/cloud-child.ts'), [], { log: path.join(logs, 'cloud.log') });
  return { child, url: String(ready.url) };
}

export async function startCameras(n: number, logs: string): Promise<{ child: Child; ports: number[] }> {
  const { child, ready } = await Child.start('cameras', script('plant/camera-child.ts'), [String(n)], { log: path.join(logs, 'cameras.log') });
  return { child, ports: (ready.ports as number[]).map(Number) };
}

/** Starts the simulator child of every protocol present except the cameras, all at once. */
export async function startSimulators(conf: PlantConf, iec104Rate: number, logs: string): Promise<Partial<Record<Protocol, Child>>> {
  const specs: [Protocol, string, string[]][] = [];
  const p = conf.parts;
  if (p.modbus !== undefined) specs.push(['modbus', 'lib/sim-child.ts', [p.modbus, String(SHAPE.modbusIntervalMs), 'float32']]);
  if (p.opcua !== undefined) specs.push(['opcua', 'opcua/sim-child.ts', [p.opcua, String(SHAPE.opcuaMs)]]);
  if (p.bacnet !== undefined) specs.push(['bacnet', 'bacnet/sim-child.ts', [p.bacnet, 'poll', String(SHAPE.bacnetIntervalMs)]]);
  // Ticks of 20 ms: the gateway gathers pushed values for 20 ms into one report anyway.
  if (p.iec104 !== undefined) specs.push(['iec104', 'iec104/sim-child.ts', [p.iec104, String(iec104Rate), '20']]);
  const started = await Promise.all(
    specs.map(async ([proto, file, args]) => {
      const t0 = performance.now();
      const { child } = await Child.start(`${TITLE[proto]} simulators`, script(file), args, { log: path.join(logs, `sim-${proto}.log`) });
      process.stderr.write(`[plant] ${TITLE[proto]} simulators ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      return [proto, child] as const;
    }),
  );
  return Object.fromEntries(started);
}

/** The gateway; with `profileFile`, its `profileStart`/`profileStop` requests write a CPU profile there. */
export async function startGatewayChild(conf: PlantConf, logs: string, profileFile?: string): Promise<{ child: Child; ready: Record<string, unknown> }> {
  return Child.start('gateway', script('lib/gateway-child.ts'), profileFile === undefined ? [conf.root] : [conf.root, profileFile], { log: path.join(logs, 'gateway.log') });
}

export async function startSubscriber(brokerUrl: string, protocols: readonly Protocol[], logs: string): Promise<Child> {
  const spec = Object.fromEntries(protocols.map((p) => [NAMING[p].prefix, { name: p, latency: NAMING[p].latency }]));
  const { child } = await Child.start('subscriber', script('plant/subscriber-child.ts'), [brokerUrl, JSON.stringify(spec)], { log: path.join(logs, 'subscriber.log') });
  return child;
}
