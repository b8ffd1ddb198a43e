/**
 * The ONVIF pull-point loop of one camera (ONVIF Core §9.1 "Real-time Pull-Point Notification
 * Interface"): CreatePullPointSubscription, then PullMessages (a long poll the camera answers when
 * events arrive or its timeout ends), Renew well before the termination time (PT2M), and on a
 * failure a new subscription after a growing delay. It never spins: an empty answer that came
 * back at once (a camera that does not hold the poll) is followed by a pause.
 */
import type { DriverError } from '../sdk/index.ts';
import { toEventCalls } from './events.ts';
import { toOnvifError } from './onvif.ts';
import type { OnvifCamera } from './onvif.ts';

export interface PullPointOptions {
  /** One call per notification, in order. */
  readonly onEvents: (events: Record<string, unknown>, ts: number | undefined) => void;
  /** A failed create/pull/renew (the loop goes on after a delay). */
  readonly onError: (error: DriverError) => void;
  readonly now: () => number;
  /** Renew after this long (ms); the package asks for PT2M subscriptions. */
  readonly renewEvery?: number;
  /** Least time between two pulls that returned nothing (ms). */
  readonly minPullGap?: number;
  /** Delay after the first failure, doubled up to `maxDelay` (ms). */
  readonly retryDelay?: number;
  readonly maxDelay?: number;
}

type Camera = Pick<OnvifCamera, 'createPullPoint' | 'pullMessages' | 'renew' | 'unsubscribe' | 'closed' | 'abortEvents'>;

/** Runs until {@link PullPointLoop.stop}. */
export class PullPointLoop {
  #stopped = false;
  #wake: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  /** Pull requests made (tests check that an idle camera is not hammered). */
  pulls = 0;
  subscriptions = 0;

  constructor(
    private readonly camera: Camera,
    private readonly opts: PullPointOptions,
  ) {}

  start(): void {
    this.#done = this.#run();
  }

  /** Stops the loop, ending a pull in flight, and unsubscribes (best effort, bounded). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.camera.abortEvents();
    await this.#done;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    const renewEvery = this.opts.renewEvery ?? 45_000;
    const minGap = this.opts.minPullGap ?? 1000;
    let subscribed = false;
    let lastRenew = 0;
    let failures = 0;
    while (!this.#stopped && !this.camera.closed) {
      try {
        if (!subscribed) {
          await this.camera.createPullPoint();
          this.subscriptions++;
          subscribed = true;
          lastRenew = this.opts.now();
        }
        const t0 = this.opts.now();
        this.pulls++;
        const messages = await this.camera.pullMessages(10);
        if (this.#stopped) break;
        failures = 0;
        for (const call of toEventCalls(messages)) this.opts.onEvents(call.events, call.ts);
        if (this.opts.now() - lastRenew >= renewEvery) {
          await this.camera.renew();
          lastRenew = this.opts.now();
        }
        const took = this.opts.now() - t0;
        if (messages.length === 0 && took < minGap) await this.#sleep(minGap - took);
      } catch (e) {
        if (this.#stopped || this.camera.closed) break;
        subscribed = false;
        this.opts.onError(toOnvifError(e, 'ONVIF events'));
        const base = this.opts.retryDelay ?? 1000;
        await this.#sleep(Math.min(this.opts.maxDelay ?? 30_000, base * 2 ** Math.min(failures++, 10)));
      }
    }
    if (subscribed && !this.camera.closed) await this.camera.unsubscribe();
  }
}
