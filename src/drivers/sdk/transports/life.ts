/**
 * The lifecycle every transport handle shares: listeners fed while open, one loss report
 * (`onClose` callbacks run once, with the `Offline` error, only for a loss never asked for),
 * an idempotent close that releases the resource once, and an abort signal that closes it.
 */
import { DriverError } from '../errors.ts';

export class TransportLife<L extends (...args: never[]) => void> {
  #state: 'open' | 'lost' | 'closed' = 'open';
  #lostError: DriverError | undefined;
  #released: Promise<void> | undefined;
  readonly #listeners = new Set<L>();
  readonly #closers: ((e: DriverError) => void)[] = [];
  readonly #onAbort = (): void => void this.close();

  /** `release` frees the resource (called once, by close or loss). */
  constructor(
    private readonly release: () => Promise<void>,
    private readonly signal?: AbortSignal,
  ) {
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Why the handle is unusable: the loss, else "closed" with `what`. */
  error(what: string): DriverError {
    return this.#lostError ?? new DriverError('Offline', `${what} closed`);
  }

  listen(cb: L): () => void {
    this.#listeners.add(cb);
    return () => void this.#listeners.delete(cb);
  }

  /** Delivers to the listeners while open. */
  emit(...args: Parameters<L>): void {
    if (this.#state !== 'open') return;
    for (const cb of [...this.#listeners]) cb(...args);
  }

  onClose(cb: (e: DriverError) => void): void {
    if (this.#state === 'lost' && this.#lostError !== undefined) {
      const e = this.#lostError;
      queueMicrotask(() => cb(e));
    } else if (this.#state === 'open') this.#closers.push(cb);
  }

  /** The first loss wins; ignored after close(). Releases the resource. */
  lose(error: DriverError): void {
    if (this.#state !== 'open') return;
    this.#state = 'lost';
    this.signal?.removeEventListener('abort', this.#onAbort);
    this.#lostError = error;
    void this.#release();
    for (const cb of this.#closers.splice(0)) cb(error);
    this.#listeners.clear();
  }

  close(): Promise<void> {
    if (this.#state === 'open') {
      this.#state = 'closed';
      this.signal?.removeEventListener('abort', this.#onAbort);
      this.#listeners.clear();
      this.#closers.length = 0;
    }
    return this.#release();
  }

  #release(): Promise<void> {
    return (this.#released ??= this.release().catch(() => undefined));
  }
}
