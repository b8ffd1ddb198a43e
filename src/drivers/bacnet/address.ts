/**
 * BACnet configuration in Baetyl's keys (`visitor.bacnet`, `accessConfig.bacnet`), plus
 * fieldgate's optional additions. Baetyl key names are never renamed.
 *
 * Baetyl (`baetyl-go dmcontext`, `baetyl-bacnet`): a point is `{bacnetType, bacnetAddress,
 * applicationTagNumber, type}` and always Present_Value; a device is `{deviceId, address, port,
 * interval, addressOffset}`. Here `address`/`port` name the device's BACnet/IP endpoint (the BIE
 * channel's `bacnet{address,port}`); without `address` the device is found by Who-Is/I-Am.
 */
import { baseConnectionShape, duration, intOrHex, z } from '../sdk/index.ts';
import type { Point } from '../sdk/index.ts';
import { POINT_TYPES } from '../../devicemodel/types.ts';
import { DEFAULT_PORT, OBJECT_TYPES, PROPERTY_IDS, PROP } from './constants.ts';
import type { ObjectTypeName, PropertyName } from './constants.ts';

/** Largest object instance (22 bits; 4194303 is the "uninitialized" wildcard, §12.11.1). */
const MAX_INSTANCE = 4_194_302;

const objectTypeName = z.enum(Object.keys(OBJECT_TYPES) as [ObjectTypeName, ...ObjectTypeName[]]);
const objectType = z.union([z.number().int().min(0).max(1023), objectTypeName.transform((n) => OBJECT_TYPES[n] as number)]);
const propertyName = z.enum(Object.keys(PROPERTY_IDS) as [PropertyName, ...PropertyName[]]);
const propertyId = z.union([z.number().int().min(0).max(4_194_303), propertyName.transform((n) => PROPERTY_IDS[n] as number)]);

/** `visitor.bacnet` of one access-template property. */
export const bacnetAddressSchema = z
  .strictObject({
    // Baetyl's keys
    /** Object type number (0 analog-input, 1 analog-output, …). */
    bacnetType: z.number().int().min(0).max(1023).optional(),
    /** Object instance (before the device's `addressOffset`). */
    bacnetAddress: intOrHex().pipe(z.number().int().min(0).max(MAX_INSTANCE)),
    /** Application tag of written values (1 boolean, 2 unsigned, 3 signed, 4 real, 5 double, 7 string, 9 enumerated); 0 or absent: by object type. */
    applicationTagNumber: z.number().int().min(0).max(12).optional(),
    type: z.enum(POINT_TYPES).optional(),
    // fieldgate's additions
    /** Object type by name (`analog-value`) or number; an alternative to `bacnetType`. */
    objectType: objectType.optional(),
    /** Property to read/write by name or number; default present-value (85). */
    propertyId: propertyId.optional(),
    /** Element of an array property (1-based; 0 reads the array's length). */
    arrayIndex: z.number().int().min(0).max(0xfffffffe).optional(),
    /** Write priority 1–16 (overrides the device's `priority`). */
    priority: z.number().int().min(1).max(16).optional(),
    /** Subscribe to COV for this point (overrides the device's `subscribe`). */
    cov: z.boolean().optional(),
    /** Writing exactly this value relinquishes the point's priority slot (writes NULL) instead. */
    relinquishValue: z.union([z.number(), z.boolean(), z.string()]).optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.bacnetType === undefined) === (v.objectType === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of bacnetType (a number) or objectType (a name such as analog-value, or a number)' });
    }
  })
  .transform((v) => ({
    objectType: (v.bacnetType ?? v.objectType) as number,
    instance: v.bacnetAddress,
    propertyId: v.propertyId ?? PROP.presentValue,
    arrayIndex: v.arrayIndex,
    tag: v.applicationTagNumber === 0 ? undefined : v.applicationTagNumber,
    type: v.type,
    priority: v.priority,
    cov: v.cov,
    relinquishValue: v.relinquishValue,
  }));
export type BacnetAddress = z.output<typeof bacnetAddressSchema>;

const bbmdSchema = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(DEFAULT_PORT),
  /** Time-to-live of the registration; it is renewed at half of it (§J.5.2.1). */
  ttl: duration().pipe(z.number().int().min(1000).max(65_535_000)).default(60_000),
});

const covSchema = z.strictObject({
  /** Ask for ConfirmedCOVNotification (acknowledged) instead of unconfirmed ones. */
  confirmed: z.boolean().default(false),
  /** Subscription lifetime; it is renewed before it runs out (at 3/4 of it). */
  lifetime: duration().pipe(z.number().int().min(1000)).default(300_000),
  /**
   * Points whose subscription the device refused (or that cannot have one) are read at this
   * interval and pushed through the subscription when they change; 0 = leave them to the
   * gateway's poll. Default: the device's `interval`.
   */
  pollInterval: duration().optional(),
});

/** `accessConfig.bacnet` of one sub-device. */
export const bacnetConnectionSchema = z.strictObject({
  // Baetyl's keys
  id: z.union([z.string(), z.number()]).optional(),
  ...baseConnectionShape({ interval: 5000, timeout: 3000 }),
  /** Device object instance (§12.11.1). */
  deviceId: z.number().int().min(0).max(MAX_INSTANCE),
  /** The device's IP address (or `ip:port`); absent: found by Who-Is to `broadcastAddress`. */
  address: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).default(DEFAULT_PORT),
  /** Added to every point's `bacnetAddress`. */
  addressOffset: z.number().int().default(0),
  // fieldgate's additions
  /** Local UDP port (0 = any free port). Devices on the same non-zero local port share one socket and link. */
  localPort: z.number().int().min(0).max(65535).default(0),
  /** Local interface address to bind. */
  interface: z.string().min(1).default('0.0.0.0'),
  /** Where Who-Is goes when `address` is absent (`ip` or `ip:port`). */
  broadcastAddress: z.string().min(1).default('255.255.255.255'),
  /** Register as a foreign device with this BBMD (§J.5.2) and send Who-Is through it. */
  bbmd: bbmdSchema.optional(),
  /** Default write priority (1–16; BACnet's lowest, 16, unless set). */
  priority: z.number().int().min(1).max(16).default(16),
  /** Subscribe to COV for every present-value point (points may override with `cov`). */
  subscribe: z.boolean().optional(),
  cov: covSchema.default({ confirmed: false, lifetime: 300_000 }),
  /** `auto`: ReadPropertyMultiple, falling back to ReadProperty when the device rejects it. */
  rpm: z.enum(['auto', 'never']).default('auto'),
  /** Most properties in one ReadPropertyMultiple, whatever the APDU size allows. */
  maxPointsPerRequest: z.number().int().min(1).max(1000).default(64),
  /** Overrides the device's max-apdu-length-accepted (octets). */
  maxApdu: z.number().int().min(50).max(1476).optional(),
  /** Read status-flags with each present-value and turn them into quality. */
  statusFlags: z.boolean().default(true),
  /** Octets budgeted for a characterstring value when sizing requests. */
  maxStringLength: z.number().int().min(1).max(1400).default(64),
  /** Retries of a request that timed out. */
  retries: z.number().int().min(0).max(5).default(1),
  /** Requests in flight at once on the link. */
  window: z.number().int().min(1).max(32).default(4),
});
export type BacnetConnection = z.output<typeof bacnetConnectionSchema>;

/** Splits `host` or `host:port` with a default port. */
export function hostPort(value: string, defaultPort: number): string {
  return /:\d+$/.test(value) ? value : `${value}:${defaultPort}`;
}

/** The device's `ip:port`, or undefined when it must be discovered. */
export function deviceEndpoint(c: BacnetConnection): string | undefined {
  return c.address === undefined ? undefined : hostPort(c.address, c.port);
}

/** Which devices share a link: those on one fixed local port; otherwise one link per device. */
export function bacnetLinkKey(c: BacnetConnection): string {
  if (c.localPort !== 0) return `udp:${c.interface}:${c.localPort}`;
  return `device:${c.deviceId}@${deviceEndpoint(c) ?? `whois:${c.broadcastAddress}`}`;
}

const NUMERIC_TAG_TYPES = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64']);

/** Checks a point as a whole (visitor type vs property type, tag vs type). */
export function checkBacnetPoint(point: Point<BacnetAddress>): { path: (string | number)[]; message: string }[] {
  const a = point.address;
  const out: { path: (string | number)[]; message: string }[] = [];
  const at = (k: string) => ['visitor', 'bacnet', k];
  if (a.type !== undefined && a.type !== point.type) {
    out.push({ path: at('type'), message: `visitor type ${a.type} differs from the property type ${point.type}` });
  }
  if (a.tag === 7 && point.type !== 'string') out.push({ path: at('applicationTagNumber'), message: `tag 7 (character string) needs type string, not ${point.type}` });
  if (a.tag !== undefined && a.tag !== 7 && point.type === 'string') out.push({ path: at('applicationTagNumber'), message: `type string is written with tag 7 (character string), not ${a.tag}` });
  if (a.tag === 1 && NUMERIC_TAG_TYPES.has(point.type) === false && point.type !== 'bool') out.push({ path: at('applicationTagNumber'), message: `tag 1 (boolean) needs type bool` });
  if (a.objectType === OBJECT_TYPES['characterstring-value'] && a.propertyId === PROP.presentValue && point.type !== 'string') {
    out.push({ path: ['type'], message: `a characterstring-value's present-value is a string: type must be string, not ${point.type}` });
  }
  return out;
}
