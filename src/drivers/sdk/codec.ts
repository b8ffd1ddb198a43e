/**
 * The decoder result every protocol codec returns, and a splitter that turns a byte stream
 * (chunks as the socket delivers them: split, coalesced, or both) into frames with such a decoder.
 * Pure: no sockets, no timers.
 */

/**
 * What a decoder made of the bytes at the start of a buffer:
 * - `ok`: one frame, `value`, which used the first `consumed` bytes (> 0);
 * - `incomplete`: the bytes so far are a valid start; wait for more;
 * - `error`: the bytes are malformed. `consumed`, when given, is how many bytes to drop to get back
 *   in step (e.g. one bad line of a line protocol); without it the stream cannot be resynchronised.
 *
 * Unlike a `null` that means both "need more bytes" and "malformed", each case is explicit.
 */
export type DecodeResult<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: string; readonly consumed?: number };

/** A pure decoder of the frame at the start of `buf` (it must not keep `buf`). */
export type Decoder<T> = (buf: Uint8Array) => DecodeResult<T>;

/** A decoded frame that used `consumed` bytes. */
export function ok<T>(value: T, consumed: number): DecodeResult<T> {
  return { kind: 'ok', value, consumed };
}

const INCOMPLETE: DecodeResult<never> = Object.freeze({ kind: 'incomplete' });

/** "Need more bytes". */
export function incomplete<T = never>(): DecodeResult<T> {
  return INCOMPLETE;
}

/** Malformed input; give `consumed` when the stream can resume after that many bytes. */
export function fail<T = never>(error: string, consumed?: number): DecodeResult<T> {
  return consumed === undefined ? { kind: 'error', error } : { kind: 'error', error, consumed };
}

/**
 * One item out of {@link FrameSplitter.push}: a frame, or an error. `fatal` errors (an error
 * without `consumed`, a decoder that broke its contract, a buffer past `maxBuffer`) drop every
 * buffered byte: the caller should treat the stream as out of step (usually: close the link).
 */
export type SplitItem<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly error: string; readonly fatal: boolean };

/** Options of {@link FrameSplitter}. */
export interface FrameSplitterOptions {
  /** Most bytes kept while waiting for a frame to complete (default 65536). */
  readonly maxBuffer?: number;
}

/**
 * Feeds chunks to a decoder and returns the complete frames. Bytes of an incomplete frame are kept
 * for the next chunk, up to `maxBuffer`; past that the buffer is dropped with a fatal error, so a
 * peer that never ends a frame cannot grow memory without bound.
 *
 * ```ts
 * const split = new FrameSplitter(decodeReply, { maxBuffer: 4096 });
 * stream.onData((chunk) => { for (const f of split.push(chunk)) if (f.kind === 'ok') handle(f.value); });
 * ```
 */
export class FrameSplitter<T> {
  readonly #decode: Decoder<T>;
  readonly #max: number;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(decode: Decoder<T>, options: FrameSplitterOptions = {}) {
    this.#decode = decode;
    this.#max = Math.max(1, options.maxBuffer ?? 65_536);
  }

  /** Bytes held back, waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Drops held-back bytes (after a reconnect, say). */
  reset(): void {
    this.#buf = new Uint8Array(0);
  }

  /** Adds one chunk; returns the frames (and errors) it completed, in stream order. */
  push(chunk: Uint8Array): SplitItem<T>[] {
    // Copy only when bytes are held back; a chunk that holds whole frames is decoded in place.
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: SplitItem<T>[] = [];
    // Every pass consumes at least one byte or stops, so this ends within buf.length passes.
    while (buf.length > 0) {
      const r = this.#decode(buf);
      if (r.kind === 'incomplete') break;
      const used = r.consumed;
      if (used === undefined || !Number.isInteger(used) || used <= 0 || used > buf.length) {
        const why = r.kind === 'error' ? r.error : `decoder reported consumed=${String(used)} of ${buf.length} bytes`;
        out.push({ kind: 'error', error: why, fatal: true });
        buf = new Uint8Array(0);
        break;
      }
      out.push(r.kind === 'ok' ? { kind: 'ok', value: r.value } : { kind: 'error', error: r.error, fatal: false });
      buf = buf.subarray(used);
    }
    if (buf.length > this.#max) {
      out.push({ kind: 'error', error: `${buf.length} bytes buffered without a complete frame (limit ${this.#max})`, fatal: true });
      buf = new Uint8Array(0);
    }
    // Keep a copy of the tail, so the caller's chunk (possibly a pooled Buffer) is not retained.
    this.#buf = buf.length === 0 ? new Uint8Array(0) : new Uint8Array(buf);
    return out;
  }
}
