/**
 * Exact encoded size of a ReadPropertyMultiple acknowledgement, using @bacnet-js/client's own
 * encoder, so the simulator refuses answers longer than its max-APDU the way a device does.
 */
import { createRequire } from 'node:module';

interface EncodeBuffer {
  buffer: Buffer;
  offset: number;
}
type Encoder = (buffer: EncodeBuffer, value: unknown) => void;

let encodeReadAccessResult: Encoder | undefined;

/** Octets of the APDU (3-octet complex-ack header + results, §20.1.5, §15.7.1.3). */
export function ackOctets(results: readonly unknown[]): number {
  // The package is CommonJS without an exports map: its internal encoder is reachable by path.
  encodeReadAccessResult ??= (createRequire(import.meta.url)('@bacnet-js/client/dist/lib/asn1.js') as { encodeReadAccessResult: Encoder }).encodeReadAccessResult;
  const buf: EncodeBuffer = { buffer: Buffer.alloc(1 << 16), offset: 0 };
  for (const r of results) encodeReadAccessResult(buf, r);
  return 3 + buf.offset;
}
