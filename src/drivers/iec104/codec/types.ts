/**
 * Type identifications and causes of transmission of IEC 60870-5-101 §7.2.1 / §7.2.3, the subset
 * that IEC 60870-5-104 §8 (selection of ASDUs) allows and fieldgate supports. Pure data.
 */

/** Type identification values (IEC 60870-5-101 §7.2.1.1, IEC 60870-5-104 §8). */
export const TypeId = {
  // process information in monitor direction
  M_SP_NA_1: 1,
  M_DP_NA_1: 3,
  M_ST_NA_1: 5,
  M_BO_NA_1: 7,
  M_ME_NA_1: 9,
  M_ME_NB_1: 11,
  M_ME_NC_1: 13,
  M_IT_NA_1: 15,
  M_SP_TB_1: 30,
  M_DP_TB_1: 31,
  M_ST_TB_1: 32,
  M_BO_TB_1: 33,
  M_ME_TD_1: 34,
  M_ME_TE_1: 35,
  M_ME_TF_1: 36,
  M_IT_TB_1: 37,
  // process information in control direction
  C_SC_NA_1: 45,
  C_DC_NA_1: 46,
  C_RC_NA_1: 47,
  C_SE_NA_1: 48,
  C_SE_NB_1: 49,
  C_SE_NC_1: 50,
  C_BO_NA_1: 51,
  C_SC_TA_1: 58,
  C_DC_TA_1: 59,
  C_RC_TA_1: 60,
  C_SE_TA_1: 61,
  C_SE_TB_1: 62,
  C_SE_TC_1: 63,
  C_BO_TA_1: 64,
  // system information
  M_EI_NA_1: 70,
  C_IC_NA_1: 100,
  C_CI_NA_1: 101,
  C_CS_NA_1: 103,
  C_TS_TA_1: 107,
} as const;
export type TypeName = keyof typeof TypeId;
export type TypeIdValue = (typeof TypeId)[TypeName];

const NAMES = new Map<number, TypeName>(Object.entries(TypeId).map(([k, v]) => [v, k as TypeName]));

/** The mnemonic of a type id (`M_ME_NC_1`), or `type <n>` for one fieldgate does not know. */
export function typeName(id: number): string {
  return NAMES.get(id) ?? `type ${id}`;
}

/** True when fieldgate can decode and encode this type id. */
export function isKnownType(id: number): id is TypeIdValue {
  return NAMES.has(id);
}

/** Cause of transmission values (IEC 60870-5-101 §7.2.3). */
export const Cot = {
  PERIODIC: 1,
  BACKGROUND: 2,
  SPONTANEOUS: 3,
  INITIALIZED: 4,
  REQUEST: 5,
  ACTIVATION: 6,
  ACTIVATION_CON: 7,
  DEACTIVATION: 8,
  DEACTIVATION_CON: 9,
  ACTIVATION_TERM: 10,
  RETURN_REMOTE: 11,
  RETURN_LOCAL: 12,
  /** 20 = station interrogation; 21..36 = group 1..16. */
  INTERROGATED_BY_STATION: 20,
  /** 37 = general counter request; 38..41 = counter group 1..4. */
  REQUESTED_BY_GENERAL_COUNTER: 37,
  UNKNOWN_TYPE_ID: 44,
  UNKNOWN_COT: 45,
  UNKNOWN_CA: 46,
  UNKNOWN_IOA: 47,
} as const;

/** The mnemonic of a cause of transmission, for messages. */
export function cotName(cause: number): string {
  for (const [k, v] of Object.entries(Cot)) if (v === cause) return k.toLowerCase();
  if (cause > 20 && cause <= 36) return `interrogated_by_group_${cause - 20}`;
  if (cause > 37 && cause <= 41) return `requested_by_counter_group_${cause - 37}`;
  return `cause ${cause}`;
}

/** Qualifier of interrogation: station interrogation (IEC 60870-5-101 §7.2.6.22). */
export const QOI_STATION = 20;
/** Qualifier of counter interrogation RQT: general request counter (IEC 60870-5-101 §7.2.6.23). */
export const QCC_RQT_GENERAL = 5;

/** How monitoring types group into the point families a visitor's `pointType` names. */
export type Family = 'single' | 'double' | 'step' | 'bitstring' | 'normalized' | 'scaled' | 'float' | 'counter';

/** The family and time-tag form of each monitoring type. */
export const MONITOR_TYPES: ReadonlyMap<number, { family: Family; timeTagged: boolean }> = new Map([
  [TypeId.M_SP_NA_1, { family: 'single', timeTagged: false }],
  [TypeId.M_DP_NA_1, { family: 'double', timeTagged: false }],
  [TypeId.M_ST_NA_1, { family: 'step', timeTagged: false }],
  [TypeId.M_BO_NA_1, { family: 'bitstring', timeTagged: false }],
  [TypeId.M_ME_NA_1, { family: 'normalized', timeTagged: false }],
  [TypeId.M_ME_NB_1, { family: 'scaled', timeTagged: false }],
  [TypeId.M_ME_NC_1, { family: 'float', timeTagged: false }],
  [TypeId.M_IT_NA_1, { family: 'counter', timeTagged: false }],
  [TypeId.M_SP_TB_1, { family: 'single', timeTagged: true }],
  [TypeId.M_DP_TB_1, { family: 'double', timeTagged: true }],
  [TypeId.M_ST_TB_1, { family: 'step', timeTagged: true }],
  [TypeId.M_BO_TB_1, { family: 'bitstring', timeTagged: true }],
  [TypeId.M_ME_TD_1, { family: 'normalized', timeTagged: true }],
  [TypeId.M_ME_TE_1, { family: 'scaled', timeTagged: true }],
  [TypeId.M_ME_TF_1, { family: 'float', timeTagged: true }],
  [TypeId.M_IT_TB_1, { family: 'counter', timeTagged: true }],
]);

/** Command types and their time-tagged twins (IEC 60870-5-104 §8: types 58..64). */
export const COMMAND_TYPES: ReadonlyMap<number, { family: 'single' | 'double' | 'regulating' | 'normalized' | 'scaled' | 'float' | 'bitstring'; timeTagged: boolean }> = new Map([
  [TypeId.C_SC_NA_1, { family: 'single', timeTagged: false }],
  [TypeId.C_DC_NA_1, { family: 'double', timeTagged: false }],
  [TypeId.C_RC_NA_1, { family: 'regulating', timeTagged: false }],
  [TypeId.C_SE_NA_1, { family: 'normalized', timeTagged: false }],
  [TypeId.C_SE_NB_1, { family: 'scaled', timeTagged: false }],
  [TypeId.C_SE_NC_1, { family: 'float', timeTagged: false }],
  [TypeId.C_BO_NA_1, { family: 'bitstring', timeTagged: false }],
  [TypeId.C_SC_TA_1, { family: 'single', timeTagged: true }],
  [TypeId.C_DC_TA_1, { family: 'double', timeTagged: true }],
  [TypeId.C_RC_TA_1, { family: 'regulating', timeTagged: true }],
  [TypeId.C_SE_TA_1, { family: 'normalized', timeTagged: true }],
  [TypeId.C_SE_TB_1, { family: 'scaled', timeTagged: true }],
  [TypeId.C_SE_TC_1, { family: 'float', timeTagged: true }],
  [TypeId.C_BO_TA_1, { family: 'bitstring', timeTagged: true }],
]);

/** Decoder result used by every codec in this folder. */
export type Decoded<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: CodecError };

/** Why bytes could not be decoded; `offset` is relative to the buffer handed to the decoder. */
export interface CodecError {
  readonly code: 'BadStart' | 'BadLength' | 'BadControl' | 'UnknownType' | 'BadValue' | 'Truncated' | 'TrailingBytes';
  readonly message: string;
  readonly offset: number;
}

/** Builds an error result. */
export function codecError<T>(code: CodecError['code'], message: string, offset: number): Decoded<T> {
  return { kind: 'error', error: { code, message, offset } };
}
