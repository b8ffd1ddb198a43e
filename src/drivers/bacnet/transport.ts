/**
 * A BACnet/IP UDP transport for @bacnet-js/client (its `transport` option). The library's own
 * transport binds port 0 as 47808 (`port || DEFAULT_BACNET_PORT`) and sets SO_REUSEADDR, so
 * several gateways and simulators on one host would share or steal each other's datagrams; this
 * one binds exactly the port asked for (0 = any free port), without address reuse.
 *
 * Senders are reported as `ip:port` always: the library drops service requests whose sender is
 * the bare string `127.0.0.1` (what its transport reports for 127.0.0.1:47808).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { DEFAULT_PORT } from './constants.ts';

/** Receive buffer asked for (octets): room for thousands of COV notifications in a burst. */
const RECV_BUFFER = 1024 * 1024;

/**
 * Sees each datagram before the library does; returns true when it took the datagram (the
 * session's COV fast path, see cov-intake.ts), false to hand it to the library.
 */
export type DatagramInterceptor = (msg: Buffer, from: dgram.RemoteInfo) => boolean;

/** Options of {@link UdpTransport}. */
export interface UdpTransportOptions {
  readonly port: number;
  readonly interface: string;
  /** Where datagrams without a receiver go (`ip` or `ip:port`). */
  readonly broadcastAddress: string;
}

/** Splits `ip:port` (port defaults to 47808). */
export function splitAddress(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  if (i < 0) return { host: value, port: DEFAULT_PORT };
  const port = Number(value.slice(i + 1));
  return { host: value.slice(0, i), port: Number.isInteger(port) && port > 0 ? port : DEFAULT_PORT };
}

/** The transport; `ready` settles once the socket is bound (or failed to bind). */
export class UdpTransport extends EventEmitter {
  readonly #socket: dgram.Socket;
  readonly #opts: UdpTransportOptions;
  #bound: { address: string; port: number } | undefined;
  #closed = false;
  /** Resolves with the bound address, rejects with the bind error. */
  readonly ready: Promise<{ address: string; port: number }>;
  #settle!: { resolve: (a: { address: string; port: number }) => void; reject: (e: Error) => void };
  /** Set by the session; runs synchronously in the socket's message handler. */
  interceptor: DatagramInterceptor | undefined;

  constructor(opts: UdpTransportOptions) {
    super();
    this.#opts = opts;
    this.ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Callers that never await `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    this.#socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.#socket.on('message', (msg, rinfo) => {
      // A broadcast we sent comes back to us when bound to 0.0.0.0: not a message for us.
      if (this.#bound !== undefined && rinfo.port === this.#bound.port && (rinfo.address === this.#bound.address || this.#bound.address === '0.0.0.0') && this.#isOwn(rinfo.address)) return;
      try {
        if (this.interceptor !== undefined && this.interceptor(msg, rinfo)) return;
        this.emit('message', msg, `${rinfo.address}:${rinfo.port}`);
      } catch (e) {
        // The library's decoders throw on some malformed datagrams; one bad datagram must not
        // take the process down (dgram handlers run outside any caller's try/catch).
        this.emit('malformed', e, `${rinfo.address}:${rinfo.port}`);
      }
    });
    this.#socket.on('error', (err) => {
      if (this.#bound === undefined) this.#settle.reject(err);
      this.emit('error', err);
    });
    this.#socket.on('close', () => this.emit('close'));
  }

  #isOwn(address: string): boolean {
    return address === this.#bound?.address || address === '127.0.0.1' || address === this.#opts.interface;
  }

  /** The bound address, once bound. */
  get address(): { address: string; port: number } | undefined {
    return this.#bound;
  }

  /**
   * Datagrams the kernel dropped because this socket's receive buffer was full (Linux:
   * the `drops` column of /proc/net/udp for our local address and port); `undefined` where that
   * is not available. Read on demand (a few dozen microseconds), never per datagram.
   */
  receiveDrops(): number | undefined {
    const b = this.#bound;
    if (b === undefined || this.#procUnavailable) return undefined;
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(b.address);
    if (m === null) return undefined;
    // /proc/net/udp shows an IPv4 address as the hex of its 32-bit value in host (little-endian) order.
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
    const local = `${hex(Number(m[4]))}${hex(Number(m[3]))}${hex(Number(m[2]))}${hex(Number(m[1]))}:${b.port.toString(16).toUpperCase().padStart(4, '0')}`;
    let text: string;
    try {
      text = readFileSync('/proc/net/udp', 'utf8');
    } catch {
      this.#procUnavailable = true;
      return undefined;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1] === local) {
        const drops = Number(f[f.length - 1]);
        return Number.isFinite(drops) ? drops : undefined;
      }
    }
    return undefined;
  }

  #procUnavailable = false;

  getBroadcastAddress(): string {
    return this.#opts.broadcastAddress;
  }

  /** Largest BVLC payload on BACnet/IP (1476 APDU + NPDU + BVLC headers, as the library assumes). */
  getMaxPayload(): number {
    return 1482;
  }

  send(buffer: Buffer, offset: number, receiver?: string): void {
    if (this.#closed) return;
    const { host, port } = splitAddress(receiver ?? this.#opts.broadcastAddress);
    this.#socket.send(buffer, 0, offset, port, host, (err) => {
      if (err) this.emit('error', err);
    });
  }

  /** Sends a whole datagram to `host:port` (the COV fast path's SimpleACK). */
  sendTo(buffer: Buffer, host: string, port: number): void {
    if (this.#closed) return;
    this.#socket.send(buffer, port, host, this.#onSent);
  }

  /** One callback for every send (no closure per datagram). */
  readonly #onSent = (err: Error | null): void => {
    if (err) this.emit('error', err);
  };

  open(): void {
    this.#socket.bind(this.#opts.port, this.#opts.interface, () => {
      const a = this.#socket.address();
      this.#bound = { address: a.address, port: a.port };
      try {
        this.#socket.setBroadcast(true);
      } catch {
        // Broadcast is only needed for Who-Is without a device address.
      }
      try {
        // A device with many subscribed objects sends one COV notification per object, all at
        // once; Linux's default 208 KB receive buffer holds only a few hundred small datagrams
        // and drops the rest while the process is busy (the kernel caps this at rmem_max).
        if (this.#socket.getRecvBufferSize() < RECV_BUFFER) this.#socket.setRecvBufferSize(RECV_BUFFER);
      } catch {
        // Not permitted here: keep the system default.
      }
      this.#settle.resolve(this.#bound);
      this.emit('listening', this.#bound);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#bound === undefined) this.#settle.reject(new Error('ERR_CLOSED'));
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}
