/**
 * A minimal controlling station for simulator tests: raw frames over a socket, every I-frame
 * acknowledged with an S-frame at once (so the station's k window never stalls), ASDUs decoded.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { encodeI, encodeS, encodeU } from '../../src/drivers/iec104/codec/apci.ts';
import type { UFunction } from '../../src/drivers/iec104/codec/apci.ts';
import { decodeAsdu, encodeAsdu } from '../../src/drivers/iec104/codec/asdu.ts';
import type { Asdu } from '../../src/drivers/iec104/codec/asdu.ts';
import { FrameSplitter } from '../../src/drivers/iec104/codec/splitter.ts';

/** A received frame with its arrival time (performance.now()). */
export type Received = { at: number } & ({ format: 'U'; fn: string } | { format: 'S' } | { format: 'I'; asdu: Asdu });

export class RawClient {
  readonly frames: Received[] = [];
  #recv = 0;
  #send = 0;
  private constructor(readonly sock: Socket) {
    const split = new FrameSplitter();
    sock.on('data', (c: Buffer) => {
      for (const f of split.push(c).frames) {
        const at = performance.now();
        if (f.format === 'I') {
          this.#recv = (this.#recv + 1) & 0x7fff;
          sock.write(encodeS(this.#recv));
          const r = decodeAsdu(f.asdu);
          if (r.kind === 'ok') this.frames.push({ at, format: 'I', asdu: r.value });
        } else if (f.format === 'U') this.frames.push({ at, format: 'U', fn: f.fn });
        else this.frames.push({ at, format: 'S' });
      }
    });
    sock.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    return new RawClient(sock);
  }

  u(fn: UFunction): void {
    this.sock.write(encodeU(fn));
  }

  /** Sends an ASDU in an I-frame with the next send sequence number. */
  i(a: Asdu): void {
    this.sock.write(encodeI(this.#send, this.#recv, encodeAsdu(a)));
    this.#send = (this.#send + 1) & 0x7fff;
  }

  asdus(): Asdu[] {
    return this.frames.flatMap((f) => (f.format === 'I' ? [f.asdu] : []));
  }

  close(): void {
    this.sock.destroy();
  }
}
