/**
 * The object model of a simulated BACnet device (ASHRAE 135 §12): present values, priority
 * arrays with relinquish default for commandable objects (§19.2), status flags, and the device
 * object (object-list, max-apdu-length-accepted, segmentation-supported). Pure data and rules:
 * property reads return application data or an error (class, code); the UDP side is device.ts.
 */
import { ARRAY_ALL, ERROR_CLASS, ERROR_CODE, OBJECT_TYPES, PROP, TAG } from '../../src/drivers/bacnet/constants.ts';
import { objectTypeName } from '../../src/drivers/bacnet/constants.ts';
import { presentValueTag } from '../../src/drivers/bacnet/values.ts';
import type { AppData } from '../../src/drivers/bacnet/values.ts';

/** A BACnet error answer. */
export interface BacError {
  readonly errorClass: number;
  readonly errorCode: number;
}
export type PropResult = { readonly ok: true; readonly values: AppData[] } | { readonly ok: false; readonly error: BacError };

/** Status flags of an object (§12.x Status_Flags). */
export interface Flags {
  inAlarm: boolean;
  fault: boolean;
  overridden: boolean;
  outOfService: boolean;
}

const OT = OBJECT_TYPES;
const COMMANDABLE = new Set<number>([OT['analog-output'], OT['binary-output'], OT['multi-state-output'], OT['analog-value'], OT['binary-value'], OT['multi-state-value'], OT['integer-value'], OT['positive-integer-value'], OT['large-analog-value']]);
const INPUTS = new Set<number>([OT['analog-input'], OT['binary-input'], OT['multi-state-input']]);
const MULTI_STATE = new Set<number>([OT['multi-state-input'], OT['multi-state-output'], OT['multi-state-value']]);
const ANALOG = new Set<number>([OT['analog-input'], OT['analog-output'], OT['analog-value'], OT['large-analog-value']]);

/** Object types the simulator can serve. */
export const SUPPORTED_TYPES: ReadonlySet<number> = new Set([...COMMANDABLE, ...INPUTS, OT['characterstring-value']]);

const err = (errorClass: number, errorCode: number): PropResult => ({ ok: false, error: { errorClass, errorCode } });
const ok = (...values: AppData[]): PropResult => ({ ok: true, values });
const unknownProperty = () => err(ERROR_CLASS.PROPERTY, ERROR_CODE.UNKNOWN_PROPERTY);
const notArray = () => err(ERROR_CLASS.PROPERTY, ERROR_CODE.PROPERTY_IS_NOT_AN_ARRAY);

/** Status flags as @bacnet-js/client encodes a bit string (bit i of byte 0 = flag i). */
export function flagsBitString(f: Flags): AppData {
  const bits = (f.inAlarm ? 1 : 0) | (f.fault ? 2 : 0) | (f.overridden ? 4 : 0) | (f.outOfService ? 8 : 0);
  return { type: TAG.BIT_STRING, value: { bitsUsed: 4, value: [bits] } };
}

/** One simulated object. */
export class SimObject {
  readonly type: number;
  readonly instance: number;
  readonly name: string;
  readonly commandable: boolean;
  /** The tag of present-value. */
  readonly tag: number;
  readonly flags: Flags = { inAlarm: false, fault: false, overridden: false, outOfService: false };
  /** §19.2: 16 slots, index 0 = priority 1 (highest). */
  readonly priority: (AppData | null)[] = Array.from({ length: 16 }, () => null);
  relinquishDefault: AppData;
  /** Present value of non-commandable objects. */
  value: AppData;
  numberOfStates = 16;
  /** COV increment of analog objects (§13.1.3); 0 = every change. */
  covIncrement = 0;
  /** Supports SubscribeCOV (§13.1: the standard object types; not characterstring-value here). */
  readonly covCapable: boolean;

  constructor(type: number, instance: number, name: string, commandable = COMMANDABLE.has(type)) {
    this.type = type;
    this.instance = instance;
    this.name = name;
    this.commandable = commandable;
    this.tag = presentValueTag(type) ?? TAG.REAL;
    this.value = this.coerce(0);
    this.relinquishDefault = this.coerce(0);
    this.covCapable = type !== OT['characterstring-value'];
  }

  /** Present value: the highest-priority non-NULL slot, else relinquish-default (§19.2.1). */
  presentValue(): AppData {
    if (!this.commandable) return this.value;
    return this.priority.find((v) => v !== null) ?? this.relinquishDefault;
  }

  /** The priority (1–16) in control, or undefined when relinquished. */
  activePriority(): number | undefined {
    const i = this.priority.findIndex((v) => v !== null);
    return i < 0 ? undefined : i + 1;
  }

  /** Turns a generated value into present-value data of this object's tag. */
  coerce(v: number | boolean | string | bigint): AppData {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' ? Number(v) : Number(v);
    switch (this.tag) {
      case TAG.ENUMERATED:
        return { type: TAG.ENUMERATED, value: n ? 1 : 0 };
      case TAG.UNSIGNED: {
        const r = Math.max(0, Math.round(Number.isFinite(n) ? n : 0));
        return { type: TAG.UNSIGNED, value: MULTI_STATE.has(this.type) ? Math.min(this.numberOfStates, Math.max(1, r)) : r };
      }
      case TAG.SIGNED:
        return { type: TAG.SIGNED, value: Math.round(Number.isFinite(n) ? n : 0) };
      case TAG.CHARACTER_STRING:
        return { type: TAG.CHARACTER_STRING, value: String(v) };
      case TAG.DOUBLE:
        return { type: TAG.DOUBLE, value: Number.isFinite(n) ? n : 0 };
      default:
        return { type: TAG.REAL, value: Number.isFinite(n) ? n : 0 };
    }
  }

  /** Where a generator's value goes: relinquish-default of commandable objects, else present-value. */
  setGenerated(v: number | boolean | string | bigint): void {
    if (this.commandable) this.relinquishDefault = this.coerce(v);
    else this.value = this.coerce(v);
  }

  read(prop: number, index: number): PropResult {
    const scalar = (r: PropResult): PropResult => (index === ARRAY_ALL ? r : notArray());
    switch (prop) {
      case PROP.presentValue:
        return scalar(ok(this.presentValue()));
      case PROP.statusFlags:
        return scalar(ok(flagsBitString(this.flags)));
      case PROP.objectName:
        return scalar(ok({ type: TAG.CHARACTER_STRING, value: this.name }));
      case 75: // object-identifier
        return scalar(ok({ type: TAG.OBJECT_ID, value: { type: this.type, instance: this.instance } }));
      case 79: // object-type
        return scalar(ok({ type: TAG.ENUMERATED, value: this.type }));
      case PROP.outOfService:
        return scalar(ok({ type: TAG.BOOLEAN, value: this.flags.outOfService }));
      case 36: // event-state: normal / offnormal
        return scalar(ok({ type: TAG.ENUMERATED, value: this.flags.inAlarm ? 2 : 0 }));
      case 103: // reliability: no-fault-detected / unreliable-other (§12.x Reliability)
        return scalar(ok({ type: TAG.ENUMERATED, value: this.flags.fault ? 7 : 0 }));
      case PROP.units:
        return ANALOG.has(this.type) ? scalar(ok({ type: TAG.ENUMERATED, value: 62 })) : unknownProperty();
      case 74: // number-of-states
        return MULTI_STATE.has(this.type) ? scalar(ok({ type: TAG.UNSIGNED, value: this.numberOfStates })) : unknownProperty();
      case PROP.relinquishDefault:
        return this.commandable ? scalar(ok(this.relinquishDefault)) : unknownProperty();
      case PROP.priorityArray: {
        if (!this.commandable) return unknownProperty();
        if (index === ARRAY_ALL) return ok(...this.priority.map((v) => v ?? { type: TAG.NULL, value: null }));
        if (index === 0) return ok({ type: TAG.UNSIGNED, value: 16 });
        const slot = this.priority[index - 1];
        return slot === undefined ? err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_ARRAY_INDEX) : ok(slot ?? { type: TAG.NULL, value: null });
      }
      default:
        return unknownProperty();
    }
  }

  /** WriteProperty (§15.9); `priority` 1–16. */
  write(prop: number, index: number, values: readonly AppData[], priority: number): PropResult {
    if (index !== ARRAY_ALL) return notArray();
    const v = values[0];
    if (v === undefined || values.length !== 1) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_DATA_TYPE);
    switch (prop) {
      case PROP.presentValue: {
        if (v.type === TAG.NULL) {
          if (!this.commandable) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_DATA_TYPE);
          this.priority[priority - 1] = null;
          return ok();
        }
        if (v.type !== this.tag) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_DATA_TYPE);
        if (this.tag === TAG.ENUMERATED && v.value !== 0 && v.value !== 1) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.VALUE_OUT_OF_RANGE);
        if (MULTI_STATE.has(this.type) && (Number(v.value) < 1 || Number(v.value) > this.numberOfStates)) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.VALUE_OUT_OF_RANGE);
        if (this.commandable) {
          this.priority[priority - 1] = { type: v.type, value: v.value };
          return ok();
        }
        // Inputs take a present-value only while out of service (§12.2.4 Present_Value of Analog Input).
        if (INPUTS.has(this.type) && !this.flags.outOfService) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.WRITE_ACCESS_DENIED);
        this.value = { type: v.type, value: v.value };
        return ok();
      }
      case PROP.relinquishDefault:
        if (!this.commandable) return unknownProperty();
        if (v.type !== this.tag) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_DATA_TYPE);
        this.relinquishDefault = { type: v.type, value: v.value };
        return ok();
      case PROP.outOfService:
        if (v.type !== TAG.BOOLEAN) return err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_DATA_TYPE);
        this.flags.outOfService = v.value === true;
        return ok();
      default:
        return err(ERROR_CLASS.PROPERTY, ERROR_CODE.WRITE_ACCESS_DENIED);
    }
  }

  toString(): string {
    return `${objectTypeName(this.type)}:${this.instance}`;
  }
}

/** The device object's properties (§12.11). */
export interface DeviceProps {
  readonly deviceId: number;
  readonly name: string;
  readonly maxApdu: number;
  readonly segmentation: number;
  readonly vendorId: number;
  readonly objects: () => readonly SimObject[];
}

/** Reads a property of the device object. */
export function readDeviceProperty(d: DeviceProps, prop: number, index: number): PropResult {
  const scalar = (r: PropResult): PropResult => (index === ARRAY_ALL ? r : notArray());
  switch (prop) {
    case 75:
      return scalar(ok({ type: TAG.OBJECT_ID, value: { type: OT.device, instance: d.deviceId } }));
    case PROP.objectName:
      return scalar(ok({ type: TAG.CHARACTER_STRING, value: d.name }));
    case 79:
      return scalar(ok({ type: TAG.ENUMERATED, value: OT.device }));
    case PROP.maxApdu:
      return scalar(ok({ type: TAG.UNSIGNED, value: d.maxApdu }));
    case PROP.segmentation:
      return scalar(ok({ type: TAG.ENUMERATED, value: d.segmentation }));
    case 120: // vendor-identifier
      return scalar(ok({ type: TAG.UNSIGNED, value: d.vendorId }));
    case 121: // vendor-name
      return scalar(ok({ type: TAG.CHARACTER_STRING, value: 'fieldgate simulator' }));
    case 112: // system-status: operational
      return scalar(ok({ type: TAG.ENUMERATED, value: 0 }));
    case 98: // protocol-version
      return scalar(ok({ type: TAG.UNSIGNED, value: 1 }));
    case 139: // protocol-revision
      return scalar(ok({ type: TAG.UNSIGNED, value: 14 }));
    case PROP.objectList: {
      const ids: AppData[] = [{ type: TAG.OBJECT_ID, value: { type: OT.device, instance: d.deviceId } }, ...d.objects().map((o) => ({ type: TAG.OBJECT_ID, value: { type: o.type, instance: o.instance } }))];
      if (index === ARRAY_ALL) return ok(...ids);
      if (index === 0) return ok({ type: TAG.UNSIGNED, value: ids.length });
      const id = ids[index - 1];
      return id === undefined ? err(ERROR_CLASS.PROPERTY, ERROR_CODE.INVALID_ARRAY_INDEX) : ok(id);
    }
    default:
      return unknownProperty();
  }
}
