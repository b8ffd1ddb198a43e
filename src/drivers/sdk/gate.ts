/**
 * A counting semaphore: at most `size` calls of {@link Gate.run} in flight, the rest wait in call
 * order. The gateway already limits calls per link to `LinkSpec.window`; a session guards again
 * where its library breaks silently past a limit (modbus-serial: parallel RTU requests time out,
 * MBAP transaction ids wrap at 256; @bacnet-js/client: 256 invoke ids per socket) or where it
 * makes calls of its own outside the gateway's queue (COV renewals, fallback polls).
 */
export class Gate {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  /** `size` below 1 counts as 1. */
  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.#busy;
  }

  /** Calls waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `fn` when a slot is free; slots are granted in call order. A throw frees the slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake it.
      if (next !== undefined) next();
      else this.#busy--;
    }
  }
}
