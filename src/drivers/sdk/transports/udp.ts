/**
 * A UDP socket (node:dgram) for drivers: bind, send datagrams, receive them with their sender.
 * Datagrams keep their boundaries, so there is no splitting: one message is one frame.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { DriverError } from '../errors.ts';
import { TransportLife } from './life.ts';

/** Options of {@link openUdp}. */
export interface UdpOptions {
  /** Local address to bind (e.g. `0.0.0.0`, `127.0.0.1`, `::`). */
  readonly bindHost: string;
  /** Local port; 0 = a free port chosen by the system. */
  readonly bindPort: number;
  /** Aborting fails a pending bind and closes an open socket (no onClose). */
  readonly signal?: AbortSignal;
  /** Allow sending to broadcast addresses (BACnet Who-Is). Default false. */
  readonly broadcast?: boolean;
}

/** Where a datagram came from. */
export interface UdpPeer {
  readonly host: string;
  readonly port: number;
}

/** A bound UDP socket. The owner closes it; `close()` may be called any number of times. */
export interface UdpSocket {
  /** The bound address (the chosen port when `bindPort` was 0). */
  readonly local: UdpPeer;
  readonly closed: boolean;
  /** Sends one datagram; rejects with DriverError `Offline` if closed or the send fails. */
  send(bytes: Uint8Array, host: string, port: number): Promise<void>;
  /** Adds a listener of received datagrams; returns a function that removes it. */
  onMessage(cb: (msg: Buffer, from: UdpPeer) => void): () => void;
  /** Called once with a DriverError (`Offline`) if the socket fails; never after close(). */
  onClose(cb: (error: DriverError) => void): void;
  /** Closes the socket; resolves once released. Idempotent. */
  close(): Promise<void>;
}

/** Binds a UDP socket; rejects with DriverError `Offline` when the address cannot be bound. */
export function openUdp(opts: UdpOptions): Promise<UdpSocket> {
  const where = `${opts.bindHost}:${opts.bindPort}`;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new DriverError('Offline', `bind of ${where} aborted`));
    const sock = dgram.createSocket({ type: net.isIPv6(opts.bindHost) ? 'udp6' : 'udp4' });
    const settle = (e?: DriverError): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      if (e !== undefined) {
        try {
          sock.close();
        } catch {
          // not bound yet: nothing to release
        }
        reject(e);
      } else resolve(wrap(sock, opts));
    };
    const onError = (e: NodeJS.ErrnoException): void => settle(new DriverError('Offline', `cannot bind UDP ${where}: ${e.message}`, { cause: e, ...(e.code ? { detail: { errno: e.code } } : {}) }));
    const onAbort = (): void => settle(new DriverError('Offline', `bind of ${where} aborted`));
    sock.once('error', onError);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.bind(opts.bindPort, opts.bindHost, () => settle());
  });
}

function wrap(sock: dgram.Socket, opts: UdpOptions): UdpSocket {
  if (opts.broadcast === true) sock.setBroadcast(true);
  const a = sock.address();
  const life = new TransportLife<(msg: Buffer, from: UdpPeer) => void>(
    () =>
      new Promise<void>((resolve) => {
        try {
          sock.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      }),
    opts.signal,
  );
  sock.on('message', (msg, rinfo) => life.emit(msg, { host: rinfo.address, port: rinfo.port }));
  sock.on('error', (e) => life.lose(new DriverError('Offline', `UDP ${a.address}:${a.port} failed: ${e.message}`, { cause: e })));

  return {
    local: { host: a.address, port: a.port },
    get closed() {
      return life.closed;
    },
    send(bytes, host, port) {
      if (life.closed) return Promise.reject(life.error('UDP socket'));
      return new Promise((resolve, reject) => {
        sock.send(bytes, port, host, (e) => (e ? reject(new DriverError('Offline', `UDP send to ${host}:${port} failed: ${e.message}`, { cause: e })) : resolve()));
      });
    },
    onMessage: (cb) => life.listen(cb),
    onClose: (cb) => life.onClose(cb),
    close: () => life.close(),
  };
}
