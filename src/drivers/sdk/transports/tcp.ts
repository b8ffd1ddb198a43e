/**
 * A TCP client stream (node:net) for drivers: connect with a deadline, map connect failures to
 * DriverError codes, and report a lost link once. See {@link ByteStream} for the ownership rules.
 */
import net from 'node:net';
import { DriverError } from '../errors.ts';
import { streamCore } from './stream.ts';
import type { ByteStream } from './stream.ts';

/** Options of {@link openTcp}. */
export interface TcpOptions {
  readonly host: string;
  readonly port: number;
  /** Deadline of the connect, ms; past it the attempt fails with `Timeout`. */
  readonly timeoutMs: number;
  /** Aborting fails a pending connect with `Offline` and closes an open stream (no onClose). */
  readonly signal?: AbortSignal;
  /** Disable Nagle's algorithm (default true: request/response protocols want each request sent now). */
  readonly noDelay?: boolean;
  /** TCP keep-alive: `true`, or the idle time in ms before the first probe. Default off. */
  readonly keepAlive?: boolean | number;
}

/** A connected TCP stream, with the addresses of both ends. */
export interface TcpStream extends ByteStream {
  readonly remote: { readonly host: string; readonly port: number };
  readonly local: { readonly host: string; readonly port: number };
}

/** Socket error codes that mean "nobody there" rather than "no answer in time". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EPIPE']);

/** Maps a connect failure to a DriverError (`Timeout` for ETIMEDOUT, `Offline` otherwise). */
export function connectError(e: NodeJS.ErrnoException, where: string): DriverError {
  const code = e.code ?? '';
  const detail = code === '' ? undefined : { errno: code };
  if (code === 'ETIMEDOUT') return new DriverError('Timeout', `no connection to ${where}: ${e.message}`, { cause: e, ...(detail ? { detail } : {}) });
  const why = UNREACHABLE.has(code) ? e.message : `${e.message} (unexpected)`;
  return new DriverError('Offline', `cannot connect to ${where}: ${why}`, { cause: e, ...(detail ? { detail } : {}) });
}

/**
 * Connects to `host:port`. Resolves with the open stream; rejects with a DriverError: `Timeout`
 * when no connection is made within `timeoutMs`, `Offline` when refused, unreachable or aborted.
 */
export function openTcp(opts: TcpOptions): Promise<TcpStream> {
  const where = `${opts.host}:${opts.port}`;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new DriverError('Offline', `connect to ${where} aborted`));
    const socket = net.connect({ host: opts.host, port: opts.port });
    const settle = (e?: DriverError): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      if (e !== undefined) {
        socket.destroy();
        reject(e);
      } else resolve(wrap(socket, opts));
    };
    const onError = (e: NodeJS.ErrnoException): void => settle(connectError(e, where));
    const onAbort = (): void => settle(new DriverError('Offline', `connect to ${where} aborted`));
    const onConnect = (): void => settle();
    const timer = setTimeout(() => settle(new DriverError('Timeout', `no connection to ${where} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    socket.once('error', onError);
    socket.once('connect', onConnect);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function wrap(socket: net.Socket, opts: TcpOptions): TcpStream {
  socket.setNoDelay(opts.noDelay ?? true);
  if (opts.keepAlive !== undefined && opts.keepAlive !== false) socket.setKeepAlive(true, opts.keepAlive === true ? 0 : opts.keepAlive);
  const core = streamCore(
    {
      send(chunks) {
        if (chunks.length === 1) socket.write(chunks[0]!);
        else {
          socket.cork();
          for (const c of chunks) socket.write(c);
          socket.uncork();
        }
      },
      destroy: () =>
        new Promise<void>((resolve) => {
          if (socket.closed) return resolve();
          socket.once('close', () => resolve());
          socket.destroy();
        }),
    },
    opts.signal,
  );
  socket.on('data', (d: Buffer) => core.data(d));
  // 'error' is always followed by 'close'; report the error's text, once.
  socket.on('error', (e) => core.lost(`connection to ${opts.host}:${opts.port} failed: ${e.message}`, e));
  socket.on('close', () => core.lost(`connection to ${opts.host}:${opts.port} closed by the peer`));
  // A half-close from the peer: we cannot answer over a link it stopped reading.
  socket.on('end', () => core.lost(`connection to ${opts.host}:${opts.port} closed by the peer`));
  const remote = { host: socket.remoteAddress ?? opts.host, port: socket.remotePort ?? opts.port };
  const local = { host: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  return Object.assign(core.stream, { remote, local }) as TcpStream;
}
