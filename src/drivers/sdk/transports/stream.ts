/**
 * The shape every byte-stream transport (TCP, serial) hands to a session, and the bookkeeping they
 * share: data listeners, one loss report, idempotent close.
 */
import { DriverError } from '../errors.ts';
import { TransportLife } from './life.ts';

/**
 * A connected byte stream.
 *
 * Ownership: the session that opened it closes it. `onClose` reports only losses the owner did not
 * ask for (peer closed, I/O error), exactly once; `close()` (or aborting the `signal` the stream
 * was opened with) never triggers it. `close()` may be called any number of times.
 */
export interface ByteStream {
  /** True once closed or lost. */
  readonly closed: boolean;
  /**
   * Queues bytes for sending. An array is sent as one write (one TCP segment when it fits), so a
   * batch of requests does not cost a segment each. Throws DriverError `Offline` once closed.
   */
  write(bytes: Uint8Array | readonly Uint8Array[]): void;
  /** Adds a listener of received chunks, in arrival order; returns a function that removes it. */
  onData(cb: (chunk: Buffer) => void): () => void;
  /**
   * Called once with a DriverError (`Offline`) when the link is lost; if it already was, `cb` is
   * called on the next microtask.
   */
  onClose(cb: (error: DriverError) => void): void;
  /** Closes the stream; resolves when the handle is released. Idempotent. */
  close(): Promise<void>;
}

/** What a transport plugs into {@link streamCore}. */
export interface StreamDriver {
  /** Sends the bytes (one write for several chunks where the medium allows). */
  send(chunks: readonly Uint8Array[]): void;
  /** Releases the handle; resolves once released. Called at most once. */
  destroy(): Promise<void>;
}

/** The listener half of a {@link ByteStream}, for a transport to feed. */
export interface StreamCore {
  readonly stream: ByteStream;
  /** Delivers a received chunk to the listeners. */
  data(chunk: Buffer): void;
  /** Reports a loss (first call wins; ignored after close()). Releases the handle. */
  lost(message: string, cause?: unknown): void;
}

/** Builds a {@link ByteStream} over a transport's send/destroy; `signal` aborts close it. */
export function streamCore(driver: StreamDriver, signal?: AbortSignal): StreamCore {
  const life = new TransportLife<(chunk: Buffer) => void>(() => driver.destroy(), signal);
  const stream: ByteStream = {
    get closed() {
      return life.closed;
    },
    write(bytes) {
      if (life.closed) throw life.error('stream');
      const chunks = bytes instanceof Uint8Array ? [bytes] : bytes;
      if (chunks.length > 0) driver.send(chunks);
    },
    onData: (cb) => life.listen(cb),
    onClose: (cb) => life.onClose(cb),
    close: () => life.close(),
  };
  return {
    stream,
    data: (chunk) => life.emit(chunk),
    lost: (message, cause) => life.lose(new DriverError('Offline', message, cause === undefined ? undefined : { cause })),
  };
}
