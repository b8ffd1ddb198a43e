/**
 * One simulated OPC UA device: the values of its points, driven by the same compiled model +
 * access template as the gateway. Each tick, a point follows either the generator of the
 * attribute whose mapping inverts to it (so the gateway reads the generator's value back through
 * its own mapping) or a generator of its own. A value written by a client or `set` here is kept
 * (the point is held) until `reset`. `setStatus` makes a point answer with a Bad/Uncertain status.
 * Pure state: the server (simulator.ts) reads and writes it; it survives server restarts.
 */
import type { CompiledDevice, CompiledPoint, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { PointType, PointValue } from '../../src/devicemodel/types.ts';
import { invertMapping } from '../../src/devicemodel/mapping.ts';
import { coerceToModel } from '../../src/devicemodel/coerce.ts';
import { nodeIdText } from '../../src/drivers/opcua/address.ts';
import type { OpcuaAddress } from '../../src/drivers/opcua/address.ts';
import { createGenerator } from '../common/generators.ts';
import type { GeneratedValue, Generator, GeneratorSpecInput } from '../common/generators.ts';
import { defaultGeneratorSpec } from '../common/defaults.ts';
import { deriveSeed } from '../common/prng.ts';

/** What keeps a point moving. */
type Source =
  | { readonly kind: 'attribute'; readonly mapping: Mapping; readonly prop: ModelProperty | undefined; readonly gen: Generator }
  | { readonly kind: 'point'; readonly gen: Generator }
  | { readonly kind: 'none' };

/** One simulated variable. */
export interface SimVariable {
  readonly point: CompiledPoint;
  /** The node id text for the device's offsets (may be `nsu=`). */
  readonly nodeId: string;
  readonly writable: boolean;
  value: PointValue;
  /** A status name such as `BadSensorFailure` to answer instead of the value; undefined = Good. */
  status: string | undefined;
  held: boolean;
  source: Source;
}

/** Options of one device. */
export interface OpcuaSimDeviceOptions {
  readonly seed: number;
  /** Generators by attribute name, or by point name/id for unmapped points. */
  readonly generators?: Readonly<Record<string, GeneratorSpecInput>>;
  readonly baseDir?: string;
}

const INT_LIMITS: Readonly<Partial<Record<PointType, readonly [number, number]>>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/** Coerces a generated or written value into the point's type (rounded and clamped). */
export function toPointValue(type: PointType, v: GeneratedValue | PointValue): PointValue {
  switch (type) {
    case 'bool':
      return typeof v === 'boolean' ? v : typeof v === 'string' ? v === 'true' : Number(v) !== 0;
    case 'string':
      return String(v);
    case 'float32':
      return Math.fround(Number(v));
    case 'float64':
      return Number(v);
    case 'int64':
    case 'uint64': {
      const b = typeof v === 'bigint' ? v : BigInt(Math.round(Number(typeof v === 'boolean' ? Number(v) : v) || 0));
      return type === 'uint64' && b < 0n ? 0n : b;
    }
    default: {
      const [lo, hi] = INT_LIMITS[type]!;
      const n = Math.round(Number(typeof v === 'boolean' ? Number(v) : v) || 0);
      return Math.min(hi, Math.max(lo, n));
    }
  }
}

/** A simulated device; see the file comment. */
export class OpcuaSimDevice {
  readonly name: string;
  readonly compiled: CompiledDevice;
  readonly variables: SimVariable[] = [];
  /** Generators that could not be used, with the reason. */
  readonly warnings: string[] = [];
  private readonly byKey = new Map<string, SimVariable>();

  constructor(device: CompiledDevice, options: OpcuaSimDeviceOptions) {
    if (device.driver !== 'opcua') throw new Error(`${device.name}: driver ${device.driver} is not opcua`);
    this.name = device.name;
    this.compiled = device;
    const conn = device.connection as { nsOffset?: number; idOffset?: number };
    const offsets = { nsOffset: conn.nsOffset ?? 0, idOffset: conn.idOffset ?? 0 };
    const rwPoints = new Set<string>();
    const mapped = new Set<string>();
    for (const m of device.mappings) {
      for (const id of m.pointIds) {
        mapped.add(id);
        if (device.model.get(m.attribute)?.mode === 'rw') rwPoints.add(id);
      }
    }
    for (const p of device.points) {
      const a = p.address as OpcuaAddress;
      const v: SimVariable = {
        point: p,
        nodeId: nodeIdText(a.node, offsets),
        // Points behind a read-only attribute are read-only; unmapped points are writable.
        writable: rwPoints.has(p.id) || !mapped.has(p.id),
        value: toPointValue(p.type, p.type === 'string' ? '' : 0),
        status: undefined,
        held: false,
        source: { kind: 'none' },
      };
      this.variables.push(v);
      this.byKey.set(p.id, v);
      if (!this.byKey.has(p.name)) this.byKey.set(p.name, v);
    }
    this.assignSources(device, options);
    this.tick(0);
  }

  private assignSources(device: CompiledDevice, options: OpcuaSimDeviceOptions): void {
    const configured = options.generators ?? {};
    const make = (spec: GeneratorSpecInput, key: string): Generator =>
      createGenerator(spec, deriveSeed(options.seed, device.name, key), options.baseDir === undefined ? {} : { baseDir: options.baseDir });
    for (const m of device.mappings) {
      const prop = device.model.get(m.attribute);
      const spec = configured[m.attribute] ?? (prop !== undefined ? defaultGeneratorSpec(prop, m.attribute) : undefined);
      const probe = prop?.type === 'bool' ? true : prop?.type === 'string' ? 'x' : 1;
      const inv = invertMapping(m, probe);
      const target = inv.ok ? this.byKey.get(inv.pointId) : undefined;
      if (!inv.ok || target === undefined || target.source.kind !== 'none') {
        if (configured[m.attribute] !== undefined) this.warnings.push(`${m.attribute}: the mapping does not invert to a free point; its generator is not used`);
        continue;
      }
      if (spec !== undefined) target.source = { kind: 'attribute', mapping: m, prop, gen: make(spec, m.attribute) };
    }
    for (const v of this.variables) {
      if (v.source.kind !== 'none') continue;
      const spec = configured[v.point.name] ?? configured[v.point.id] ?? defaultGeneratorSpec({ type: v.point.type }, v.point.name);
      if (spec !== undefined) v.source = { kind: 'point', gen: make(spec, `#point:${v.point.id}`) };
    }
  }

  /** Moves every point that is not held to its generator's value at `tMs` (ms since start). */
  tick(tMs: number): void {
    for (const v of this.variables) {
      if (v.held || v.source.kind === 'none') continue;
      const g = v.source.gen(tMs);
      if (v.source.kind === 'point') {
        v.value = toPointValue(v.point.type, g);
        continue;
      }
      const { mapping, prop } = v.source;
      const attr = prop !== undefined ? coerceToModel(prop, g) : { ok: true as const, value: g };
      if (!attr.ok) continue;
      const inv = invertMapping(mapping, attr.value as GeneratedValue);
      if (inv.ok) v.value = toPointValue(v.point.type, inv.value);
    }
  }

  /** The variable of a point (by id or name); throws when there is none. */
  variable(point: string): SimVariable {
    const v = this.byKey.get(point);
    if (v === undefined) throw new Error(`${this.name}: no point "${point}"`);
    return v;
  }

  /** Sets a point's raw value; it then holds it until `reset`. */
  set(point: string, value: PointValue): void {
    const v = this.variable(point);
    v.value = toPointValue(v.point.type, value);
    v.held = true;
  }

  /** Lets held points (all, or one) follow their generators again. */
  reset(point?: string): void {
    if (point === undefined) for (const v of this.variables) v.held = false;
    else this.variable(point).held = false;
  }

  /** Makes a point answer with a status (e.g. `BadSensorFailure`); `undefined` = Good again. */
  setStatus(point: string, status: string | undefined): void {
    this.variable(point).status = status;
  }
}
