/**
 * Builders of CompiledDevice objects for simulator tests (the same shape compile() produces),
 * plus a modbus-serial client helper and the gateway-side decode of one point.
 */
import ModbusPkg from 'modbus-serial';
import type { CompiledDevice, CompiledPoint, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { ModelType, PointType, PointValue } from '../../src/devicemodel/types.ts';
import { parseExpression, variableIds } from '../../src/devicemodel/expression.ts';
import { defaultTopics } from '../../src/devicemodel/topics.ts';
import { decodeRegisters } from '../../src/devicemodel/codec/registers.ts';
import { applyMapping } from '../../src/devicemodel/mapping.ts';
import { modbusAddressSchema, pointSize } from '../../src/drivers/modbus/address.ts';
import type { ModbusAddress } from '../../src/drivers/modbus/address.ts';
import { applyScale } from '../../src/drivers/modbus/decode.ts';

/** CJS interop: the client class is module.exports, which also carries itself as `.default`. */
const ModbusRTU = ModbusPkg.default;
export type Client = InstanceType<typeof ModbusPkg.default>;

/** One point + its attribute, as a test describes it. */
export interface PointSpec {
  readonly id: string;
  readonly name: string;
  readonly type: PointType;
  readonly visitor: Record<string, unknown>;
  /** Attribute mapped from this point (`value` mapping when `expression` is `x<id>`). */
  readonly attribute?: { readonly name: string; readonly type: ModelType; readonly expression?: string; readonly precision?: number; readonly min?: number; readonly max?: number; readonly mode?: 'ro' | 'rw' };
}

/** A compiled point with its parsed address. */
export type TestPoint = CompiledPoint & { readonly address: ModbusAddress };

export function makePoint(p: PointSpec): TestPoint {
  return { id: p.id, name: p.name, type: p.type, address: modbusAddressSchema.parse(p.visitor) };
}

export function makeMapping(attribute: string, expression: string, precision?: number): Mapping {
  const parsed = parseExpression(expression);
  if (!parsed.ok) throw new Error(parsed.error);
  const ids = variableIds(parsed.expr);
  const isValue = parsed.expr.kind === 'var';
  return {
    attribute,
    kind: isValue ? 'value' : 'calculate',
    expr: parsed.expr,
    pointIds: ids,
    ...(precision !== undefined ? { precision } : {}),
    deviation: 0,
    deadband: 0,
    silentWin: 0,
  };
}

/** A Modbus device from point specs; `connection` is `accessConfig.modbus` after parsing. */
export function makeDevice(name: string, specs: readonly PointSpec[], connection: Record<string, unknown>): CompiledDevice {
  const model = new Map<string, ModelProperty>();
  const mappings: Mapping[] = [];
  for (const s of specs) {
    if (s.attribute === undefined) continue;
    const a = s.attribute;
    model.set(a.name, {
      name: a.name,
      type: a.type,
      mode: a.mode ?? 'rw',
      ...(a.min !== undefined ? { min: a.min } : {}),
      ...(a.max !== undefined ? { max: a.max } : {}),
    });
    mappings.push(makeMapping(a.name, a.expression ?? `x${s.id}`, a.precision));
  }
  return {
    name,
    instance: 'modbus-test',
    driver: 'modbus',
    product: 'test-product',
    accessTemplate: 'test-template',
    model,
    points: specs.map(makePoint),
    mappings,
    topics: defaultTopics('test-product', name),
    connection: { interval: 1000, timeout: 1000, id: 1, ...connection },
  };
}

/** Connects a modbus-serial client over Modbus/TCP. */
export async function tcpClient(port: number, unit = 1, timeoutMs = 1000): Promise<Client> {
  const c = new ModbusRTU();
  c.on('error', () => {});
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

/** Connects a client sending RTU frames over a TCP socket. */
export async function telnetClient(port: number, unit = 1, timeoutMs = 1000): Promise<Client> {
  const c = new ModbusRTU();
  c.on('error', () => {});
  await c.connectTelnet('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

/** Connects a client over a serial path (RTU). */
export async function rtuClient(path: string, unit = 1, timeoutMs = 1000): Promise<Client> {
  const c = new ModbusRTU();
  c.on('error', () => {});
  await c.connectRTUBuffered(path, { baudRate: 19200, parity: 'even' });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

export function closeClient(c: Client): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 500);
    try {
      c.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** Reads one point the way the gateway does (function per table, decode, scale). */
export async function readPointOverWire(c: Client, p: TestPoint): Promise<PointValue> {
  const a = p.address;
  const n = pointSize(p);
  switch (a.table) {
    case 'coil':
      return (await c.readCoils(a.address, 1)).data[0]!;
    case 'discrete':
      return (await c.readDiscreteInputs(a.address, 1)).data[0]!;
    default: {
      const regs = a.table === 'holding' ? (await c.readHoldingRegisters(a.address, n)).data : (await c.readInputRegisters(a.address, n)).data;
      const r = decodeRegisters(regs, p.type, a.order, {
        ...(a.bit !== undefined ? { bit: a.bit } : {}),
        encoding: a.encoding,
        ...(p.type === 'string' ? { quantity: n } : {}),
      });
      if (r.kind !== 'ok') throw new Error(`decode ${p.name}: ${r.kind === 'error' ? r.error : 'incomplete'}`);
      return applyScale(r.value, a.scale);
    }
  }
}

/** Reads an attribute over the wire: its points, then the mapping. */
export async function readAttributeOverWire(c: Client, device: CompiledDevice, attribute: string): Promise<unknown> {
  const m = device.mappings.find((x) => x.attribute === attribute);
  if (m === undefined) throw new Error(`no mapping ${attribute}`);
  const values = new Map<string, PointValue>();
  for (const id of m.pointIds) {
    const p = device.points.find((x) => x.id === id) as TestPoint;
    values.set(id, await readPointOverWire(c, p));
  }
  const r = applyMapping(m, (id) => (values.has(id) ? { quality: 'good', value: values.get(id)! } : undefined));
  if (!('value' in r)) throw new Error(`mapping ${attribute}: ${r.reason}`);
  return r.value;
}

/** Asserts |a - b| <= tol * max(1, |b|). */
export function near(actual: unknown, expected: number, tol = 1e-6): boolean {
  const a = typeof actual === 'bigint' ? Number(actual) : Number(actual);
  return Math.abs(a - expected) <= tol * Math.max(1, Math.abs(expected));
}
