/**
 * The BACnet/IP device simulator: serves compiled devices (the gateway's own model + template),
 * each on its own UDP port of 127.0.0.1 (port 0 = a free one), so several devices, gateways and
 * simulators run side by side on one host. See device.ts for what a device answers.
 */
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import { MAX_APDU_IP, SEGMENTATION } from '../../src/drivers/bacnet/constants.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import { BacnetSimDevice } from './device.ts';
import type { BacnetFaults } from './device.ts';

export { BacnetSimDevice } from './device.ts';
export type { BacnetFaults, CovSub, ReceivedWrite } from './device.ts';

/** Options of {@link startBacnetSimulator}. */
export interface BacnetSimulatorOptions {
  /** BACnet devices to serve (driver `bacnet`). */
  readonly devices: readonly CompiledDevice[];
  /** Bind address (loopback only in tests); default 127.0.0.1. */
  readonly host?: string;
  /** UDP port for every device instead of its `accessConfig.bacnet.port`; 0 = a free port each. */
  readonly port?: number;
  /** Device instance instead of `accessConfig.bacnet.deviceId` (only with one device). */
  readonly deviceId?: number;
  /** max-apdu-length-accepted of every device (default 1476). */
  readonly maxApdu?: number;
  /** segmentation-supported (default no-segmentation, 3). */
  readonly segmentation?: number;
  readonly seed?: number;
  /** Generator period in ms (default 1000); 0 = only `tick()` moves values. */
  readonly tickMs?: number;
  /** Generators by device name, then attribute (or point name/id). */
  readonly generators?: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  /** Initial faults by device name. */
  readonly faults?: Readonly<Record<string, Partial<BacnetFaults>>>;
  readonly baseDir?: string;
}

/** A running simulator. */
export interface BacnetSimulator {
  /** The simulated device `name`. */
  device(name: string): BacnetSimDevice;
  devices(): BacnetSimDevice[];
  /** Moves every device to its generators' values at `tMs` (default: ms since start). */
  tick(tMs?: number): void;
  /** Starts again after `stop`, on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts serving `opts.devices`; rejects when a port cannot be bound. */
export async function startBacnetSimulator(opts: BacnetSimulatorOptions): Promise<BacnetSimulator> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.deviceId !== undefined && opts.devices.length !== 1) throw new Error('deviceId overrides the instance of one device only');
  const list: BacnetSimDevice[] = [];
  for (const d of opts.devices) {
    if (d.driver !== 'bacnet') throw new Error(`${d.name}: driver ${d.driver} is not bacnet`);
    const c = d.connection as { deviceId?: number; port?: number };
    list.push(
      new BacnetSimDevice(d, {
        host,
        port: opts.port ?? c.port ?? 0,
        deviceId: opts.deviceId ?? c.deviceId ?? 1,
        maxApdu: opts.maxApdu ?? MAX_APDU_IP,
        segmentation: opts.segmentation ?? SEGMENTATION.NONE,
        seed: opts.seed ?? 1,
        ...(opts.generators?.[d.name] !== undefined ? { generators: opts.generators[d.name] } : {}),
        ...(opts.faults?.[d.name] !== undefined ? { faults: opts.faults[d.name] } : {}),
        ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
      }),
    );
  }
  const byName = new Map(list.map((d) => [d.name, d]));
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const tickMs = opts.tickMs ?? 1000;
  const start = async () => {
    try {
      for (const d of list) await d.start();
    } catch (e) {
      await Promise.all(list.map((d) => d.stop()));
      throw e;
    }
    if (tickMs > 0) {
      timer = setInterval(() => sim.tick(), tickMs);
      timer.unref();
    }
  };
  const sim: BacnetSimulator = {
    device(name) {
      const d = byName.get(name);
      if (d === undefined) throw new Error(`no simulated device "${name}" (have: ${[...byName.keys()].join(', ')})`);
      return d;
    },
    devices: () => [...list],
    tick(tMs = Date.now() - t0) {
      for (const d of list) d.tick(tMs);
    },
    async restart() {
      await sim.stop();
      await start();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await Promise.all(list.map((d) => d.stop()));
    },
  };
  await start();
  return sim;
}
