/**
 * `fieldgate simulate` (and the simulator half of `fieldgate demo`): loads the configuration the
 * gateway would run and serves every device whose driver has a simulator, from a table of
 * driver id → starter. Each starter gets that driver's compiled devices and the settings of
 * `simulator.yaml` (seed, tickMs, generators and faults by device) and loads its simulator lazily,
 * so a configuration without IEC 104 devices never loads the IEC 104 station.
 *
 * Devices of drivers without a simulator are listed in the log and left alone.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { CompiledDevice } from '../src/devicemodel/compiled.ts';
import { loadConfig } from '../src/gateway/config/load.ts';
import type { DriverLookup } from '../src/gateway/config/load.ts';
import { formatIssues } from '../src/gateway/config/issues.ts';
import { createRegistry } from '../src/gateway/drivers/registry.ts';
import type { GeneratorSpecInput } from './common/generators.ts';
import { loadSimFile } from './common/sim-file.ts';
import type { ModbusSimulator } from './modbus/simulator.ts';
import type { Iec104Stations } from './iec104/cli.ts';
import type { OpcuaServers } from './opcua/cli.ts';
import type { BacnetSimulator } from './bacnet/index.ts';
import type { KvSimulator } from '../examples/driver-plugin/simulator/kv-simulator.ts';
import type { CameraSimulator } from './ipc/index.ts';

/** True when `/usr/bin/<name>` or `/usr/sbin/<name>` exists (Debian's places for the tools). */
function onPath(name: string): boolean {
  return ['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => {
    try {
      return statSync(path.join(d, name)).isFile();
    } catch {
      return false;
    }
  });
}

/** What every starter gets besides its devices. */
export interface SimulatorContext {
  readonly seed: number;
  /** simulator.yaml `tickMs`, when set. */
  readonly tickMs?: number;
  /** Generators by device name, then by attribute (or point) name. */
  readonly generators: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  /** Faults by device name, unvalidated: each simulator checks its own. */
  readonly faults: Readonly<Record<string, unknown>>;
  /** The configuration folder (relative replay files, pty paths). */
  readonly baseDir: string;
  readonly log: (line: string) => void;
}

/** The handle each driver's simulator gives back, by driver id. */
export interface SimulatorHandles {
  modbus: ModbusSimulator;
  iec104: Iec104Stations;
  opcua: OpcuaServers;
  bacnet: BacnetSimulator;
  /** The example plugin's KV/1 instruments, one per port. */
  kv: readonly KvSimulator[];
  /** ONVIF cameras (with an RTSP stream when ffmpeg and rtsp-server-perl are installed). */
  ipc: readonly CameraSimulator[];
}

/** Starts the simulator of one driver for its devices; logs what it serves. */
export type SimulatorStarter<H> = (devices: readonly CompiledDevice[], ctx: SimulatorContext) => Promise<{ readonly handle: H; stop(): Promise<void> }>;

/** Every protocol that has a simulator. */
export const SIMULATORS: { readonly [K in keyof SimulatorHandles]: SimulatorStarter<SimulatorHandles[K]> } = {
  modbus: async (devices, ctx) => {
    const { startModbusFromConfig } = await import('./modbus/cli.ts');
    const served = await startModbusFromConfig(devices, ctx);
    return { handle: served.sim, stop: () => served.stop() };
  },
  iec104: async (devices, ctx) => {
    const { startIec104Stations, describeStation } = await import('./iec104/cli.ts');
    const stations = await startIec104Stations(devices, ctx);
    for (const w of stations.warnings) ctx.log(`warning: ${w}`);
    for (const s of stations.stations) ctx.log(describeStation(s));
    return { handle: stations, stop: () => stations.stop() };
  },
  // One server per endpoint port (accessConfig.opcua.endpoint); node-opcua loads only here.
  opcua: async (devices, ctx) => {
    const { startOpcuaFromConfig } = await import('./opcua/cli.ts');
    const servers = await startOpcuaFromConfig(devices, ctx);
    return { handle: servers, stop: () => servers.stop() };
  },
  bacnet: async (devices, ctx) => {
    // Each device on its accessConfig.bacnet.port of 127.0.0.1 (devices need distinct ports).
    const { startBacnetSimulator } = await import('./bacnet/index.ts');
    const faults: Record<string, Record<string, boolean>> = {};
    for (const d of devices) {
      const f = ctx.faults[d.name];
      if (f === null || typeof f !== 'object') continue;
      const known = Object.entries(f).filter(([k, v]) => ['stopAnswering', 'rejectRpm', 'rejectCov'].includes(k) && typeof v === 'boolean');
      for (const [k] of Object.entries(f).filter(([k]) => !known.some(([n]) => n === k))) ctx.log(`warning: ${d.name}: unknown BACnet fault "${k}" (stopAnswering, rejectRpm, rejectCov: true/false)`);
      faults[d.name] = Object.fromEntries(known) as Record<string, boolean>;
    }
    const sim = await startBacnetSimulator({
      devices,
      host: '127.0.0.1',
      seed: ctx.seed,
      ...(ctx.tickMs !== undefined ? { tickMs: ctx.tickMs } : {}),
      generators: ctx.generators,
      faults,
      baseDir: ctx.baseDir,
    });
    for (const d of sim.devices()) ctx.log(`bacnet ${d.address} device ${d.deviceId}: ${d.name} (${d.objects().length} objects)`);
    return { handle: sim, stop: () => sim.stop() };
  },
  // ONVIF cameras on accessConfig.ipc ip:port (loopback only), the RTSP stream from ffmpeg and
  // rtsp-server-perl (Debian packages).
  // Without ffmpeg (snapshots and stream) no camera is simulated; without rtsp-server-perl the
  // cameras serve ONVIF and snapshots but no stream. Either way the rest of the demo runs.
  ipc: async (devices, ctx) => {
    if (!onPath('ffmpeg')) {
      ctx.log(`warning: cameras ${devices.map((d) => d.name).join(', ')} not simulated: ffmpeg is not installed (apt-get install ffmpeg rtsp-server-perl)`);
      return { handle: [], stop: () => Promise.resolve() };
    }
    let camCtx = ctx;
    if (!onPath('rtsp-server-perl')) {
      ctx.log('warning: cameras simulated without an RTSP stream: rtsp-server-perl is not installed (apt-get install rtsp-server-perl)');
      camCtx = { ...ctx, faults: { ...ctx.faults, ...Object.fromEntries(devices.map((d) => [d.name, { ...(ctx.faults[d.name] as object | undefined), stream: false }])) } };
    }
    const { startCamerasFromConfig } = await import('./ipc/index.ts');
    const served = await startCamerasFromConfig(devices, camCtx);
    return { handle: served.cameras, stop: () => served.stop() };
  },
  // The example plugin (examples/driver-plugin): one KV/1 instrument per accessConfig.kv port on
  // 127.0.0.1, its keys those of the device's points, values from simulator.yaml generators by
  // attribute (read-only floats default to a slow sine, so reports move).
  kv: async (devices, ctx) => {
    const { startKvSimulator } = await import('../examples/driver-plugin/simulator/kv-simulator.ts');
    const { createGenerator } = await import('./common/generators.ts');
    const text = (v: number | boolean | string): string => (typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'number' ? String(Math.round(v * 100) / 100) : v);
    const byPort = new Map<number, { names: string[]; keys: Record<string, { value: string; writable: boolean }>; gens: [string, (t: number) => number | boolean | string][] }>();
    for (const d of devices) {
      const port = Number(d.connection['port']);
      const e = byPort.get(port) ?? { names: [], keys: {}, gens: [] };
      byPort.set(port, e);
      e.names.push(d.name);
      for (const [i, p] of d.points.entries()) {
        const key = (p.address as { key: string }).key;
        const m = d.mappings.find((x) => x.kind === 'value' && x.pointIds[0] === p.id);
        const attr = m === undefined ? undefined : d.model.get(m.attribute);
        const spec = (m && ctx.generators[d.name]?.[m.attribute]) ?? ctx.generators[d.name]?.[p.name] ?? (p.type.startsWith('float') && attr?.mode !== 'rw' ? { kind: 'sine' as const, amplitude: 2, offset: 20 + 20 * i, period: '1m' } : undefined);
        e.keys[key] = { value: p.type === 'string' ? `KV-${d.name}` : '0', writable: attr?.mode === 'rw' };
        if (spec !== undefined) e.gens.push([key, createGenerator(spec, ctx.seed, { baseDir: ctx.baseDir })]);
      }
    }
    const sims: KvSimulator[] = [];
    const t0 = Date.now();
    const timer = setInterval(() => {
      for (const [i, e] of [...byPort.values()].entries()) for (const [key, g] of e.gens) sims[i]?.set(key, text(g(Date.now() - t0)));
    }, ctx.tickMs ?? 1000);
    try {
      for (const [port, e] of byPort) {
        const sim = await startKvSimulator({ host: '127.0.0.1', port, keys: e.keys });
        sims.push(sim);
        for (const [key, g] of e.gens) sim.set(key, text(g(0)));
        ctx.log(`kv ${sim.host}:${sim.port}: ${e.names.join(', ')} (${Object.keys(e.keys).length} keys)`);
      }
    } catch (err) {
      clearInterval(timer);
      for (const sim of sims) await sim.close();
      throw err;
    }
    return {
      handle: sims,
      stop: async () => {
        clearInterval(timer);
        for (const sim of sims) await sim.close();
      },
    };
  },
};

/** The running simulators, by driver id. */
export type RunningSimulators = { readonly [K in keyof SimulatorHandles]?: SimulatorHandles[K] };

/** Options of {@link simulateCommand}. */
export interface SimulateOptions {
  /** Folder of gateway.yaml (or the file itself). */
  readonly configDir: string;
  /** Serve only this device. */
  readonly device?: string;
  /** Seed of the generators (default: simulator.yaml, else 1). */
  readonly seed?: number;
  /** Where lines about what is served go (default: stdout). */
  readonly log?: (line: string) => void;
  /** Stops the simulators when aborted (in addition to SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once everything is served (tests use it to connect). */
  readonly onReady?: (sims: RunningSimulators) => void;
  /** Driver lookup for loading the configuration (default: the gateway's registry). */
  readonly registry?: DriverLookup;
}

const hasSimulator = (id: string): id is keyof SimulatorHandles => Object.hasOwn(SIMULATORS, id);

/**
 * Loads the configuration, serves every device that has a simulator (or only `device`) and
 * resolves after SIGINT/SIGTERM (or `signal`) once everything is closed. Rejects on
 * configuration errors, an unknown `device` or one without a simulator, a configuration with
 * nothing to simulate, or a port that cannot be bound (stopping what had started).
 */
export async function simulateCommand(opts: SimulateOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const loaded = await loadConfig(opts.configDir, opts.registry ?? createRegistry());
  if (!loaded.ok) throw new Error(`configuration has errors:\n${formatIssues(loaded.issues)}`);
  const all = loaded.instances.flatMap((i) => i.devices);
  const chosen = opts.device === undefined ? all : all.filter((d) => d.name === opts.device);
  if (opts.device !== undefined && chosen.length === 0) throw new Error(`no device "${opts.device}" (have: ${all.map((d) => d.name).join(', ') || 'none'})`);
  const byDriver = new Map<keyof SimulatorHandles, CompiledDevice[]>();
  const without: CompiledDevice[] = [];
  for (const d of chosen) {
    if (!hasSimulator(d.driver)) {
      without.push(d);
      continue;
    }
    byDriver.set(d.driver, [...(byDriver.get(d.driver) ?? []), d]);
  }
  const known = Object.keys(SIMULATORS).join(', ');
  if (byDriver.size === 0) {
    throw new Error(
      opts.device !== undefined
        ? `device "${opts.device}" uses driver ${chosen[0]!.driver}, which has no simulator (simulators: ${known})`
        : `no device in the configuration has a simulator (simulators: ${known})`,
    );
  }
  for (const d of without) log(`not simulated: ${d.name} (driver ${d.driver} has no simulator)`);

  const configDir = statSync(opts.configDir).isDirectory() ? opts.configDir : path.dirname(opts.configDir);
  const simFile = await loadSimFile(configDir);
  const generators: Record<string, Record<string, GeneratorSpecInput>> = {};
  const faults: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(simFile?.config.devices ?? {})) {
    generators[name] = d.generators;
    if (d.faults !== undefined) faults[name] = d.faults;
  }
  const seed = opts.seed ?? simFile?.config.seed ?? 1;
  const ctx: SimulatorContext = { seed, ...(simFile?.config.tickMs !== undefined ? { tickMs: simFile.config.tickMs } : {}), generators, faults, baseDir: configDir, log };

  const stops: (() => Promise<void>)[] = [];
  const running: { -readonly [K in keyof SimulatorHandles]?: SimulatorHandles[K] } = {};
  try {
    for (const [driver, devices] of byDriver) {
      const started = await start(driver, devices, ctx, running);
      stops.push(started);
    }
    const counts = [...byDriver].map(([driver, devices]) => `${devices.length} ${driver}`).join(', ');
    log(`simulating ${counts} device(s), seed ${seed}; Ctrl-C stops`);
    opts.onReady?.(running);
    await untilStopped(opts.signal);
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log(`stopping a simulator failed: ${String(e)}`));
  }
}

/** Starts one driver's simulator and records its handle; returns its stop function. */
async function start<K extends keyof SimulatorHandles>(
  driver: K,
  devices: readonly CompiledDevice[],
  ctx: SimulatorContext,
  running: { -readonly [P in keyof SimulatorHandles]?: SimulatorHandles[P] },
): Promise<() => Promise<void>> {
  const starter = SIMULATORS[driver] as SimulatorStarter<SimulatorHandles[K]>;
  const s = await starter(devices, ctx);
  running[driver] = s.handle;
  return () => s.stop();
}

/** Resolves on SIGINT, SIGTERM or `signal`'s abort, whichever comes first. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}
