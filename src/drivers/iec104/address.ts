/**
 * IEC 60870-5-104 configuration in Baetyl's keys (`visitor.iec104`, `accessConfig.iec104`) plus
 * fieldgate's optional additions. Baetyl key names are never renamed.
 *
 * A point's IOA is Baetyl's `pointNum + <pointType>Offset + <pointType> start`, the starts being
 * those of baetyl-gateway-sdk's IEC 104 demo (`DI_Start` 0x1, `AI_Start` 0x4001, `PI_Start` 0x6401,
 * `DO_Start` 0x6001, `AO_Start` 0x6201), overridable with `starts`. A plain `ioa` skips that sum.
 */
import { baseConnectionShape, duration, intOrHex, z } from '../sdk/index.ts';
import type { Point } from '../sdk/index.ts';
import { POINT_TYPES } from '../../devicemodel/types.ts';
import { COMMAND_TYPES, MONITOR_TYPES, TypeId, typeName } from './codec/types.ts';
import type { Family, TypeName } from './codec/types.ts';

/** Baetyl's point types: analog/digital inputs and outputs, and pulse (integrated totals) inputs. */
export const POINT_KINDS = ['AI', 'DI', 'AO', 'DO', 'PI'] as const;
export type PointKind = (typeof POINT_KINDS)[number];

/** Baetyl's default start address of each point type (baetyl-gateway-sdk demo/golang/iec104). */
export const DEFAULT_STARTS: Readonly<Record<PointKind, number>> = Object.freeze({ DI: 0x1, AI: 0x4001, PI: 0x6401, DO: 0x6001, AO: 0x6201 });

/** Monitoring families each point type accepts when no `typeId` pins one. */
export const KIND_FAMILIES: Readonly<Record<PointKind, readonly Family[]>> = {
  DI: ['single', 'double'],
  DO: ['single', 'double'],
  AI: ['normalized', 'scaled', 'float', 'step', 'bitstring'],
  AO: ['normalized', 'scaled', 'float', 'step', 'bitstring'],
  PI: ['counter'],
};

/** A type id written as a number or a mnemonic (`13` or `M_ME_NC_1`), checked against a set. */
function typeRef(allowed: ReadonlyMap<number, unknown>, what: string) {
  return z.union([z.number().int(), z.string()]).transform((v, ctx) => {
    const id = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v.trim()) : (TypeId as Record<string, number>)[v.trim().toUpperCase() as TypeName];
    if (id === undefined || !allowed.has(id)) {
      const names = [...allowed.keys()].map((k) => `${k} ${typeName(k)}`).join(', ');
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a ${what} type; allowed: ${names}` });
      return z.NEVER;
    }
    return id;
  });
}

/** `visitor.iec104` of one access-template property. */
export const iec104AddressSchema = z
  .strictObject({
    // Baetyl's keys
    pointNum: z.number().int().min(0).optional(),
    pointType: z.enum(POINT_KINDS).optional(),
    type: z.enum(POINT_TYPES).optional(),
    // fieldgate's additions
    /** The information object address itself (overrides pointNum + offset + start). */
    ioa: intOrHex().pipe(z.number().int().min(0).max(0xffffff)).optional(),
    /** Expected monitoring type (number or mnemonic); data of another family is reported as an error. */
    typeId: typeRef(MONITOR_TYPES, 'monitoring').optional(),
    /** Command type used by writes (45..51, 58..64); defaults by pointType (DO: 45, AO: 50). */
    commandType: typeRef(COMMAND_TYPES, 'command').optional(),
    /** Select before operate for this point; default from the connection's `sbo`. */
    sbo: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.pointNum === undefined) === (v.ioa === undefined)) ctx.addIssue({ code: 'custom', message: 'give pointNum (with pointType) or ioa, not both' });
    if (v.pointNum !== undefined && v.pointType === undefined) ctx.addIssue({ code: 'custom', path: ['pointType'], message: 'pointNum needs pointType (AI, DI, AO, DO or PI)' });
    if (v.pointType === undefined && v.typeId === undefined) ctx.addIssue({ code: 'custom', message: 'give pointType or typeId so that the expected data is known' });
    if (v.pointType !== undefined && v.typeId !== undefined) {
      const fam = MONITOR_TYPES.get(v.typeId)!.family;
      if (!KIND_FAMILIES[v.pointType].includes(fam)) ctx.addIssue({ code: 'custom', path: ['typeId'], message: `${typeName(v.typeId)} (${fam}) is not a ${v.pointType} type; ${v.pointType} takes ${KIND_FAMILIES[v.pointType].join('/')}` });
    }
  })
  .transform((v) => {
    const families: readonly Family[] = v.typeId !== undefined ? [MONITOR_TYPES.get(v.typeId)!.family] : KIND_FAMILIES[v.pointType!];
    return {
      pointNum: v.pointNum,
      pointType: v.pointType,
      ioa: v.ioa,
      type: v.type,
      typeId: v.typeId,
      /** Monitoring families whose data this point accepts. */
      families,
      commandType: v.commandType ?? defaultCommand(v.pointType, families),
      sbo: v.sbo,
    };
  });
export type Iec104Address = z.output<typeof iec104AddressSchema>;

function defaultCommand(kind: PointKind | undefined, families: readonly Family[]): number | undefined {
  if (kind === 'DO') return families.length === 1 && families[0] === 'double' ? TypeId.C_DC_NA_1 : TypeId.C_SC_NA_1;
  if (kind === 'AO') {
    if (families.length > 1) return TypeId.C_SE_NC_1;
    switch (families[0]) {
      case 'normalized':
        return TypeId.C_SE_NA_1;
      case 'scaled':
        return TypeId.C_SE_NB_1;
      case 'step':
        return TypeId.C_RC_NA_1;
      case 'bitstring':
        return TypeId.C_BO_NA_1;
      default:
        return TypeId.C_SE_NC_1;
    }
  }
  return undefined;
}

/** `host:port` (or `[v6]:port`, optionally `tcp://`-prefixed); port 2404 when absent. */
const endpoint = z.string().transform((v, ctx) => {
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/\s]+)(?::(\d{1,5}))?\/?$/.exec(v.trim());
  const port = m?.[2] === undefined ? 2404 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not host:port (e.g. 10.0.0.5:2404)` });
    return z.NEVER;
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
});
export type Endpoint = z.output<typeof endpoint>;

const offset = z.number().int().default(0);

/** `accessConfig.iec104` of one sub-device. */
export const iec104ConnectionSchema = z
  .strictObject({
    // Baetyl's keys (interval default 900 s as in Baetyl's IEC 104 demo)
    id: z.union([z.string(), z.number()]).optional(),
    ...baseConnectionShape({ interval: 900_000, timeout: 10_000 }),
    endpoint,
    aiOffset: offset,
    diOffset: offset,
    aoOffset: offset,
    doOffset: offset,
    /** Not in baetyl-go's struct but in the cloud's; accepted for PI points. */
    piOffset: offset,
    // fieldgate's additions
    /** Redundant controlled stations tried in turn after `endpoint` when it fails. */
    endpoints: z.array(endpoint).default([]),
    commonAddress: z.number().int().min(0).max(0xffff).default(1),
    /** Originator address sent in the second COT octet. */
    originator: z.number().int().min(0).max(255).default(0),
    k: z.number().int().min(1).max(32767).default(12),
    w: z.number().int().min(1).max(32767).default(8),
    t0: duration().default(30_000),
    t1: duration().default(15_000),
    t2: duration().default(10_000),
    t3: duration().default(20_000),
    cotSize: z.union([z.literal(1), z.literal(2)]).default(2),
    caSize: z.union([z.literal(1), z.literal(2)]).default(2),
    ioaSize: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(3),
    /** General interrogation period; default = interval; 0 = only after STARTDT. */
    interrogationInterval: duration().optional(),
    /** Counter interrogation period; 0 (default) = never. */
    counterInterval: duration().default(0),
    /** What counter interrogation asks (QCC FRZ): read, freeze, freeze and reset, reset. */
    counterFreeze: z.enum(['read', 'freeze', 'freezeReset', 'reset']).default('read'),
    /** Send clock synchronization (C_CS_NA_1) after STARTDT. */
    clockSync: z.boolean().default(false),
    /** Clock synchronization period; 0 = only after STARTDT. */
    clockSyncInterval: duration().default(0),
    /** Select before operate by default (Baetyl's demo selects first). */
    sbo: z.boolean().default(true),
    /** After an execute's ACTCON, also wait for ACTTERM (some stations never send it). */
    waitTermination: z.boolean().default(true),
    /** Minutes east of UTC of the stations' CP56Time2a clock (0 = UTC). */
    timeOffset: z.number().int().min(-1440).max(1440).default(0),
    /** Overrides of Baetyl's start addresses. */
    starts: z.strictObject({ DI: z.number().int().min(0).optional(), AI: z.number().int().min(0).optional(), PI: z.number().int().min(0).optional(), DO: z.number().int().min(0).optional(), AO: z.number().int().min(0).optional() }).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.w > v.k) ctx.addIssue({ code: 'custom', path: ['w'], message: `w (${v.w}) must not exceed k (${v.k}); the standard recommends w ≤ 2/3 k` });
    if (v.t2 >= v.t1) ctx.addIssue({ code: 'custom', path: ['t2'], message: `t2 (${v.t2} ms) must be shorter than t1 (${v.t1} ms)` });
    if (v.commonAddress >= 256 ** v.caSize) ctx.addIssue({ code: 'custom', path: ['commonAddress'], message: `commonAddress ${v.commonAddress} does not fit caSize ${v.caSize}` });
  })
  .transform((v) => ({ ...v, interrogationInterval: v.interrogationInterval ?? v.interval, starts: { ...DEFAULT_STARTS, ...v.starts } }));
export type Iec104Connection = z.output<typeof iec104ConnectionSchema>;

/** The IOA of a point on a device: `ioa`, or `pointNum + offset + start` (Baetyl's rule). */
export function resolveIoa(a: Iec104Address, c: Iec104Connection): number {
  if (a.ioa !== undefined) return a.ioa;
  const kind = a.pointType!;
  const off = { AI: c.aiOffset, DI: c.diOffset, AO: c.aoOffset, DO: c.doOffset, PI: c.piOffset }[kind];
  return a.pointNum! + off + c.starts[kind];
}

/** Checks a point as a whole: visitor type against the property type, command against the type. */
export function checkIec104Point(point: Point<Iec104Address>): { path: (string | number)[]; message: string }[] {
  const a = point.address;
  const out: { path: (string | number)[]; message: string }[] = [];
  if (a.type !== undefined && a.type !== point.type) out.push({ path: ['visitor', 'iec104', 'type'], message: `visitor type ${a.type} differs from the property type ${point.type}` });
  if (point.type === 'string' && a.commandType !== undefined) out.push({ path: ['type'], message: 'a string point cannot be commanded' });
  const cmd = a.commandType === undefined ? undefined : COMMAND_TYPES.get(a.commandType);
  if (cmd !== undefined && (cmd.family === 'normalized' || cmd.family === 'scaled' || cmd.family === 'float' || cmd.family === 'bitstring') && point.type === 'bool') {
    out.push({ path: ['visitor', 'iec104', 'commandType'], message: `${typeName(a.commandType!)} sends a number; the property type is bool` });
  }
  return out;
}
