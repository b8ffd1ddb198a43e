/**
 * The controlled station's point table: what each point holds, how it is encoded as a
 * monitoring element, and how a command changes it. Pure; the station wires it to connections.
 */
import { GOOD } from '../../src/drivers/iec104/codec/elements.ts';
import type { Element, QualityBits } from '../../src/drivers/iec104/codec/elements.ts';
import { COMMAND_TYPES, MONITOR_TYPES, TypeId } from '../../src/drivers/iec104/codec/types.ts';
import type { Family, TypeName } from '../../src/drivers/iec104/codec/types.ts';

/** A point value: bool for single points, numbers otherwise (normalized values as −1..1). */
export type SimValue = number | boolean;

/** One point the simulator serves. */
export interface SimPointSpec {
  readonly ioa: number;
  /** Monitoring type id or mnemonic; a time-tagged type (30..37) sends time tags spontaneously. */
  readonly type: number | TypeName;
  /** Initial value (default false / 0). */
  readonly value?: SimValue;
  /** Value generator, called every `period` ms with the time and the previous value; a changed value is sent spontaneously. */
  readonly generator?: (now: number, previous: SimValue) => SimValue;
  readonly period?: number;
  readonly quality?: Partial<QualityBits>;
  /** Accept commands on this IOA: `true` = the command type of the point's family, or a command type id. */
  readonly command?: boolean | number;
  /** Execute only after a select (SbO) on this IOA. */
  readonly selectRequired?: boolean;
}

/** A point as the station keeps it. */
export interface SimPoint {
  readonly ioa: number;
  readonly typeId: number;
  readonly family: Family;
  readonly timeTagged: boolean;
  value: SimValue;
  quality: QualityBits;
  /** Sequence number of integrated totals (BCR), incremented per counter interrogation. */
  counterSeq: number;
  /** Set by a command or `setValue`: the point no longer follows its generator. */
  held: boolean;
  readonly commandTypes: ReadonlySet<number>;
  readonly selectRequired: boolean;
  readonly spec: SimPointSpec;
}

/** The command types that act on each monitoring family (plain and time-tagged). */
const COMMANDS_FOR: Readonly<Record<Family, readonly number[]>> = {
  single: [TypeId.C_SC_NA_1, TypeId.C_SC_TA_1],
  double: [TypeId.C_DC_NA_1, TypeId.C_DC_TA_1],
  step: [TypeId.C_RC_NA_1, TypeId.C_RC_TA_1],
  bitstring: [TypeId.C_BO_NA_1, TypeId.C_BO_TA_1],
  normalized: [TypeId.C_SE_NA_1, TypeId.C_SE_TA_1],
  scaled: [TypeId.C_SE_NB_1, TypeId.C_SE_TB_1],
  float: [TypeId.C_SE_NC_1, TypeId.C_SE_TC_1],
  counter: [],
};

/** Non-time-tagged twin of a monitoring type (interrogation answers carry no time tags). */
export const UNTAGGED: Readonly<Record<Family, number>> = {
  single: TypeId.M_SP_NA_1,
  double: TypeId.M_DP_NA_1,
  step: TypeId.M_ST_NA_1,
  bitstring: TypeId.M_BO_NA_1,
  normalized: TypeId.M_ME_NA_1,
  scaled: TypeId.M_ME_NB_1,
  float: TypeId.M_ME_NC_1,
  counter: TypeId.M_IT_NA_1,
};

/** Time-tagged (CP56Time2a) twin of a monitoring type, as stations send spontaneous data. */
export const TAGGED: Readonly<Record<Family, number>> = {
  single: TypeId.M_SP_TB_1,
  double: TypeId.M_DP_TB_1,
  step: TypeId.M_ST_TB_1,
  bitstring: TypeId.M_BO_TB_1,
  normalized: TypeId.M_ME_TD_1,
  scaled: TypeId.M_ME_TE_1,
  float: TypeId.M_ME_TF_1,
  counter: TypeId.M_IT_TB_1,
};

/** Builds a point from its spec; throws on an unknown type (a test bug). */
export function makePoint(spec: SimPointSpec): SimPoint {
  const typeId = typeof spec.type === 'number' ? spec.type : TypeId[spec.type];
  const info = MONITOR_TYPES.get(typeId);
  if (info === undefined) throw new RangeError(`IOA ${spec.ioa}: ${String(spec.type)} is not a monitoring type`);
  let commandTypes: number[] = [];
  if (spec.command === true) commandTypes = [...COMMANDS_FOR[info.family]];
  else if (typeof spec.command === 'number') {
    const c = COMMAND_TYPES.get(spec.command);
    if (c === undefined) throw new RangeError(`IOA ${spec.ioa}: ${spec.command} is not a command type`);
    commandTypes = [spec.command];
  }
  return {
    ioa: spec.ioa,
    typeId,
    family: info.family,
    timeTagged: info.timeTagged,
    value: spec.value ?? (info.family === 'single' ? false : 0),
    quality: { ...GOOD, ...spec.quality },
    counterSeq: 0,
    held: false,
    commandTypes: new Set(commandTypes),
    selectRequired: spec.selectRequired ?? false,
    spec,
  };
}

const n = (v: SimValue) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** The monitoring element of a point's current value. */
export function elementOf(p: SimPoint): Element {
  const q = p.quality;
  switch (p.family) {
    case 'single':
      return { kind: 'single', value: typeof p.value === 'boolean' ? p.value : p.value !== 0, quality: q };
    case 'double':
      return { kind: 'double', value: typeof p.value === 'boolean' ? (p.value ? 2 : 1) : n(p.value) & 3, quality: q };
    case 'step':
      return { kind: 'step', value: Math.max(-64, Math.min(63, Math.round(n(p.value)))), transient: false, quality: q };
    case 'bitstring':
      return { kind: 'bitstring', value: n(p.value) >>> 0, quality: q };
    case 'normalized':
      return { kind: 'normalized', raw: Math.max(-32768, Math.min(32767, Math.round(n(p.value) * 32768))), quality: q };
    case 'scaled':
      return { kind: 'scaled', value: Math.max(-32768, Math.min(32767, Math.round(n(p.value)))), quality: q };
    case 'float':
      return { kind: 'float', value: n(p.value), quality: q };
    case 'counter':
      return { kind: 'counter', value: Math.round(n(p.value)) | 0, sequence: p.counterSeq & 0x1f, carry: false, adjusted: false, invalid: q.invalid };
  }
}

/**
 * The value a command element asks for, or a reason to refuse it (a negative confirmation).
 * Regulating steps move a step position by one.
 */
export function commandValue(p: SimPoint, el: Element): SimValue | string {
  switch (el.kind) {
    case 'singleCommand':
      return p.family === 'single' ? el.value : el.value ? 1 : 0;
    case 'doubleCommand':
      if (el.value !== 1 && el.value !== 2) return `DCS ${el.value} not permitted`;
      return p.family === 'double' ? el.value : el.value === 2;
    case 'regulatingCommand':
      if (el.value !== 1 && el.value !== 2) return `RCS ${el.value} not permitted`;
      return n(p.value) + (el.value === 2 ? 1 : -1);
    case 'setpointNormalized':
      return el.raw / 32768;
    case 'setpointScaled':
    case 'setpointFloat':
    case 'bitstringCommand':
      return el.value;
    default:
      return `${el.kind} is not a command`;
  }
}
