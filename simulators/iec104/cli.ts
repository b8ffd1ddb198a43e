/**
 * IEC 104 stations for the compiled devices of a configuration (what `fieldgate simulate` and
 * `fieldgate demo` serve): one controlled station per distinct `accessConfig.iec104.endpoint`,
 * serving the points of every device on it, values from `simulator.yaml`'s generators, link
 * parameters and field sizes from the devices' access config, faults from `simulator.yaml`.
 *
 * ```yaml
 * devices:
 *   feeder-01:
 *     generators:
 *       current-a: { kind: randomWalk, start: 180, step: 5, min: 120, max: 260 }
 *     faults: { delay: 50ms }
 * ```
 */
import { z } from 'zod';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import type { Iec104Connection } from '../../src/drivers/iec104/address.ts';
import { duration } from '../../src/drivers/sdk/schema.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import { pointsFromDevice } from './device.ts';
import { startIec104Simulator } from './index.ts';
import type { Iec104Simulator, SimPointSpec } from './index.ts';

/** `faults:` of an IEC 104 device in `simulator.yaml`. */
export const iec104FaultsSchema = z.strictObject({
  /** Response delay: every frame the station sends waits this long. */
  delay: duration().default(0),
});
export type Iec104FaultsInput = z.input<typeof iec104FaultsSchema>;

/** Options of {@link startIec104Stations}. */
export interface Iec104StationsOptions {
  readonly seed: number;
  /** Longest generator period in ms (simulator.yaml `tickMs`; default 1000). */
  readonly tickMs?: number;
  /** Generators by device name, then by attribute name (or point name/id). */
  readonly generators?: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  /** Faults by device name (validated with {@link iec104FaultsSchema}). */
  readonly faults?: Readonly<Record<string, unknown>>;
  /** Folder for relative replay files. */
  readonly baseDir?: string;
}

/** One running station and the devices it serves. */
export interface Iec104Station {
  /** `host:port` as configured. */
  readonly endpoint: string;
  readonly devices: readonly string[];
  readonly commonAddress: number;
  /** Points served. */
  readonly points: number;
  readonly sim: Iec104Simulator;
}

/** Running stations; see {@link startIec104Stations}. */
export interface Iec104Stations {
  readonly stations: readonly Iec104Station[];
  /** Generators or points that could not be used, one line each. */
  readonly warnings: readonly string[];
  /** The station serving device `name`. */
  station(name: string): Iec104Station | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one station per distinct endpoint of `devices` (driver `iec104`). Devices that share an
 * endpoint share the station, which answers with the first device's common address; an IOA used
 * by two devices is served once (first device wins) and reported in `warnings`. Rejects (after
 * stopping what started) when a port cannot be bound or `faults` are invalid.
 */
export async function startIec104Stations(devices: readonly CompiledDevice[], opts: Iec104StationsOptions): Promise<Iec104Stations> {
  const warnings: string[] = [];
  const groups = new Map<string, { conn: Iec104Connection; devices: CompiledDevice[] }>();
  for (const d of devices) {
    if (d.driver !== 'iec104') throw new Error(`${d.name}: driver ${d.driver} is not iec104`);
    const conn = d.connection as unknown as Iec104Connection;
    const key = `${conn.endpoint.host}:${conn.endpoint.port}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { conn, devices: [d] });
    else g.devices.push(d);
  }
  const t0 = Date.now();
  const stations: Iec104Station[] = [];
  try {
    for (const [endpoint, g] of groups) {
      const points = new Map<number, SimPointSpec>();
      let delayMs = 0;
      for (const d of g.devices) {
        const conn = d.connection as unknown as Iec104Connection;
        if (conn.commonAddress !== g.conn.commonAddress) warnings.push(`${d.name}: common address ${conn.commonAddress} differs from ${g.conn.commonAddress} of ${g.devices[0]!.name} on ${endpoint}; the station answers ${g.conn.commonAddress} only`);
        const r = pointsFromDevice(d, {
          seed: opts.seed,
          t0,
          ...(opts.generators?.[d.name] !== undefined ? { generators: opts.generators[d.name] } : {}),
          ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
          ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
        });
        for (const w of r.warnings) warnings.push(`${d.name}: ${w}`);
        for (const p of r.points) {
          if (points.has(p.ioa)) warnings.push(`${d.name}: IOA ${p.ioa} is already served on ${endpoint}; this point is not`);
          else points.set(p.ioa, p);
        }
        const f = opts.faults?.[d.name];
        if (f !== undefined) {
          const parsed = iec104FaultsSchema.safeParse(f);
          if (!parsed.success) throw new Error(`simulator.yaml devices.${d.name}.faults: ${z.prettifyError(parsed.error)}`);
          delayMs = Math.max(delayMs, parsed.data.delay);
        }
      }
      const c = g.conn;
      const sim = await startIec104Simulator({
        host: c.endpoint.host,
        port: c.endpoint.port,
        commonAddress: c.commonAddress,
        points: [...points.values()],
        link: { k: c.k, w: c.w, t1: c.t1, t2: c.t2, t3: c.t3 },
        params: { cotSize: c.cotSize, caSize: c.caSize, ioaSize: c.ioaSize },
        delayMs,
      });
      stations.push({ endpoint, devices: g.devices.map((d) => d.name), commonAddress: c.commonAddress, points: points.size, sim });
    }
  } catch (e) {
    await Promise.allSettled(stations.map((s) => s.sim.stop()));
    throw e;
  }
  return {
    stations,
    warnings,
    station: (name) => stations.find((s) => s.devices.includes(name)),
    async stop() {
      await Promise.allSettled(stations.map((s) => s.sim.stop()));
    },
  };
}

/** One line per station: `iec104 127.0.0.1:15404 CA 1: feeder-01 (12 points)`. */
export function describeStation(s: Iec104Station): string {
  return `iec104 ${s.endpoint} CA ${s.commonAddress}: ${s.devices.join(', ')} (${s.points} points)`;
}
