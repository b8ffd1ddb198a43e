/**
 * Cuts a TCP byte stream into APDUs. TCP keeps no message boundaries: one `data` event may hold
 * half an APDU or several; this keeps the remainder between pushes. A framing error (wrong start
 * octet, bad length) leaves the stream without a known boundary, so the splitter stops there and
 * the link must be closed (IEC 60870-5-104 §5: the receiver cannot resynchronize).
 */
import { decodeApdu } from './apci.ts';
import type { Apdu } from './apci.ts';
import type { CodecError } from './types.ts';

/** What one push produced: the complete APDUs, then an error if the stream broke after them. */
export interface SplitResult {
  readonly frames: Apdu[];
  readonly error?: CodecError;
}

/** Streaming APDU splitter; one per connection. */
export class FrameSplitter {
  #pending: Uint8Array = new Uint8Array(0);
  #broken: CodecError | undefined;

  /** Bytes held back waiting for the rest of an APDU. */
  get buffered(): number {
    return this.#pending.length;
  }

  /**
   * Adds bytes from the stream. The returned frames' ASDUs are views of the pushed bytes (or of a
   * buffer the splitter never touches again): do not overwrite a chunk after pushing it. After an
   * error every push returns that error.
   */
  push(chunk: Uint8Array): SplitResult {
    if (this.#broken !== undefined) return { frames: [], error: this.#broken };
    let buf: Uint8Array;
    if (this.#pending.length === 0) {
      buf = chunk;
    } else {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending, 0);
      buf.set(chunk, this.#pending.length);
    }
    const frames: Apdu[] = [];
    let offset = 0;
    for (;;) {
      const r = decodeApdu(buf, offset);
      if (r.kind === 'ok') {
        frames.push(r.value);
        offset += r.consumed;
        continue;
      }
      if (r.kind === 'incomplete') {
        // Copy the tail: `chunk` belongs to the socket and may be reused by the caller.
        this.#pending = offset === buf.length ? new Uint8Array(0) : buf.slice(offset);
        return { frames };
      }
      this.#broken = r.error;
      this.#pending = new Uint8Array(0);
      return { frames, error: r.error };
    }
  }
}
