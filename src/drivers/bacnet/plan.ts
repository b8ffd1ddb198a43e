/**
 * Batching of reads into ReadPropertyMultiple requests, sized so that both the request and the
 * acknowledgement fit the device's max-APDU (and the 1476-octet BACnet/IP limit), unless the
 * device can send segmented answers. Pure: sizes are upper bounds computed from the encoding
 * rules of ASHRAE 135 §20.2 (tags, §20.2.1) and §15.7 (ReadPropertyMultiple), never by I/O.
 */
import type { Point } from '../sdk/index.ts';
import type { BacnetAddress } from './address.ts';
import { MAX_APDU_IP, PROP, TAG } from './constants.ts';
import { presentValueTag } from './values.ts';

type BPoint = Point<BacnetAddress>;

/** One property to read: a point, or the status-flags read along with a present-value. */
export interface ReadItem {
  readonly point: BPoint;
  readonly objectType: number;
  /** Instance with the device's `addressOffset` applied. */
  readonly instance: number;
  readonly propertyId: number;
  readonly arrayIndex: number | undefined;
}

/** What sizes a batch. */
export interface BatchLimits {
  /** The device's max-apdu-length-accepted (octets). */
  readonly maxApdu: number;
  /** The device can send segmented answers (segmentation-supported both or transmit). */
  readonly segmentedReplies: boolean;
  /** Most points in one request. */
  readonly maxPoints: number;
  /** Octets budgeted for a character string. */
  readonly stringBudget: number;
  /** Each object with a present-value point also reads status-flags. */
  readonly statusFlags: boolean;
}

/** Segments assumed when the device sends segmented answers (the client accepts up to 64). */
const ASSUMED_SEGMENTS = 8;

/** Octets of an unsigned value in a tag's data (§20.2.4). */
function unsignedOctets(n: number): number {
  return n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
}

/** A context-tagged unsigned/enumerated: tag octet (plus one when the tag number > 14) and data. */
function contextUnsigned(n: number, tagNumber = 0): number {
  return (tagNumber > 14 ? 2 : 1) + unsignedOctets(n);
}

/** Encoded size bound of a value of this item (application tag included). */
export function valueOctets(item: Pick<ReadItem, 'objectType' | 'propertyId'> & { point: Pick<BPoint, 'type'> }, stringBudget: number): number {
  const str = stringBudget + 3; // tag + extended length + character set (§20.2.9)
  if (item.propertyId === PROP.statusFlags) return 3; // tag, unused-bits octet, one octet of 4 flags (§20.2.10)
  let tag: number | undefined;
  if (item.propertyId === PROP.presentValue || item.propertyId === PROP.relinquishDefault) tag = presentValueTag(item.objectType);
  if (item.propertyId === PROP.objectName) tag = TAG.CHARACTER_STRING;
  switch (tag) {
    case TAG.REAL:
      return 5;
    case TAG.DOUBLE:
      return 10;
    case TAG.UNSIGNED:
    case TAG.SIGNED:
    case TAG.ENUMERATED:
      return 5;
    case TAG.CHARACTER_STRING:
      return str;
  }
  if (item.point.type === 'string') return str;
  return 10;
}

/** Octets one property adds to the request (§15.7.1.1: propertyIdentifier [0], propertyArrayIndex [1]). */
function requestPropertyOctets(i: ReadItem): number {
  return contextUnsigned(i.propertyId) + (i.arrayIndex === undefined ? 0 : contextUnsigned(i.arrayIndex, 1));
}

/**
 * Octets one property adds to the acknowledgement (§15.7.1.3.1: propertyIdentifier [2],
 * propertyArrayIndex [3], then readResult: propertyValue [4] or propertyAccessError [5] between
 * opening and closing tags). An error is two enumerated values (≤ 6 octets).
 */
function replyPropertyOctets(i: ReadItem, stringBudget: number): number {
  return contextUnsigned(i.propertyId) + (i.arrayIndex === undefined ? 0 : contextUnsigned(i.arrayIndex, 3)) + 2 + Math.max(valueOctets(i, stringBudget), 6);
}

/** Per object: objectIdentifier [0] (5 octets) and the opening/closing tags of the list (2). */
const OBJECT_OCTETS = 7;
/** Confirmed-request header (§20.1.2: 4 octets); complex-ack header (§20.1.5: 3 octets). */
const REQUEST_HEADER = 4;
const ACK_HEADER = 3;

/** Object key of an item. */
export function objectKey(i: Pick<ReadItem, 'objectType' | 'instance'>): string {
  return `${i.objectType}:${i.instance}`;
}

/** The read items of points (instance + offset), in point order. */
export function itemsOf(points: readonly BPoint[], addressOffset: number): ReadItem[] {
  return points.map((point) => ({
    point,
    objectType: point.address.objectType,
    instance: point.address.instance + addressOffset,
    propertyId: point.address.propertyId,
    arrayIndex: point.address.arrayIndex,
  }));
}

/** Request and acknowledgement sizes of a batch, status-flags included. */
export function batchOctets(items: readonly ReadItem[], limits: Pick<BatchLimits, 'stringBudget' | 'statusFlags'>): { request: number; reply: number } {
  let request = REQUEST_HEADER;
  let reply = ACK_HEADER;
  const seen = new Map<string, boolean>();
  for (const i of items) {
    const k = objectKey(i);
    if (!seen.has(k)) {
      seen.set(k, false);
      request += OBJECT_OCTETS;
      reply += OBJECT_OCTETS;
    }
    request += requestPropertyOctets(i);
    reply += replyPropertyOctets(i, limits.stringBudget);
    if (limits.statusFlags && i.propertyId === PROP.presentValue && seen.get(k) === false) {
      seen.set(k, true);
      request += 2;
      reply += 2 + 2 + 6;
    }
  }
  return { request, reply };
}

/** Budgets of one request and one acknowledgement. */
export function budgets(limits: Pick<BatchLimits, 'maxApdu' | 'segmentedReplies'>): { request: number; reply: number } {
  const apdu = Math.min(limits.maxApdu, MAX_APDU_IP);
  // Requests are never segmented by the client; answers may be when the device can send them.
  return { request: apdu, reply: limits.segmentedReplies ? apdu * ASSUMED_SEGMENTS : apdu };
}

/**
 * Splits items into batches that each fit one ReadPropertyMultiple. Items of one object stay
 * next to each other (they share one object specification), otherwise the order is kept.
 * An item too large even alone gets a batch of its own (the device answers with an error or
 * the session falls back to ReadProperty).
 */
export function planBatches(items: readonly ReadItem[], limits: BatchLimits): ReadItem[][] {
  const order = new Map<string, ReadItem[]>();
  for (const i of items) {
    const k = objectKey(i);
    const g = order.get(k);
    if (g) g.push(i);
    else order.set(k, [i]);
  }
  const sorted = [...order.values()].flat();
  const budget = budgets(limits);
  const out: ReadItem[][] = [];
  let cur: ReadItem[] = [];
  for (const i of sorted) {
    const next = [...cur, i];
    const size = batchOctets(next, limits);
    if (cur.length > 0 && (next.length > limits.maxPoints || size.request > budget.request || size.reply > budget.reply)) {
      out.push(cur);
      cur = [i];
    } else {
      cur = next;
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
