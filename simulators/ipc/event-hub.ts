/**
 * Pull-point subscriptions of the simulated camera (ONVIF Event spec §5.2.2, WS-BaseNotification):
 * each subscription queues the events raised after it was created, starting with one
 * `Initialized` message per property (motion, tamper) carrying the current state, as cameras do
 * for property events. `pull` answers at once when messages wait, else long-polls until one is
 * raised, the timeout passes or the request is aborted.
 */

export type EventKind = 'motion' | 'tamper';

/** ONVIF topics (ONVIF Event spec, Annex; Analytics/Imaging topic set). */
export const TOPICS: Readonly<Record<EventKind, string>> = {
  motion: 'tns1:VideoSource/MotionAlarm',
  tamper: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
};

export interface CameraEvent {
  readonly kind: EventKind;
  readonly topic: string;
  readonly utcTime: number;
  readonly operation: 'Initialized' | 'Changed';
  readonly state: boolean;
}

export interface Subscription {
  readonly id: string;
  terminationTime: number;
  readonly queue: CameraEvent[];
  /** Wakes the pending pull, if any. */
  wake: (() => void) | undefined;
}

export interface EventHubOptions {
  readonly now?: () => number;
  readonly maxSubscriptions?: number;
  /** Messages kept per subscription; the oldest are dropped beyond it. */
  readonly maxQueue?: number;
}

export class EventHub {
  readonly #subs = new Map<string, Subscription>();
  readonly #state: Record<EventKind, boolean> = { motion: false, tamper: false };
  readonly #now: () => number;
  readonly #maxSubs: number;
  readonly #maxQueue: number;
  #next = 1;

  constructor(opts: EventHubOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#maxSubs = opts.maxSubscriptions ?? 32;
    this.#maxQueue = opts.maxQueue ?? 100;
  }

  #sweep(): void {
    const t = this.#now();
    for (const [id, s] of this.#subs) {
      if (s.terminationTime <= t) {
        s.wake?.();
        this.#subs.delete(id);
      }
    }
  }

  /** A new subscription until `terminationTime`; undefined when the camera has no room left. */
  create(terminationTime: number): Subscription | undefined {
    this.#sweep();
    if (this.#subs.size >= this.#maxSubs) return undefined;
    const t = this.#now();
    const sub: Subscription = {
      id: String(this.#next++),
      terminationTime,
      queue: (Object.keys(TOPICS) as EventKind[]).map((kind) => ({ kind, topic: TOPICS[kind], utcTime: t, operation: 'Initialized', state: this.#state[kind] })),
      wake: undefined,
    };
    this.#subs.set(sub.id, sub);
    return sub;
  }

  /** The live subscription `id` (expired ones are gone). */
  get(id: string): Subscription | undefined {
    this.#sweep();
    return this.#subs.get(id);
  }

  remove(id: string): boolean {
    const s = this.#subs.get(id);
    s?.wake?.();
    return this.#subs.delete(id);
  }

  count(): number {
    this.#sweep();
    return this.#subs.size;
  }

  state(kind: EventKind): boolean {
    return this.#state[kind];
  }

  /** Sets a property and queues a `Changed` message for every live subscription. */
  raise(kind: EventKind, state: boolean): void {
    this.#sweep();
    this.#state[kind] = state;
    const ev: CameraEvent = { kind, topic: TOPICS[kind], utcTime: this.#now(), operation: 'Changed', state };
    for (const s of this.#subs.values()) {
      s.queue.push(ev);
      if (s.queue.length > this.#maxQueue) s.queue.splice(0, s.queue.length - this.#maxQueue);
      s.wake?.();
    }
  }

  /** Up to `limit` messages, waiting at most `timeoutMs` for the first one. */
  pull(sub: Subscription, limit: number, timeoutMs: number, signal: AbortSignal): Promise<CameraEvent[]> {
    const take = (): CameraEvent[] => sub.queue.splice(0, Math.max(1, limit));
    if (sub.queue.length > 0 || timeoutMs <= 0 || signal.aborted) return Promise.resolve(take());
    // One pull at a time per subscription: a newer pull ends the older one (empty answer).
    sub.wake?.();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (sub.wake === done) sub.wake = undefined;
        resolve(take());
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      sub.wake = done;
    });
  }

  /** Ends every pending pull (pause/stop). */
  wakeAll(): void {
    for (const s of this.#subs.values()) s.wake?.();
  }
}
