/**
 * One point <-> the register image, the way the gateway's Modbus driver reads and writes it:
 * the shared register codec (byte order, bit, string encoding) and Baetyl's `scale` (the register
 * holds value / scale). Reading is exactly the gateway's decode; writing is its write path, plus a
 * lenient mode for generated values (rounded and clamped to the type, text cut to fit).
 */
import type { CompiledPoint } from '../../src/devicemodel/compiled.ts';
import type { PointValue } from '../../src/devicemodel/types.ts';
import { decodeRegisters, encodeRegisters } from '../../src/devicemodel/codec/registers.ts';
import type { ModbusAddress } from '../../src/drivers/modbus/address.ts';
import { applyScale } from '../../src/drivers/modbus/decode.ts';
import { unscale } from '../../src/drivers/modbus/writes.ts';
import type { RegisterImage } from './image.ts';

/** A compiled point with its parsed Modbus address. */
export type SimPointDef = CompiledPoint & { readonly address: ModbusAddress };

/** Integer ranges for clamping generated values (64-bit limited to what a double holds exactly). */
const INT_LIMITS: Readonly<Record<string, readonly [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
  uint32: [0, 0xffff_ffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Truthiness of a generated value for a bit: numbers != 0, text other than "", "0", "false". */
function toBool(v: PointValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v !== '' && v !== '0' && v !== 'false';
  return Number(v) !== 0;
}

/** The point's value as the gateway decodes it (scale applied); `undefined` if it does not decode. */
export function readPoint(image: RegisterImage, def: SimPointDef, size: number): PointValue | undefined {
  const a = def.address;
  if (a.table === 'coil' || a.table === 'discrete') return image.getBit(a.table, a.address);
  const r = decodeRegisters(image.getRegisters(a.table, a.address, size), def.type, a.order, {
    ...(a.bit !== undefined ? { bit: a.bit } : {}),
    encoding: a.encoding,
    ...(def.type === 'string' ? { quantity: size } : {}),
  });
  return r.kind === 'ok' ? applyScale(r.value, a.scale) : undefined;
}

/**
 * Stores a value (engineering units) in the point's registers or bit; returns why not, if it
 * cannot. A bit inside a register keeps the register's other bits.
 */
export function writePoint(image: RegisterImage, def: SimPointDef, size: number, value: PointValue, lenient: boolean): string | undefined {
  const a = def.address;
  const type = def.type;
  if (a.table === 'coil' || a.table === 'discrete') {
    image.setBits(a.table, a.address, [toBool(value)]);
    return undefined;
  }
  let raw: PointValue = unscale(value, def);
  const limits = INT_LIMITS[type];
  if (limits !== undefined && typeof raw === 'number' && lenient) {
    // Generators produce doubles; the register holds the nearest integer the type can carry.
    raw = Math.min(limits[1], Math.max(limits[0], Math.round(raw)));
  }
  if (type === 'string') {
    // Generated text is cut to fit; a value set on purpose must fit (the encoder says why not).
    const text = String(raw);
    raw = lenient ? text.slice(0, a.encoding === 'utf16' ? size : size * 2) : text;
  } else if (type === 'bool') {
    raw = toBool(raw);
  }
  const enc = encodeRegisters(raw, type, a.order, {
    ...(a.bit !== undefined ? { bit: a.bit, current: image.getRegister(a.table, a.address) } : {}),
    encoding: a.encoding,
    ...(type === 'string' ? { quantity: size } : {}),
  });
  if (enc.kind === 'error') return enc.error;
  image.setRegisters(a.table, a.address, enc.value);
  return undefined;
}
