/**
 * The Modbus part of `fieldgate simulate`: {@link startModbusFromConfig}, which simulators/index.ts
 * calls for the Modbus devices of a configuration, and a Modbus-only `simulateCommand` that loads
 * the configuration, serves its Modbus devices (or one), and runs until SIGINT/SIGTERM (or
 * `signal` aborts).
 *
 * RTU devices: when a device's `rtu.port` does not exist, a socat pty pair is made, the gateway's
 * end at the configured path and the simulator's end at `<path>.sim`. Optional generators and
 * faults come from `simulator.yaml` next to gateway.yaml (see simulators/common/sim-file.ts).
 */
import { existsSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import type { DriverLookup } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createPtyPair } from '../common/pty.ts';
import type { PtyPair } from '../common/pty.ts';
import { loadSimFile } from '../common/sim-file.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import type { ModbusFaultsInput } from './faults.ts';
import { startModbusSimulator } from './simulator.ts';
import type { ModbusSimulator } from './simulator.ts';
import type { EndpointInfo } from './endpoints/endpoint.ts';

/** Options of {@link simulateCommand}. */
export interface SimulateOptions {
  /** Folder of gateway.yaml (or the file itself). */
  readonly configDir: string;
  /** Serve only this device. */
  readonly device?: string;
  readonly seed?: number;
  /** Where lines about what is served go (default: stdout). */
  readonly log?: (line: string) => void;
  /** Stops the simulator when aborted (in addition to SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once everything is served (tests use it to connect). */
  readonly onReady?: (sim: ModbusSimulator) => void;
  /** Driver lookup for loading the configuration (default: Modbus, then the gateway's registry). */
  readonly registry?: DriverLookup;
}

/** Modbus from its own module; any other driver id from the gateway's registry, so mixed configurations load. */
function defaultRegistry(): DriverLookup {
  return {
    ids: () => ['modbus'],
    async get(id) {
      if (id === 'modbus') return (await import('../../src/drivers/modbus/index.ts')).descriptor;
      const { createRegistry } = await import('../../src/gateway/drivers/registry.ts');
      return (await createRegistry().get(id)) as Awaited<ReturnType<DriverLookup['get']>>;
    },
  };
}

/** Removes a symlink whose target is gone (a pty pair whose socat was killed). */
function removeDangling(p: string): void {
  try {
    if (lstatSync(p).isSymbolicLink() && !existsSync(p)) unlinkSync(p);
  } catch {
    // no such path
  }
}

/** Makes pty pairs for RTU ports that do not exist; returns the path the simulator opens per port. */
async function preparePorts(devices: readonly CompiledDevice[], ptys: PtyPair[], log: (l: string) => void): Promise<Record<string, string>> {
  const serialPaths: Record<string, string> = {};
  for (const d of devices) {
    const rtu = (d.connection as { rtu?: { port: string } }).rtu;
    if (rtu === undefined || serialPaths[rtu.port] !== undefined) continue;
    const gw = rtu.port;
    const simEnd = `${gw}.sim`;
    removeDangling(gw);
    removeDangling(simEnd);
    if (!existsSync(gw)) {
      mkdirSync(path.dirname(gw), { recursive: true });
      ptys.push(await createPtyPair(gw, simEnd));
      log(`pty pair: gateway end ${gw} <-> simulator end ${simEnd}`);
      serialPaths[gw] = simEnd;
    } else {
      // A pair left by another run, or a real port (e.g. a loopback RS-485 adapter).
      serialPaths[gw] = existsSync(simEnd) && statSync(simEnd).isCharacterDevice() ? simEnd : gw;
    }
  }
  return serialPaths;
}

function describe(e: EndpointInfo): string {
  const units = e.units.map((u, i) => `unit ${u} ${e.devices[i]}`).join(', ');
  return e.kind === 'serial' ? `modbus rtu ${e.path}: ${units}` : `modbus ${e.kind} ${e.host}:${e.port}: ${units}`;
}

/** What {@link startModbusFromConfig} takes: the generators and faults of `simulator.yaml`. */
export interface ModbusConfigOptions {
  readonly seed: number;
  readonly tickMs?: number;
  /** Generators by device name, then by attribute name. */
  readonly generators?: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  /** Faults by device name. */
  readonly faults?: Readonly<Record<string, unknown>>;
  /** The configuration folder: relative replay files and pty paths. */
  readonly baseDir: string;
  readonly log: (line: string) => void;
}

/**
 * Serves compiled Modbus devices as `simulate` does: makes pty pairs for RTU ports that do not
 * exist, starts the simulator, logs warnings and endpoints. `stop` closes the simulator and the
 * pty pairs. On failure everything started is closed before the rejection.
 */
export async function startModbusFromConfig(devices: readonly CompiledDevice[], opts: ModbusConfigOptions): Promise<{ sim: ModbusSimulator; stop(): Promise<void> }> {
  const ptys: PtyPair[] = [];
  const closePtys = async () => {
    for (const p of ptys) await p.close();
  };
  try {
    const serialPaths = await preparePorts(devices, ptys, opts.log);
    const sim = await startModbusSimulator({
      devices,
      seed: opts.seed,
      ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
      generators: opts.generators ?? {},
      faults: (opts.faults ?? {}) as Record<string, ModbusFaultsInput>,
      serialPaths,
      baseDir: opts.baseDir,
    });
    for (const d of sim.devices()) for (const w of d.warnings) opts.log(`warning: ${d.name}: ${w}`);
    for (const e of sim.endpoints) opts.log(describe(e));
    return {
      sim,
      async stop() {
        await sim.stop();
        await closePtys();
      },
    };
  } catch (e) {
    await closePtys();
    throw e;
  }
}

/**
 * Loads the configuration, serves its Modbus devices and resolves after SIGINT/SIGTERM (or
 * `signal`) once everything is closed. Rejects on configuration errors, an unknown `device`, or a
 * port that cannot be bound.
 */
export async function simulateCommand(opts: SimulateOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const loaded = await loadConfig(opts.configDir, opts.registry ?? defaultRegistry());
  if (!loaded.ok) throw new Error(`configuration has errors:\n${formatIssues(loaded.issues)}`);
  const all = loaded.instances.flatMap((i) => i.devices).filter((d) => d.driver === 'modbus');
  const devices = opts.device === undefined ? all : all.filter((d) => d.name === opts.device);
  if (devices.length === 0) {
    throw new Error(opts.device === undefined ? 'no Modbus devices in the configuration' : `no Modbus device "${opts.device}" (have: ${all.map((d) => d.name).join(', ') || 'none'})`);
  }
  const configDir = statSync(opts.configDir).isDirectory() ? opts.configDir : path.dirname(opts.configDir);
  const simFile = await loadSimFile(configDir);
  const generators: Record<string, Record<string, GeneratorSpecInput>> = {};
  const faults: Record<string, ModbusFaultsInput> = {};
  for (const [name, d] of Object.entries(simFile?.config.devices ?? {})) {
    generators[name] = d.generators;
    if (d.faults !== undefined) faults[name] = d.faults as ModbusFaultsInput;
  }

  let served: { sim: ModbusSimulator; stop(): Promise<void> } | undefined;
  try {
    const seed = opts.seed ?? simFile?.config.seed ?? 1;
    served = await startModbusFromConfig(devices, {
      seed,
      ...(simFile?.config.tickMs !== undefined ? { tickMs: simFile.config.tickMs } : {}),
      generators,
      faults,
      baseDir: configDir,
      log,
    });
    const sim = served.sim;
    log(`simulating ${devices.length} Modbus device(s), seed ${seed}; Ctrl-C stops`);
    opts.onReady?.(sim);
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (opts.signal?.aborted) done();
      else opts.signal?.addEventListener('abort', done, { once: true });
    });
  } finally {
    await served?.stop();
  }
}
