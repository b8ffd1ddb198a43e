/**
 * One simulated Modbus device (one unit id), driven by the same compiled model + access template
 * as the gateway. Each tick, generators produce *attribute* values; the device inverts the
 * mapping to a point value and encodes it the way the gateway decodes (byte order, bit, string
 * encoding, scale), so the gateway reads the generator's value back through its own mapping.
 * Points no invertible mapping drives get a generator of their own on the raw point value.
 * Whatever a client writes (FC5/6/15/16) or `set` stores is kept: that point stops following its
 * generator until `reset`.
 */
import type { CompiledDevice, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { AttributeValue, PointValue } from '../../src/devicemodel/types.ts';
import { applyMapping, invertMapping } from '../../src/devicemodel/mapping.ts';
import { coerceToModel } from '../../src/devicemodel/coerce.ts';
import { pointSize } from '../../src/drivers/modbus/address.ts';
import type { Table } from '../../src/drivers/modbus/address.ts';
import { createGenerator } from '../common/generators.ts';
import type { GeneratedValue, Generator, GeneratorSpecInput } from '../common/generators.ts';
import { defaultGeneratorSpec } from '../common/defaults.ts';
import { deriveSeed, mulberry32 } from '../common/prng.ts';
import { RegisterImage } from './image.ts';
import { readPoint, writePoint } from './point-codec.ts';
import type { SimPointDef } from './point-codec.ts';
import { EXCEPTION, exceptionFor, ModbusException, modbusFaultsSchema, NO_FAULTS } from './faults.ts';
import type { ModbusFaults, ModbusFaultsInput } from './faults.ts';

/** What keeps a point moving: an attribute's generator through the inverted mapping, or its own. */
type Driver =
  | { readonly kind: 'attribute'; readonly mapping: Mapping; readonly prop: ModelProperty | undefined; readonly gen: Generator }
  | { readonly kind: 'point'; readonly gen: Generator }
  | { readonly kind: 'none' };

interface SimPoint {
  readonly def: SimPointDef;
  readonly size: number;
  driver: Driver;
  /** Written by a client or set through the API: no longer follows its generator. */
  held: boolean;
}

/** What to do with one reply, decided when it is sent. */
export interface ReplyPlan {
  readonly drop: boolean;
  readonly delayMs: number;
  readonly truncate: boolean;
}

/** Options for one device. */
export interface SimDeviceOptions {
  readonly seed: number;
  /** Generators by attribute name; a key that names no attribute may name a point (its `name` or `id`). */
  readonly generators?: Readonly<Record<string, GeneratorSpecInput>>;
  readonly faults?: ModbusFaultsInput;
  /** Folder for relative replay files. */
  readonly baseDir?: string;
}

/** Closes client connections of the endpoint a device is served on; set by the simulator. */
export type DisconnectFn = (refuseMs: number) => Promise<void>;

/** A simulated device; see the file comment. */
export class ModbusSimDevice {
  readonly name: string;
  readonly unitId: number;
  readonly compiled: CompiledDevice;
  /** The device's registers and bits. */
  readonly image = new RegisterImage();
  /** Configured generators that could not be used, with the reason (e.g. a non-invertible mapping). */
  readonly warnings: string[] = [];
  private readonly points: SimPoint[] = [];
  private readonly byKey = new Map<string, SimPoint>();
  private readonly mappings = new Map<string, Mapping>();
  private currentFaults: ModbusFaults = NO_FAULTS;
  private readonly faultRand: () => number;
  private lastT = 0;
  /** @internal set by the simulator that serves this device. */
  disconnectFn: DisconnectFn | undefined;

  constructor(device: CompiledDevice, options: SimDeviceOptions) {
    this.name = device.name;
    this.compiled = device;
    this.unitId = Number((device.connection as { id?: unknown }).id ?? 1);
    this.faultRand = mulberry32(deriveSeed(options.seed, device.name, '#faults'));
    if (options.faults !== undefined) this.currentFaults = modbusFaultsSchema.parse(options.faults);
    for (const p of device.points) {
      const sp: SimPoint = { def: p as SimPointDef, size: pointSize(p as SimPointDef), driver: { kind: 'none' }, held: false };
      this.points.push(sp);
      this.byKey.set(p.id, sp);
      if (!this.byKey.has(p.name)) this.byKey.set(p.name, sp);
    }
    for (const m of device.mappings) this.mappings.set(m.attribute, m);
    this.assignDrivers(device, options);
    this.tick(0);
  }

  private assignDrivers(device: CompiledDevice, options: SimDeviceOptions): void {
    const configured = options.generators ?? {};
    const make = (spec: GeneratorSpecInput, key: string): Generator =>
      createGenerator(spec, deriveSeed(options.seed, device.name, key), options.baseDir === undefined ? {} : { baseDir: options.baseDir });
    for (const m of device.mappings) {
      const prop = device.model.get(m.attribute);
      const spec = configured[m.attribute] ?? (prop !== undefined ? defaultGeneratorSpec(prop, m.attribute) : undefined);
      // A probe value of the right kind tells whether (and to which point) the mapping inverts.
      const probe = prop?.type === 'bool' ? true : prop?.type === 'string' ? 'x' : 1;
      const inv = invertMapping(m, m.kind === 'calculate' ? 1 : probe);
      const target = inv.ok ? this.byKey.get(inv.pointId) : undefined;
      if (!inv.ok || target === undefined || target.driver.kind !== 'none') {
        if (configured[m.attribute] !== undefined) {
          this.warnings.push(`${m.attribute}: ${inv.ok ? `point x${inv.pointId} is driven by another attribute or missing` : inv.error}; its generator is not used`);
        }
        continue;
      }
      if (spec === undefined) continue;
      target.driver = { kind: 'attribute', mapping: m, prop, gen: make(spec, m.attribute) };
    }
    for (const p of this.points) {
      if (p.driver.kind !== 'none') continue;
      const spec = configured[p.def.name] ?? configured[p.def.id] ?? defaultGeneratorSpec({ type: p.def.type }, p.def.name);
      if (spec !== undefined) p.driver = { kind: 'point', gen: make(spec, `#point:${p.def.id}`) };
    }
    for (const key of Object.keys(configured)) {
      if (!this.mappings.has(key) && !this.byKey.has(key)) this.warnings.push(`${key}: no attribute or point of that name; its generator is not used`);
    }
  }

  /** Moves every point that is not held to its generator's value at `tMs` (ms since start). */
  tick(tMs: number): void {
    this.lastT = tMs;
    for (const p of this.points) {
      if (p.held || p.driver.kind === 'none') continue;
      const v = p.driver.gen(tMs);
      if (p.driver.kind === 'point') {
        this.store(p, v);
        continue;
      }
      const { mapping, prop } = p.driver;
      const attr = prop !== undefined ? coerceToModel(prop, v) : { ok: true as const, value: v };
      if (!attr.ok) continue;
      const inv = invertMapping(mapping, attr.value as GeneratedValue);
      if (inv.ok) this.store(p, inv.value);
    }
  }

  /** Time of the last tick (ms since start). */
  get time(): number {
    return this.lastT;
  }

  // ---- attribute and point access (the simulator's API) ----

  /** Attribute names that have a mapping. */
  attributes(): string[] {
    return [...this.mappings.keys()];
  }

  /**
   * The attribute's value as the gateway would compute it from the registers now (decode, scale,
   * mapping, precision, model type); `undefined` when it cannot be computed.
   */
  get(attribute: string): AttributeValue | undefined {
    const m = this.mappings.get(attribute);
    if (m === undefined) throw new Error(`${this.name}: no mapping for attribute "${attribute}"`);
    const r = applyMapping(m, (id) => {
      const p = this.byKey.get(id);
      if (p === undefined) return undefined;
      const v = this.readPointValue(p);
      return v === undefined ? undefined : { quality: 'good', value: v };
    });
    if (!('value' in r)) return undefined;
    const prop = this.compiled.model.get(attribute);
    if (prop === undefined) return r.value;
    const c = coerceToModel(prop, r.value);
    return c.ok ? c.value : undefined;
  }

  /** Values of all mapped attributes. */
  getAll(): Record<string, AttributeValue | undefined> {
    const out: Record<string, AttributeValue | undefined> = {};
    for (const a of this.mappings.keys()) out[a] = this.get(a);
    return out;
  }

  /** Sets an attribute (through the inverted mapping); its point then holds the value until `reset`. */
  set(attribute: string, value: number | bigint | boolean | string): void {
    const m = this.mappings.get(attribute);
    if (m === undefined) throw new Error(`${this.name}: no mapping for attribute "${attribute}"`);
    const inv = invertMapping(m, value);
    if (!inv.ok) throw new Error(`${this.name}: ${inv.error}`);
    this.setPoint(inv.pointId, inv.value);
  }

  /** Sets a point (by name or id) to a value in engineering units (scale applied); it then holds it. */
  setPoint(point: string, value: PointValue): void {
    const p = this.point(point);
    const err = this.store(p, value, false);
    if (err !== undefined) throw new Error(`${this.name}: ${p.def.name}: ${err}`);
    p.held = true;
  }

  /** A point's value (by name or id) as the gateway decodes it, scale applied. */
  readPoint(point: string): PointValue | undefined {
    return this.readPointValue(this.point(point));
  }

  /** Raw table contents (bits as 0/1). */
  readRaw(table: Table, address: number, count: number): number[] {
    return this.image.read(table, address, count);
  }

  /** Lets held points (all, or those of one attribute or point) follow their generators again. */
  reset(name?: string): void {
    if (name === undefined) {
      for (const p of this.points) p.held = false;
    } else {
      const m = this.mappings.get(name);
      const targets = m !== undefined ? m.pointIds : [name];
      for (const id of targets) {
        const p = this.byKey.get(id);
        if (p !== undefined) p.held = false;
      }
    }
    this.tick(this.lastT);
  }

  /** True when the point (name or id) no longer follows its generator. */
  isHeld(point: string): boolean {
    return this.point(point).held;
  }

  // ---- faults ----

  /** Current faults. */
  get faults(): ModbusFaults {
    return this.currentFaults;
  }

  /** Changes faults; fields not given keep their value. */
  setFaults(update: ModbusFaultsInput): void {
    this.currentFaults = modbusFaultsSchema.parse({ ...this.currentFaults, ...update });
  }

  /** Removes all faults. */
  clearFaults(): void {
    this.currentFaults = NO_FAULTS;
  }

  /**
   * Closes every client connection of the endpoint this device is served on (other devices on it
   * included), and refuses new ones for `refuseMs`. Serial links go silent for `refuseMs` instead.
   */
  async disconnect(refuseMs = 0): Promise<void> {
    if (this.disconnectFn === undefined) throw new Error(`${this.name}: not served`);
    await this.disconnectFn(refuseMs);
  }

  /** Decides drop / delay / truncation for one reply (seeded, so runs repeat). */
  planReply(): ReplyPlan {
    const f = this.currentFaults;
    return { drop: f.dropRate > 0 && this.faultRand() < f.dropRate, delayMs: f.delay, truncate: f.malformed === 'truncate' };
  }

  // ---- service vector side (called by the servers) ----

  /** Reads bits for FC1/FC2; throws ModbusException for faulted or out-of-range addresses. */
  readBits(table: 'coil' | 'discrete', address: number, count: number): boolean[] {
    this.check(table, address, count);
    return this.image.getBits(table, address, count);
  }

  /** Reads registers for FC3/FC4. */
  readRegisters(table: 'holding' | 'input', address: number, count: number): number[] {
    this.check(table, address, count);
    return this.image.getRegisters(table, address, count);
  }

  /** FC5/FC15: stores coils; the points written stop following their generators. */
  writeCoils(address: number, values: readonly boolean[]): void {
    this.check('coil', address, values.length);
    this.image.setBits('coil', address, values);
    this.hold('coil', address, values.length);
  }

  /** FC6/FC16: stores holding registers; the points written stop following their generators. */
  writeRegisters(address: number, values: readonly number[]): void {
    this.check('holding', address, values.length);
    this.image.setRegisters('holding', address, values);
    this.hold('holding', address, values.length);
  }

  private check(table: Table, address: number, count: number): void {
    if (address + count > 0x10000) {
      throw new ModbusException(EXCEPTION.illegalDataAddress, `${table} ${address}+${count} runs past 65535`);
    }
    const code = exceptionFor(this.currentFaults.exceptions, table, address, count);
    if (code !== undefined) throw new ModbusException(code, `fault: exception ${code} at ${table} ${address}`);
  }

  private hold(table: Table, address: number, count: number): void {
    for (const p of this.points) {
      const a = p.def.address;
      if (a.table === table && a.address < address + count && address < a.address + p.size) p.held = true;
    }
  }

  private point(key: string): SimPoint {
    const p = this.byKey.get(key);
    if (p === undefined) throw new Error(`${this.name}: no point "${key}"`);
    return p;
  }

  private readPointValue(p: SimPoint): PointValue | undefined {
    return readPoint(this.image, p.def, p.size);
  }

  private store(p: SimPoint, value: GeneratedValue | PointValue, lenient = true): string | undefined {
    return writePoint(this.image, p.def, p.size, value, lenient);
  }
}
