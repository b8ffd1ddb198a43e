/**
 * The few octets the driver reads of a datagram before deciding what it is: whether it is a COV
 * notification (confirmed or not) for the fast path, and if so its subscriber process id, its
 * invoke id, and where the service parameters start. Everything else (answers to our requests,
 * I-Am, routed or forwarded messages, segmented requests) is left to @bacnet-js/client.
 *
 * Why: the library decodes every service request in full and formats it for its debug log
 * (`util.format('%o', …)`, `JSON.stringify`) whether logging is on or not; at thousands of
 * notifications a second that was most of the gateway's CPU. Reading the header here lets the
 * driver coalesce notifications per subscription first and decode only the latest one.
 *
 * Layout (ASHRAE 135): BVLC (Annex J.2: 0x81, function, length, 4 octets), NPDU (§6.2: version 1,
 * control, optional DNET/DLEN/DADR, SNET/SLEN/SADR, hop count), APDU (§20.1.2 confirmed request:
 * type/flags, max-segs/max-resp, invoke id, service choice; §20.1.3 unconfirmed request: type,
 * service choice), then the COVNotification parameters (§21): [0] subscriberProcessIdentifier
 * Unsigned32 first.
 */

/** BVLC type octet of BACnet/IP (Annex J.2). */
const BVLL_TYPE_BIP = 0x81;
/** BVLC functions whose NPDU came straight from the sender (Annex J.2.1). */
const BVLC_ORIGINAL_UNICAST = 0x0a;
const BVLC_ORIGINAL_BROADCAST = 0x0b;
/** NPDU control bits (§6.2.2). */
const NPDU_NETWORK_MESSAGE = 0x80;
const NPDU_DNET = 0x20;
const NPDU_SNET = 0x08;
/** APDU types (§20.1.1) in the high nibble of the first octet. */
const PDU_CONFIRMED_REQUEST = 0x0;
const PDU_UNCONFIRMED_REQUEST = 0x1;
const PDU_SIMPLE_ACK = 0x2;
/** Confirmed-Request flag: segmented message (§20.1.2.1). */
const PDU_SEGMENTED = 0x08;
/** Service choices (§21 BACnetConfirmedServiceChoice / BACnetUnconfirmedServiceChoice). */
export const SERVICE_CONFIRMED_COV_NOTIFICATION = 1;
export const SERVICE_UNCONFIRMED_COV_NOTIFICATION = 2;

/** What the header of a COV notification says. */
export interface CovFrame {
  /** ConfirmedCOVNotification (wants a SimpleACK) or UnconfirmedCOVNotification. */
  readonly confirmed: boolean;
  /** Invoke id of a confirmed notification (0 when unconfirmed). */
  readonly invokeId: number;
  readonly subscriberProcessId: number;
  /** Offset of the service parameters (the process id's tag) in the datagram. */
  readonly serviceOffset: number;
  /** Octets of service parameters. */
  readonly serviceLength: number;
}

/** Why a datagram is not for the fast path (it goes to the library unchanged). */
export type NotCov = 'not-bacnet-ip' | 'bvlc-length' | 'routed' | 'not-request' | 'other-service' | 'segmented';

/**
 * Reads a datagram's headers. `ok` with a frame: a COV notification from a directly connected
 * device. `ok` with `undefined`: something else, hand it on (`reason` says why). `incomplete`:
 * the datagram ends inside the headers. `error`: a COV notification whose process id is not a
 * context-tagged Unsigned of 1–4 octets.
 */
export function peekCovFrame(b: Uint8Array):
  | { kind: 'ok'; value: CovFrame; consumed: number }
  | { kind: 'ok'; value: undefined; reason: NotCov; consumed: number }
  | { kind: 'incomplete' }
  | { kind: 'error'; error: string } {
  const other = (reason: NotCov) => ({ kind: 'ok' as const, value: undefined, reason, consumed: b.length });
  if (b.length < 4) return { kind: 'incomplete' };
  if (b[0] !== BVLL_TYPE_BIP) return other('not-bacnet-ip');
  const fn = b[1]!;
  // Forwarded-NPDU and the BBMD functions carry other headers; the library knows them.
  if (fn !== BVLC_ORIGINAL_UNICAST && fn !== BVLC_ORIGINAL_BROADCAST) return other('not-bacnet-ip');
  const bvlcLength = (b[2]! << 8) | b[3]!;
  // The library reads such datagrams by their real length; leave that leniency to it.
  if (bvlcLength !== b.length) return other('bvlc-length');
  if (b.length < 6) return { kind: 'incomplete' };
  if (b[4] !== 0x01) return other('not-bacnet-ip'); // NPDU protocol version 1 (§6.2.1)
  const control = b[5]!;
  if ((control & NPDU_NETWORK_MESSAGE) !== 0) return other('not-request');
  // A routed message must be answered through its router (DNET/DADR): the library does that.
  if ((control & (NPDU_DNET | NPDU_SNET)) !== 0) return other('routed');
  let o = 6;
  if (b.length <= o) return { kind: 'incomplete' };
  const type = b[o]! >> 4;
  let confirmed: boolean;
  let invokeId = 0;
  if (type === PDU_UNCONFIRMED_REQUEST) {
    if (b.length < o + 2) return { kind: 'incomplete' };
    if (b[o + 1] !== SERVICE_UNCONFIRMED_COV_NOTIFICATION) return other('other-service');
    confirmed = false;
    o += 2;
  } else if (type === PDU_CONFIRMED_REQUEST) {
    if ((b[o]! & PDU_SEGMENTED) !== 0) return other('segmented');
    if (b.length < o + 4) return { kind: 'incomplete' };
    if (b[o + 3] !== SERVICE_CONFIRMED_COV_NOTIFICATION) return other('other-service');
    confirmed = true;
    invokeId = b[o + 2]!;
    o += 4;
  } else {
    return other('not-request');
  }
  // [0] subscriberProcessIdentifier: context tag 0, class 1, length 1..4 (§20.2.1.3.1, §20.2.4).
  if (b.length <= o) return { kind: 'incomplete' };
  const tag = b[o]!;
  const len = tag & 0x07;
  if ((tag & 0xf8) !== 0x08 || len < 1 || len > 4) return { kind: 'error', error: `COV notification without a process id (tag octet 0x${tag.toString(16).padStart(2, '0')})` };
  if (b.length < o + 1 + len) return { kind: 'incomplete' };
  let pid = 0;
  for (let i = 1; i <= len; i++) pid = pid * 256 + b[o + i]!;
  return { kind: 'ok', value: { confirmed, invokeId, subscriberProcessId: pid, serviceOffset: o, serviceLength: b.length - o }, consumed: b.length };
}

/**
 * A BACnet/IP SimpleACK (§20.1.4) for a confirmed request: BVLC Original-Unicast-NPDU, NPDU
 * version 1 with no control bits, then PDU type 2, the request's invoke id and service choice.
 */
export function encodeSimpleAck(invokeId: number, service: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = BVLL_TYPE_BIP;
  b[1] = BVLC_ORIGINAL_UNICAST;
  b[2] = 0;
  b[3] = 9;
  b[4] = 0x01;
  b[5] = 0x00;
  b[6] = PDU_SIMPLE_ACK << 4;
  b[7] = invokeId & 0xff;
  b[8] = service & 0xff;
  return b;
}
