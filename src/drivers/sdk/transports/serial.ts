/**
 * A serial port stream (the `serialport` package, loaded on first use so that drivers without
 * serial devices never load its native binding). Same {@link ByteStream} shape as TCP.
 *
 * Never calls `SerialPort.list()`: it needs `udevadm`, which many gateways (and containers) lack.
 */
import { DriverError } from '../errors.ts';
import { streamCore } from './stream.ts';
import type { ByteStream } from './stream.ts';

/** Options of {@link openSerial}; the line settings are those of Baetyl's `rtu:` block. */
export interface SerialOptions {
  /** Device path, e.g. `/dev/ttyUSB0`. */
  readonly path: string;
  readonly baudRate: number;
  /** Default `none`. */
  readonly parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** Default 8. */
  readonly dataBits?: 5 | 6 | 7 | 8;
  /** Default 1. */
  readonly stopBits?: 1 | 1.5 | 2;
  /** Aborting fails a pending open with `Offline` and closes an open stream (no onClose). */
  readonly signal?: AbortSignal;
}

/** An open serial port. */
export interface SerialStream extends ByteStream {
  readonly path: string;
}

/** The part of serialport's SerialPort class used here. */
interface Port {
  open(cb: (e: Error | null) => void): void;
  write(data: Uint8Array): boolean;
  close(cb: (e: Error | null) => void): void;
  readonly isOpen: boolean;
  on(ev: 'data', cb: (d: Buffer) => void): unknown;
  on(ev: 'error', cb: (e: Error) => void): unknown;
  on(ev: 'close', cb: (e?: Error & { disconnected?: boolean }) => void): unknown;
}

/**
 * Opens the port; rejects with DriverError `Offline` when it cannot be opened (missing, busy,
 * no permission) or the open is aborted.
 */
export async function openSerial(opts: SerialOptions): Promise<SerialStream> {
  if (opts.signal?.aborted) throw new DriverError('Offline', `open of ${opts.path} aborted`);
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({
    path: opts.path,
    baudRate: opts.baudRate,
    parity: opts.parity ?? 'none',
    dataBits: opts.dataBits ?? 8,
    stopBits: opts.stopBits ?? 1,
    autoOpen: false,
  }) as unknown as Port;
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const onAbort = (): void => {
      if (done) return;
      done = true;
      // The open may still complete: close it then.
      port.on('error', () => undefined);
      setImmediate(() => port.isOpen && port.close(() => undefined));
      reject(new DriverError('Offline', `open of ${opts.path} aborted`));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    port.open((e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (done) {
        if (e === null) port.close(() => undefined);
        return;
      }
      done = true;
      if (e === null) resolve();
      else reject(new DriverError('Offline', `cannot open ${opts.path}: ${e.message}`, { cause: e }));
    });
  });
  const core = streamCore(
    {
      send(chunks) {
        port.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      },
      destroy: () =>
        new Promise<void>((resolve) => {
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        }),
    },
    opts.signal,
  );
  port.on('data', (d) => core.data(d));
  port.on('error', (e) => core.lost(`${opts.path} failed: ${e.message}`, e));
  // 'close' with `disconnected` when the device went away (USB adapter pulled, pty peer gone).
  port.on('close', (e) => core.lost(e?.message ? `${opts.path} closed: ${e.message}` : `${opts.path} closed`, e));
  return Object.assign(core.stream, { path: opts.path }) as SerialStream;
}
