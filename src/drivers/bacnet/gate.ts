/**
 * A counting semaphore. The gateway already limits calls per link to `LinkSpec.window`; the
 * session guards again because COV renewals and fallback polls run outside the gateway's queue,
 * and @bacnet-js/client has only 256 invoke ids per socket.
 */
export class Gate {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** Runs `fn` when a slot is free; slots are granted in call order. */
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
