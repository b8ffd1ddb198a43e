/**
 * BACnet numbers the driver needs, as plain data so that the driver's pure parts (schemas,
 * planning, value rules) load without @bacnet-js/client. Values are ASHRAE 135 enumerations
 * (clause 21, "BACnetObjectType", "BACnetPropertyIdentifier", "Error Class/Code", §20.2.1.4
 * application tags); @bacnet-js/client uses the same numbers.
 */

/** Object types by their standard name (ASHRAE 135 §21 BACnetObjectType). */
export const OBJECT_TYPES = {
  'analog-input': 0,
  'analog-output': 1,
  'analog-value': 2,
  'binary-input': 3,
  'binary-output': 4,
  'binary-value': 5,
  device: 8,
  'multi-state-input': 13,
  'multi-state-output': 14,
  'multi-state-value': 19,
  accumulator: 23,
  'bitstring-value': 39,
  'characterstring-value': 40,
  'integer-value': 45,
  'large-analog-value': 46,
  'positive-integer-value': 48,
} as const;
export type ObjectTypeName = keyof typeof OBJECT_TYPES;

/** Name of an object type number, or `type-<n>` for types without a name here. */
export function objectTypeName(type: number): string {
  for (const [name, n] of Object.entries(OBJECT_TYPES)) if (n === type) return name;
  return `type-${type}`;
}

/** Property identifiers by name (ASHRAE 135 §21 BACnetPropertyIdentifier). */
export const PROPERTY_IDS = {
  'active-text': 4,
  description: 28,
  'event-state': 36,
  'inactive-text': 46,
  'max-apdu-length-accepted': 62,
  'number-of-states': 74,
  'object-identifier': 75,
  'object-list': 76,
  'object-name': 77,
  'object-type': 79,
  'out-of-service': 81,
  'present-value': 85,
  'priority-array': 87,
  'protocol-services-supported': 97,
  reliability: 103,
  'relinquish-default': 104,
  'segmentation-supported': 107,
  'state-text': 110,
  'status-flags': 111,
  units: 117,
  'vendor-identifier': 120,
  'vendor-name': 121,
  'max-segments-accepted': 167,
} as const;
export type PropertyName = keyof typeof PROPERTY_IDS;

export const PROP = {
  maxApdu: 62,
  objectList: 76,
  objectName: 77,
  outOfService: 81,
  presentValue: 85,
  priorityArray: 87,
  servicesSupported: 97,
  relinquishDefault: 104,
  segmentation: 107,
  statusFlags: 111,
  units: 117,
  maxSegments: 167,
} as const;

/** Application tags (ASHRAE 135 §20.2.1.4). */
export const TAG = {
  NULL: 0,
  BOOLEAN: 1,
  UNSIGNED: 2,
  SIGNED: 3,
  REAL: 4,
  DOUBLE: 5,
  OCTET_STRING: 6,
  CHARACTER_STRING: 7,
  BIT_STRING: 8,
  ENUMERATED: 9,
  DATE: 10,
  TIME: 11,
  OBJECT_ID: 12,
  /** @bacnet-js/client's pseudo tag for a per-property error inside a ReadPropertyMultiple ack. */
  ERROR: 105,
} as const;

/** Error classes (ASHRAE 135 §18, BACnetErrorClass). */
export const ERROR_CLASS = { DEVICE: 0, OBJECT: 1, PROPERTY: 2, RESOURCES: 3, SECURITY: 4, SERVICES: 5, VT: 6, COMMUNICATION: 7 } as const;

/** The error codes the driver and simulator use (ASHRAE 135 §18, BACnetErrorCode). */
export const ERROR_CODE = {
  OTHER: 0,
  INVALID_DATA_TYPE: 9,
  READ_ACCESS_DENIED: 27,
  SERVICE_REQUEST_DENIED: 29,
  UNKNOWN_OBJECT: 31,
  UNKNOWN_PROPERTY: 32,
  UNSUPPORTED_OBJECT_TYPE: 36,
  VALUE_OUT_OF_RANGE: 37,
  WRITE_ACCESS_DENIED: 40,
  INVALID_ARRAY_INDEX: 42,
  COV_SUBSCRIPTION_FAILED: 43,
  NOT_COV_PROPERTY: 44,
  OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED: 45,
  PROPERTY_IS_NOT_AN_ARRAY: 50,
  REJECT_UNRECOGNIZED_SERVICE: 67,
} as const;

/** Reject reasons (§18.8) and abort reasons (§18.9) that change what the driver does. */
export const REJECT_REASON = { UNRECOGNIZED_SERVICE: 9 } as const;
export const ABORT_REASON = { BUFFER_OVERFLOW: 1, SEGMENTATION_NOT_SUPPORTED: 4, APDU_TOO_LONG: 11 } as const;

/** BACnetSegmentation (§21). */
export const SEGMENTATION = { BOTH: 0, TRANSMIT: 1, RECEIVE: 2, NONE: 3 } as const;

/** Status flag bit numbers (§12.x Status_Flags, BACnetStatusFlags). */
export const STATUS_FLAG = { IN_ALARM: 0, FAULT: 1, OVERRIDDEN: 2, OUT_OF_SERVICE: 3 } as const;

/** The largest APDU BACnet/IP carries (§J: 1476 octets), and the encodings of max-APDU in a confirmed request (§20.1.2.5). */
export const MAX_APDU_IP = 1476;
export const MAX_APDU_CODES: readonly number[] = [50, 128, 206, 480, 1024, 1476];

/** Confirmed service choices (§21 BACnetConfirmedServiceChoice) used in metrics and the simulator. */
export const SERVICE = { SUBSCRIBE_COV: 5, READ_PROPERTY: 12, READ_PROPERTY_MULTIPLE: 14, WRITE_PROPERTY: 15 } as const;

/** The BACnet/IP UDP port (§J.1: 0xBAC0). */
export const DEFAULT_PORT = 47808;

/** "No array index" in @bacnet-js/client's API (BACnetARRAY_ALL). */
export const ARRAY_ALL = 0xffffffff;
