/**
 * One link (a TCP endpoint, a serial bus, an OPC UA session…) owned by the gateway: an explicit
 * state machine `idle → connecting → online → backoff → … → closing → closed` and a request queue
 * that lets at most `window` calls run on the session at once, writes before reads.
 *
 * Drivers never reconnect themselves: a lost link (onLost, or an `Offline` error from a call, or
 * `maxTimeouts` timeouts in a row with no answer in between) moves it to `backoff`, and the link
 * reconnects after an exponentially growing, jittered delay.
 */
import { DriverError, toDriverError } from '../../drivers/sdk/index.ts';
import type { BaseConnection, Clock, Driver, Logger, PointError, Session } from '../../drivers/sdk/index.ts';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';

export type LinkState = 'idle' | 'connecting' | 'online' | 'backoff' | 'closing' | 'closed';

export interface LinkOptions<C extends BaseConnection> {
  readonly key: string;
  readonly window: number;
  readonly driver: Driver<C, unknown>;
  readonly connection: C;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff?: BackoffPolicy;
  /**
   * Consecutive timeouts (with no success between) after which the link is recycled, provided
   * every device on the link timed out in that run (one dead unit on a shared bus is not a dead bus).
   */
  readonly maxTimeouts?: number;
  /** How many devices share the link now. */
  readonly deviceCount?: () => number;
  /** Called on every state change, after the change. */
  readonly onState?: (state: LinkState, error: PointError | undefined) => void;
  /** Called each time a session is online (first connect and every reconnect). */
  readonly onSession?: (session: Session<C, unknown>) => void;
}

interface Job<C extends BaseConnection> {
  readonly run: (session: Session<C, unknown>) => Promise<unknown>;
  readonly device: string | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** Counters of one link, for metrics and tests. */
export interface LinkStats {
  connects: number;
  failures: number;
  reconnects: number;
  calls: number;
}

export class Link<C extends BaseConnection = BaseConnection> {
  readonly key: string;
  private stateValue: LinkState = 'idle';
  private session: Session<C, unknown> | undefined;
  private attempt = 0;
  private timer: unknown;
  private abort = new AbortController();
  private readonly writes: Job<C>[] = [];
  private readonly reads: Job<C>[] = [];
  private inFlight = 0;
  private timeouts = 0;
  private readonly timedOut = new Set<string>();
  private lastError: PointError | undefined;
  readonly stats: LinkStats = { connects: 0, failures: 0, reconnects: 0, calls: 0 };

  constructor(private readonly opts: LinkOptions<C>) {
    this.key = opts.key;
  }

  get state(): LinkState {
    return this.stateValue;
  }

  /** The open session while online (for pure calls such as planReads). */
  get current(): Session<C, unknown> | undefined {
    return this.stateValue === 'online' ? this.session : undefined;
  }

  /** The error that moved the link out of `online` last, if any. */
  get error(): PointError | undefined {
    return this.lastError;
  }

  /** Starts connecting (from idle). */
  start(): void {
    if (this.stateValue !== 'idle') return;
    void this.connect();
  }

  /**
   * Runs `fn` on the session when a slot is free. Writes go before queued reads. Rejects at once
   * with `Offline` when the link is not online (polls fail fast instead of piling up).
   */
  run<T>(fn: (session: Session<C, unknown>) => Promise<T>, kind: 'read' | 'write' = 'read', device?: string): Promise<T> {
    if (this.stateValue !== 'online') {
      return Promise.reject(new DriverError('Offline', `link ${this.key} is ${this.stateValue}${this.lastError ? `: ${this.lastError.message}` : ''}`));
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job<C> = { run: fn, device, resolve: resolve as (v: unknown) => void, reject };
      (kind === 'write' ? this.writes : this.reads).push(job);
      this.pump();
    });
  }

  /** Closes the link for good. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed' || this.stateValue === 'closing') return;
    this.setState('closing', undefined);
    this.opts.clock.clearTimeout(this.timer);
    this.abort.abort(new DriverError('Offline', 'link closed'));
    this.failQueued(new DriverError('Offline', 'link closed'));
    const s = this.session;
    this.session = undefined;
    if (s) await s.close().catch(() => undefined);
    this.setState('closed', undefined);
  }

  private setState(state: LinkState, error: PointError | undefined): void {
    if (this.stateValue === state) return;
    const from = this.stateValue;
    this.stateValue = state;
    if (error) this.lastError = error;
    if (state === 'online' || state === 'backoff' || state === 'closed') {
      this.opts.log.info({ from, to: state, ...(error ? { code: error.code, error: error.message } : {}) }, 'link state');
    }
    this.opts.onState?.(state, error);
  }

  private async connect(): Promise<void> {
    this.setState('connecting', undefined);
    const signal = this.abort.signal;
    let session: Session<C, unknown>;
    try {
      session = await this.opts.driver.connect(this.opts.connection, {
        signal,
        onLost: (e) => this.lost(session, e),
      });
    } catch (e) {
      if (this.isClosing()) return;
      const err = toDriverError(e, 'Offline');
      this.stats.failures++;
      this.scheduleReconnect({ code: err.code, message: err.message });
      return;
    }
    if (this.isClosing()) {
      await session.close().catch(() => undefined);
      return;
    }
    this.session = session;
    this.attempt = 0;
    this.timeouts = 0;
    this.timedOut.clear();
    this.stats.connects++;
    this.setState('online', undefined);
    this.opts.onSession?.(session);
    this.pump();
  }

  private isClosing(): boolean {
    return this.stateValue === 'closing' || this.stateValue === 'closed';
  }

  /** The session broke (from the driver's onLost or a call's Offline error). */
  private lost(session: Session<C, unknown> | undefined, error: PointError): void {
    if (session !== undefined && session !== this.session) return; // an old session's late report
    if (this.stateValue !== 'online') return;
    this.session = undefined;
    this.stats.failures++;
    void session?.close().catch(() => undefined);
    this.failQueued(new DriverError('Offline', `link ${this.key} lost: ${error.message}`));
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: PointError): void {
    const delay = backoffDelay(this.opts.backoff ?? DEFAULT_BACKOFF, this.attempt++);
    this.setState('backoff', error);
    this.opts.log.debug({ delay }, 'reconnect scheduled');
    this.timer = this.opts.clock.setTimeout(() => {
      if (this.stateValue !== 'backoff') return;
      this.stats.reconnects++;
      void this.connect();
    }, delay);
  }

  private countTimeout(session: Session<C, unknown>, device: string | undefined): void {
    this.timeouts++;
    if (device !== undefined) this.timedOut.add(device);
    const all = this.timedOut.size >= (this.opts.deviceCount?.() ?? 1);
    if (this.timeouts >= (this.opts.maxTimeouts ?? 3) && all) {
      this.lost(session, { code: 'Timeout', message: `${this.timeouts} requests in a row timed out` });
    }
  }

  private failQueued(e: DriverError): void {
    for (const q of [this.writes, this.reads]) {
      for (const job of q.splice(0)) job.reject(e);
    }
  }

  private pump(): void {
    while (this.stateValue === 'online' && this.inFlight < this.opts.window) {
      const job = this.writes.shift() ?? this.reads.shift();
      if (job === undefined) return;
      const session = this.session!;
      this.inFlight++;
      this.stats.calls++;
      job
        .run(session)
        .then(
          (v) => {
            this.timeouts = 0;
            this.timedOut.clear();
            job.resolve(v);
          },
          (e) => {
            const err = toDriverError(e);
            if (err.code === 'Offline') this.lost(session, { code: err.code, message: err.message });
            else if (err.code === 'Timeout') this.countTimeout(session, job.device);
            job.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
