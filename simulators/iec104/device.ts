/**
 * The point table of one compiled IEC 104 device (the gateway's own model + template + access
 * config), with values driven by the common generators of `simulator.yaml`.
 *
 * As in the Modbus simulator, generators produce *attribute* values: the attribute's mapping is
 * inverted to the point it reads, so the gateway reads the generator's value back through its
 * own mapping. A generator key that names no mapped attribute may name a point (`name` or `id`).
 * Attributes without a configured generator get the default of their model type; writable ones
 * (AO/DO setpoints and commands) only take its first value, since a setpoint that wanders by itself
 * is not what a station does. Spontaneous data goes out with the time-tagged twin of the point's
 * type (CP56Time2a), interrogation answers with the plain type.
 */
import type { CompiledDevice, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { AttributeValue, PointValue } from '../../src/devicemodel/types.ts';
import { invertMapping } from '../../src/devicemodel/mapping.ts';
import { coerceToModel } from '../../src/devicemodel/coerce.ts';
import { resolveIoa } from '../../src/drivers/iec104/address.ts';
import type { Iec104Address, Iec104Connection } from '../../src/drivers/iec104/address.ts';
import { MONITOR_TYPES, TypeId } from '../../src/drivers/iec104/codec/types.ts';
import type { Family } from '../../src/drivers/iec104/codec/types.ts';
import { createGenerator, generatorSpecSchema } from '../common/generators.ts';
import type { GeneratedValue, GeneratorSpec, GeneratorSpecInput } from '../common/generators.ts';
import { defaultGeneratorSpec } from '../common/defaults.ts';
import { deriveSeed } from '../common/prng.ts';
import { TAGGED } from './points.ts';
import type { SimPointSpec, SimValue } from './points.ts';

/** Options of {@link pointsFromDevice}. */
export interface DevicePointsOptions {
  /** Seed of the random generators (mixed with the device and attribute names). */
  readonly seed: number;
  /** Generators by attribute name (or point name/id), as in `simulator.yaml`. */
  readonly generators?: Readonly<Record<string, GeneratorSpecInput>>;
  /** Longest period between generator evaluations in ms (default 1000). */
  readonly tickMs?: number;
  /** Epoch ms the generators' time starts at (default: now). */
  readonly t0?: number;
  /** Send spontaneous data with time tags (default true). */
  readonly timeTags?: boolean;
  /** Folder for relative replay files. */
  readonly baseDir?: string;
}

/** A device's points and what could not be used. */
export interface DevicePoints {
  readonly points: SimPointSpec[];
  /** Configured generators that were not used, with the reason. */
  readonly warnings: string[];
}

/** The monitoring family a point is served with: its `typeId`, else float for AI/AO, single for DI/DO, counter for PI. */
function familyOf(a: Iec104Address): Family {
  if (a.typeId !== undefined) return MONITOR_TYPES.get(a.typeId)!.family;
  if (a.pointType === 'PI') return 'counter';
  if (a.pointType === 'DI' || a.pointType === 'DO') return 'single';
  return 'float';
}

/** A generated or inverted value as the station holds it for a family; undefined when it has none. */
function toSim(v: PointValue | GeneratedValue, family: Family): SimValue | undefined {
  if (family === 'single') return typeof v === 'boolean' ? v : typeof v === 'string' ? v === 'true' : Number(v) !== 0;
  const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** How often a generator can change: its `every`, capped by the tick (continuous kinds use the tick). */
function periodOf(spec: GeneratorSpec, tickMs: number): number {
  return 'every' in spec ? Math.max(1, Math.min(spec.every, tickMs)) : tickMs;
}

type Drive = { readonly spec: GeneratorSpec; readonly key: string; readonly toPoint: (v: GeneratedValue) => PointValue | GeneratedValue | undefined; readonly moving: boolean };

/**
 * One point spec per point of the device (its IOA by Baetyl's rule), with initial values and
 * generators; AO/DO points accept commands (their `commandType`).
 */
export function pointsFromDevice(device: CompiledDevice, opts: DevicePointsOptions): DevicePoints {
  const conn = device.connection as unknown as Iec104Connection;
  const tickMs = opts.tickMs ?? 1000;
  const t0 = opts.t0 ?? Date.now();
  const configured = opts.generators ?? {};
  const warnings: string[] = [];
  const byId = new Map(device.points.map((p) => [p.id, p]));
  const drives = new Map<string, Drive>();
  const mapped = new Set<string>();

  for (const m of device.mappings) {
    mapped.add(m.attribute);
    const prop = device.model.get(m.attribute);
    const own = configured[m.attribute];
    const probe = prop?.type === 'bool' ? true : prop?.type === 'string' ? 'x' : 1;
    const inv = invertMapping(m, m.kind === 'calculate' ? 1 : probe);
    if (!inv.ok || !byId.has(inv.pointId) || drives.has(inv.pointId)) {
      if (own !== undefined) warnings.push(`${m.attribute}: ${inv.ok ? `point x${inv.pointId} is driven by another attribute or missing` : inv.error}; its generator is not used`);
      continue;
    }
    const spec = own ?? (prop !== undefined ? defaultGeneratorSpec(prop, m.attribute) : undefined);
    if (spec === undefined) continue;
    drives.set(inv.pointId, { spec: generatorSpecSchema.parse(spec), key: m.attribute, toPoint: (v) => attributeToPoint(m, prop, v), moving: own !== undefined || prop?.mode !== 'rw' });
  }
  for (const p of device.points) {
    if (drives.has(p.id)) continue;
    const own = configured[p.name] ?? configured[p.id];
    const spec = own ?? defaultGeneratorSpec({ type: p.type }, p.name);
    const a = p.address as Iec104Address;
    if (spec !== undefined) drives.set(p.id, { spec: generatorSpecSchema.parse(spec), key: `#point:${p.id}`, toPoint: (v) => v, moving: own !== undefined || a.commandType === undefined });
  }
  for (const key of Object.keys(configured)) {
    if (!mapped.has(key) && !device.points.some((p) => p.name === key || p.id === key)) warnings.push(`${key}: no attribute or point of that name; its generator is not used`);
  }

  const points: SimPointSpec[] = [];
  for (const p of device.points) {
    const a = p.address as Iec104Address;
    const family = familyOf(a);
    const base = a.typeId ?? (family === 'counter' ? TypeId.M_IT_NA_1 : family === 'single' ? TypeId.M_SP_NA_1 : TypeId.M_ME_NC_1);
    const type = opts.timeTags === false ? base : TAGGED[family];
    const spec: { -readonly [K in keyof SimPointSpec]: SimPointSpec[K] } = { ioa: resolveIoa(a, conn), type, command: a.commandType ?? false };
    const d = drives.get(p.id);
    if (d !== undefined) {
      const gen = createGenerator(d.spec, deriveSeed(opts.seed, device.name, d.key), opts.baseDir === undefined ? {} : { baseDir: opts.baseDir });
      const at = (t: number): SimValue | undefined => {
        const v = d.toPoint(gen(t));
        return v === undefined ? undefined : toSim(v, family);
      };
      const first = at(0);
      if (first !== undefined) spec.value = first;
      if (d.moving && d.spec.kind !== 'constant') {
        spec.generator = (now, previous) => at(now - t0) ?? previous;
        spec.period = periodOf(d.spec, tickMs);
      }
    }
    points.push(spec);
  }
  return { points, warnings };
}

/** The point value that makes the attribute read `v` through its mapping (undefined when it cannot). */
function attributeToPoint(m: Mapping, prop: ModelProperty | undefined, v: GeneratedValue): PointValue | undefined {
  const attr = prop !== undefined ? coerceToModel(prop, v) : { ok: true as const, value: v as AttributeValue };
  if (!attr.ok) return undefined;
  const value = attr.value;
  if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean' && typeof value !== 'string') return undefined;
  const inv = invertMapping(m, value);
  return inv.ok ? inv.value : undefined;
}
