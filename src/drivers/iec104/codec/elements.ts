/**
 * Information elements of IEC 60870-5-101 §7.2.6 and the element layout of each supported type
 * (§7.3.1 monitor direction, §7.3.2 control direction, §7.3.4 system information in control
 * direction; IEC 60870-5-104 §8 adds the CP56Time2a command types 58..64 and C_TS_TA_1 107).
 * Pure: each layout reads and writes one element at an offset; the ASDU codec checks lengths.
 */
import { TypeId } from './types.ts';

/** Quality descriptor bits (QDS §7.2.6.3; SIQ §7.2.6.1 and DIQ §7.2.6.2 have all but OV). */
export interface QualityBits {
  /** IV: the value is invalid. */
  readonly invalid: boolean;
  /** NT: not topical (not updated successfully). */
  readonly notTopical: boolean;
  /** SB: substituted by an operator or automatic source. */
  readonly substituted: boolean;
  /** BL: blocked for transmission. */
  readonly blocked: boolean;
  /** OV: overflow (QDS only). */
  readonly overflow: boolean;
}

/** All quality bits clear. */
export const GOOD: QualityBits = Object.freeze({ invalid: false, notTopical: false, substituted: false, blocked: false, overflow: false });

/** One information element (the part of an information object after its address). */
export type Element =
  // monitor direction
  | { readonly kind: 'single'; readonly value: boolean; readonly quality: QualityBits }
  /** DPI: 0 intermediate, 1 off, 2 on, 3 indeterminate (§7.2.6.2). */
  | { readonly kind: 'double'; readonly value: number; readonly quality: QualityBits }
  /** VTI: value −64..63, T = transient (§7.2.6.5). */
  | { readonly kind: 'step'; readonly value: number; readonly transient: boolean; readonly quality: QualityBits }
  /** BSI: 32 bits, as an unsigned number (§7.2.6.13). */
  | { readonly kind: 'bitstring'; readonly value: number; readonly quality: QualityBits }
  /** NVA: raw int16; the value is raw / 32768 (§7.2.6.6). */
  | { readonly kind: 'normalized'; readonly raw: number; readonly quality: QualityBits }
  /** SVA: int16 (§7.2.6.7). */
  | { readonly kind: 'scaled'; readonly value: number; readonly quality: QualityBits }
  /** IEEE STD 754 short floating point (§7.2.6.8). */
  | { readonly kind: 'float'; readonly value: number; readonly quality: QualityBits }
  /** BCR: int32 counter reading, sequence number 0..31, CY carry, CA adjusted, IV (§7.2.6.9). */
  | { readonly kind: 'counter'; readonly value: number; readonly sequence: number; readonly carry: boolean; readonly adjusted: boolean; readonly invalid: boolean }
  // control direction: `select` is S/E (1 = select, 0 = execute); `qualifier` is QU (0..31) or QL (0..127)
  | { readonly kind: 'singleCommand'; readonly value: boolean; readonly qualifier: number; readonly select: boolean }
  /** DCS: 1 off, 2 on (0 and 3 not permitted) (§7.2.6.16). */
  | { readonly kind: 'doubleCommand'; readonly value: number; readonly qualifier: number; readonly select: boolean }
  /** RCS: 1 next step lower, 2 next step higher (§7.2.6.17). */
  | { readonly kind: 'regulatingCommand'; readonly value: number; readonly qualifier: number; readonly select: boolean }
  | { readonly kind: 'setpointNormalized'; readonly raw: number; readonly qualifier: number; readonly select: boolean }
  | { readonly kind: 'setpointScaled'; readonly value: number; readonly qualifier: number; readonly select: boolean }
  | { readonly kind: 'setpointFloat'; readonly value: number; readonly qualifier: number; readonly select: boolean }
  | { readonly kind: 'bitstringCommand'; readonly value: number }
  // system information
  /** COI: cause of initialization 0..127, bit 7 = after change of local parameters (§7.2.6.21). */
  | { readonly kind: 'endOfInit'; readonly coi: number }
  /** QOI: 20 station, 21..36 groups (§7.2.6.22). */
  | { readonly kind: 'interrogation'; readonly qoi: number }
  /** QCC: RQT 0..63 (5 = general), FRZ 0..3 (0 = read) (§7.2.6.23). */
  | { readonly kind: 'counterInterrogation'; readonly rqt: number; readonly frz: number }
  /** C_CS_NA_1: the element is the time tag alone (§7.3.4.4). */
  | { readonly kind: 'clockSync' }
  /** C_TS_TA_1: TSC, a 16-bit test sequence counter, then the time tag (IEC 60870-5-104 §8). */
  | { readonly kind: 'test'; readonly counter: number };

export type ElementKind = Element['kind'];

/** How one type lays out its element: octets before the optional time tag, and the codec. */
export interface Layout {
  readonly kind: ElementKind;
  /** Octets of the element without the time tag. */
  readonly size: number;
  /** A CP56Time2a follows the element. */
  readonly timeTagged: boolean;
  read(b: Uint8Array, o: number): Element;
  /** Writes the element; the caller checks `el.kind === kind` first. */
  write(el: Element, b: Uint8Array, o: number): void;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const i16 = (b: Uint8Array, o: number) => dv(b).getInt16(o, true);
const setI16 = (b: Uint8Array, o: number, v: number) => dv(b).setInt16(o, v, true);

/** Reads QDS (§7.2.6.3). */
function readQds(q: number): QualityBits {
  return { overflow: (q & 0x01) !== 0, blocked: (q & 0x10) !== 0, substituted: (q & 0x20) !== 0, notTopical: (q & 0x40) !== 0, invalid: (q & 0x80) !== 0 };
}
/** Writes QDS; SIQ/DIQ use the same high bits and ignore `overflow`. */
function qds(q: QualityBits, withOverflow = true): number {
  return (withOverflow && q.overflow ? 0x01 : 0) | (q.blocked ? 0x10 : 0) | (q.substituted ? 0x20 : 0) | (q.notTopical ? 0x40 : 0) | (q.invalid ? 0x80 : 0);
}
function readQd(q: number): QualityBits {
  return { ...readQds(q), overflow: false };
}

type Narrow<K extends ElementKind> = Extract<Element, { kind: K }>;
function layout<K extends ElementKind>(kind: K, size: number, read: (b: Uint8Array, o: number) => Narrow<K>, write: (el: Narrow<K>, b: Uint8Array, o: number) => void): [Layout, Layout] {
  const base = { kind, size, read, write: write as (el: Element, b: Uint8Array, o: number) => void };
  return [{ ...base, timeTagged: false }, { ...base, timeTagged: true }];
}

/** S/E bit 7 + qualifier bits 2..6 of SCO/DCO/RCO (§7.2.6.15–17). */
const commandOctet = (state: number, qu: number, select: boolean) => (state & 0x03) | ((qu & 0x1f) << 2) | (select ? 0x80 : 0);

const [SP, SP_T] = layout('single', 1, (b, o) => ({ kind: 'single', value: (b[o]! & 0x01) !== 0, quality: readQd(b[o]!) }), (el, b, o) => {
  b[o] = (el.value ? 1 : 0) | qds(el.quality, false);
});
const [DP, DP_T] = layout('double', 1, (b, o) => ({ kind: 'double', value: b[o]! & 0x03, quality: readQd(b[o]!) }), (el, b, o) => {
  b[o] = (el.value & 0x03) | qds(el.quality, false);
});
const [ST, ST_T] = layout('step', 2, (b, o) => {
  const v = b[o]! & 0x7f;
  return { kind: 'step', value: v >= 64 ? v - 128 : v, transient: (b[o]! & 0x80) !== 0, quality: readQds(b[o + 1]!) };
}, (el, b, o) => {
  b[o] = (el.value & 0x7f) | (el.transient ? 0x80 : 0);
  b[o + 1] = qds(el.quality);
});
const [BO, BO_T] = layout('bitstring', 5, (b, o) => ({ kind: 'bitstring', value: dv(b).getUint32(o, true), quality: readQds(b[o + 4]!) }), (el, b, o) => {
  dv(b).setUint32(o, el.value >>> 0, true);
  b[o + 4] = qds(el.quality);
});
const [NA, NA_T] = layout('normalized', 3, (b, o) => ({ kind: 'normalized', raw: i16(b, o), quality: readQds(b[o + 2]!) }), (el, b, o) => {
  setI16(b, o, el.raw);
  b[o + 2] = qds(el.quality);
});
const [NB, NB_T] = layout('scaled', 3, (b, o) => ({ kind: 'scaled', value: i16(b, o), quality: readQds(b[o + 2]!) }), (el, b, o) => {
  setI16(b, o, el.value);
  b[o + 2] = qds(el.quality);
});
const [NC, NC_T] = layout('float', 5, (b, o) => ({ kind: 'float', value: dv(b).getFloat32(o, true), quality: readQds(b[o + 4]!) }), (el, b, o) => {
  dv(b).setFloat32(o, el.value, true);
  b[o + 4] = qds(el.quality);
});
const [IT, IT_T] = layout('counter', 5, (b, o) => {
  const s = b[o + 4]!;
  return { kind: 'counter', value: dv(b).getInt32(o, true), sequence: s & 0x1f, carry: (s & 0x20) !== 0, adjusted: (s & 0x40) !== 0, invalid: (s & 0x80) !== 0 };
}, (el, b, o) => {
  dv(b).setInt32(o, el.value | 0, true);
  b[o + 4] = (el.sequence & 0x1f) | (el.carry ? 0x20 : 0) | (el.adjusted ? 0x40 : 0) | (el.invalid ? 0x80 : 0);
});
const [SC, SC_T] = layout('singleCommand', 1, (b, o) => ({ kind: 'singleCommand', value: (b[o]! & 0x01) !== 0, qualifier: (b[o]! >> 2) & 0x1f, select: (b[o]! & 0x80) !== 0 }), (el, b, o) => {
  b[o] = commandOctet(el.value ? 1 : 0, el.qualifier, el.select);
});
const [DC, DC_T] = layout('doubleCommand', 1, (b, o) => ({ kind: 'doubleCommand', value: b[o]! & 0x03, qualifier: (b[o]! >> 2) & 0x1f, select: (b[o]! & 0x80) !== 0 }), (el, b, o) => {
  b[o] = commandOctet(el.value, el.qualifier, el.select);
});
const [RC, RC_T] = layout('regulatingCommand', 1, (b, o) => ({ kind: 'regulatingCommand', value: b[o]! & 0x03, qualifier: (b[o]! >> 2) & 0x1f, select: (b[o]! & 0x80) !== 0 }), (el, b, o) => {
  b[o] = commandOctet(el.value, el.qualifier, el.select);
});
/** QOS (§7.2.6.39): QL bits 0..6, S/E bit 7. */
const qos = (ql: number, select: boolean) => (ql & 0x7f) | (select ? 0x80 : 0);
const [SEA, SEA_T] = layout('setpointNormalized', 3, (b, o) => ({ kind: 'setpointNormalized', raw: i16(b, o), qualifier: b[o + 2]! & 0x7f, select: (b[o + 2]! & 0x80) !== 0 }), (el, b, o) => {
  setI16(b, o, el.raw);
  b[o + 2] = qos(el.qualifier, el.select);
});
const [SEB, SEB_T] = layout('setpointScaled', 3, (b, o) => ({ kind: 'setpointScaled', value: i16(b, o), qualifier: b[o + 2]! & 0x7f, select: (b[o + 2]! & 0x80) !== 0 }), (el, b, o) => {
  setI16(b, o, el.value);
  b[o + 2] = qos(el.qualifier, el.select);
});
const [SEC, SEC_T] = layout('setpointFloat', 5, (b, o) => ({ kind: 'setpointFloat', value: dv(b).getFloat32(o, true), qualifier: b[o + 4]! & 0x7f, select: (b[o + 4]! & 0x80) !== 0 }), (el, b, o) => {
  dv(b).setFloat32(o, el.value, true);
  b[o + 4] = qos(el.qualifier, el.select);
});
const [BC, BC_T] = layout('bitstringCommand', 4, (b, o) => ({ kind: 'bitstringCommand', value: dv(b).getUint32(o, true) }), (el, b, o) => {
  dv(b).setUint32(o, el.value >>> 0, true);
});
const [EI] = layout('endOfInit', 1, (b, o) => ({ kind: 'endOfInit', coi: b[o]! }), (el, b, o) => {
  b[o] = el.coi & 0xff;
});
const [IC] = layout('interrogation', 1, (b, o) => ({ kind: 'interrogation', qoi: b[o]! }), (el, b, o) => {
  b[o] = el.qoi & 0xff;
});
const [CI] = layout('counterInterrogation', 1, (b, o) => ({ kind: 'counterInterrogation', rqt: b[o]! & 0x3f, frz: b[o]! >> 6 }), (el, b, o) => {
  b[o] = (el.rqt & 0x3f) | ((el.frz & 0x03) << 6);
});
const [, CS_T] = layout('clockSync', 0, () => ({ kind: 'clockSync' }), () => {});
const [, TS_T] = layout('test', 2, (b, o) => ({ kind: 'test', counter: dv(b).getUint16(o, true) }), (el, b, o) => {
  dv(b).setUint16(o, el.counter & 0xffff, true);
});

/** The layout of every supported type id. */
export const LAYOUTS: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [TypeId.M_SP_NA_1, SP],
  [TypeId.M_DP_NA_1, DP],
  [TypeId.M_ST_NA_1, ST],
  [TypeId.M_BO_NA_1, BO],
  [TypeId.M_ME_NA_1, NA],
  [TypeId.M_ME_NB_1, NB],
  [TypeId.M_ME_NC_1, NC],
  [TypeId.M_IT_NA_1, IT],
  [TypeId.M_SP_TB_1, SP_T],
  [TypeId.M_DP_TB_1, DP_T],
  [TypeId.M_ST_TB_1, ST_T],
  [TypeId.M_BO_TB_1, BO_T],
  [TypeId.M_ME_TD_1, NA_T],
  [TypeId.M_ME_TE_1, NB_T],
  [TypeId.M_ME_TF_1, NC_T],
  [TypeId.M_IT_TB_1, IT_T],
  [TypeId.C_SC_NA_1, SC],
  [TypeId.C_DC_NA_1, DC],
  [TypeId.C_RC_NA_1, RC],
  [TypeId.C_SE_NA_1, SEA],
  [TypeId.C_SE_NB_1, SEB],
  [TypeId.C_SE_NC_1, SEC],
  [TypeId.C_BO_NA_1, BC],
  [TypeId.C_SC_TA_1, SC_T],
  [TypeId.C_DC_TA_1, DC_T],
  [TypeId.C_RC_TA_1, RC_T],
  [TypeId.C_SE_TA_1, SEA_T],
  [TypeId.C_SE_TB_1, SEB_T],
  [TypeId.C_SE_TC_1, SEC_T],
  [TypeId.C_BO_TA_1, BC_T],
  [TypeId.M_EI_NA_1, EI],
  [TypeId.C_IC_NA_1, IC],
  [TypeId.C_CI_NA_1, CI],
  [TypeId.C_CS_NA_1, CS_T],
  [TypeId.C_TS_TA_1, TS_T],
]);
