/**
 * Modbus configuration in Baetyl's keys (`visitor.modbus`, `accessConfig.modbus`), plus
 * fieldgate's optional additions. Baetyl key names are never renamed.
 */
import { baseConnectionShape, duration, intOrHex, z } from '../sdk/index.ts';
import type { Point } from '../sdk/index.ts';
import { BYTE_ORDER_ALIASES_64, byteWidth, POINT_TYPES } from '../../devicemodel/types.ts';
import type { ByteOrder } from '../../devicemodel/types.ts';

/** Modbus data tables by Baetyl's `function` number (the read function code). */
export const TABLES = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' } as const;
export type Table = (typeof TABLES)[keyof typeof TABLES];

const byteOrderName = z
  .enum(['ABCD', 'BADC', 'CDAB', 'DCBA', 'ABCDEFGH', 'BADCFEHG', 'GHEFCDAB', 'HGFEDCBA'])
  .transform((v): ByteOrder => (v.length === 8 ? BYTE_ORDER_ALIASES_64[v]! : (v as ByteOrder)));

/** `visitor.modbus` of one access-template property. */
export const modbusAddressSchema = z
  .strictObject({
    // Baetyl's keys
    function: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    address: intOrHex().pipe(z.number().int().min(0).max(0xffff)),
    quantity: z.number().int().min(1).max(125).optional(),
    type: z.enum(POINT_TYPES).optional(),
    unit: z.string().optional(),
    scale: z.number().optional(),
    swapByte: z.boolean().optional(),
    swapRegister: z.boolean().optional(),
    // fieldgate's additions
    /** Byte order of multi-register values; overrides swapByte/swapRegister. */
    byteOrder: byteOrderName.optional(),
    /** A bit (0 = least significant) inside a holding/input register, read as bool. */
    bit: z.number().int().min(0).max(15).optional(),
    /** Force the write function: 5/15 for coils, 6/16 for registers. */
    writeFunction: z.union([z.literal(5), z.literal(6), z.literal(15), z.literal(16)]).optional(),
    /** Characters of a `string` point: `ascii` (1 byte each, default) or `utf16` (one register each). */
    encoding: z.enum(['ascii', 'utf16']).optional(),
  })
  .transform((v) => {
    const table: Table = TABLES[v.function];
    // Baetyl (demo/golang/modbus/map.go): swapRegister swaps the two bytes inside each word,
    // swapByte decodes little-endian (bytes and words reversed). byteOrder wins when given.
    const order: ByteOrder = v.byteOrder ?? (v.swapByte ? 'DCBA' : v.swapRegister ? 'BADC' : 'ABCD');
    return {
      table,
      address: v.address,
      quantity: v.quantity,
      type: v.type,
      scale: v.scale !== undefined && v.scale !== 0 && v.scale !== 1 ? v.scale : undefined,
      order,
      bit: v.bit,
      writeFunction: v.writeFunction,
      encoding: v.encoding ?? 'ascii',
    };
  });
export type ModbusAddress = z.output<typeof modbusAddressSchema>;

const tcpSchema = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(502),
  /** fieldgate: `rtu` sends RTU frames (with CRC) over the socket, for serial-to-Ethernet servers. */
  framing: z.enum(['mbap', 'rtu']).default('mbap'),
});

const rtuSchema = z.strictObject({
  port: z.string().min(1),
  baudrate: z.number().int().positive().default(19200),
  parity: z.enum(['E', 'N', 'O']).default('E'),
  databit: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
  stopbit: z.union([z.literal(1), z.literal(2)]).default(1),
});

/** `accessConfig.modbus` of one sub-device. */
export const modbusConnectionSchema = z
  .strictObject({
    // Baetyl's keys
    id: z.number().int().min(0).max(255).default(1),
    ...baseConnectionShape({ interval: 5000, timeout: 10_000 }),
    idletimeout: duration().optional(),
    tcp: tcpSchema.optional(),
    rtu: rtuSchema.optional(),
    // fieldgate's additions
    /** Retries of a failed request before it counts as failed. */
    retries: z.number().int().min(0).max(10).default(0),
    /** Silence between frames on a serial bus, in ms (at least 3.5 characters at the baud rate). */
    interFrameDelay: duration().optional(),
    /** Largest gap of unused registers/bits bridged when merging points into one request. */
    maxGap: z.number().int().min(0).max(125).default(10),
    /** Most registers per read request (the protocol allows 125). */
    maxRegisters: z.number().int().min(1).max(125).default(125),
    /** Most bits per read request (the protocol allows 2000). */
    maxBits: z.number().int().min(1).max(2000).default(2000),
    /** Requests in flight at once on a Modbus/TCP link (pipelining); serial links always use 1. */
    window: z.number().int().min(1).max(64).default(1),
  })
  .superRefine((v, ctx) => {
    if ((v.tcp === undefined) === (v.rtu === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of tcp: {address, port} or rtu: {port, baudrate, ...}' });
    }
  });
export type ModbusConnection = z.output<typeof modbusConnectionSchema>;

/** Registers (or bits) a point occupies. */
export function pointSize(point: Point<ModbusAddress>): number {
  const a = point.address;
  if (a.table === 'coil' || a.table === 'discrete' || a.bit !== undefined) return 1;
  if (point.type === 'string') return a.quantity ?? 1;
  return (byteWidth(point.type) ?? 2) / 2;
}

/** Checks a point as a whole: table vs type, quantity vs width. */
export function checkModbusPoint(point: Point<ModbusAddress>): { path: (string | number)[]; message: string }[] {
  const a = point.address;
  const out: { path: (string | number)[]; message: string }[] = [];
  const at = (k: string) => ['visitor', 'modbus', k];
  const bitTable = a.table === 'coil' || a.table === 'discrete';
  if (bitTable && point.type !== 'bool') {
    out.push({ path: ['type'], message: `function ${a.table === 'coil' ? 1 : 2} (${a.table}s) holds bits: type must be bool, not ${point.type}` });
  }
  if (a.bit !== undefined && (bitTable || point.type !== 'bool')) {
    out.push({ path: at('bit'), message: 'bit selects one bit of a holding/input register (function 3 or 4) and needs type bool' });
  }
  if (!bitTable && point.type === 'bool' && a.bit === undefined) {
    // A bool in a register is the register != 0; allowed, quantity 1.
  }
  const width = byteWidth(point.type);
  if (!bitTable && a.bit === undefined && a.quantity !== undefined && width !== undefined && point.type !== 'bool' && a.quantity !== width / 2) {
    out.push({ path: at('quantity'), message: `type ${point.type} takes ${width / 2} register(s); quantity is ${a.quantity}` });
  }
  if (bitTable && a.quantity !== undefined && a.quantity !== 1) {
    out.push({ path: at('quantity'), message: 'a coil or discrete input point is one bit: quantity must be 1' });
  }
  if (a.type !== undefined && a.type !== point.type) {
    out.push({ path: at('type'), message: `visitor type ${a.type} differs from the property type ${point.type}` });
  }
  if (a.writeFunction !== undefined) {
    const fits = a.table === 'coil' ? a.writeFunction === 5 || a.writeFunction === 15 : a.table === 'holding' ? a.writeFunction === 6 || a.writeFunction === 16 : false;
    if (!fits) out.push({ path: at('writeFunction'), message: `writeFunction ${a.writeFunction} does not write ${a.table}s (coils: 5/15, holding registers: 6/16; inputs are read-only)` });
  }
  if (a.address + pointSize(point) - 1 > 0xffff) {
    out.push({ path: at('address'), message: 'point runs past address 0xFFFF' });
  }
  return out;
}
