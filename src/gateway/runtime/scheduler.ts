/**
 * A fixed-rate poll timer for one device: ticks at `origin + offset + k * interval` on the
 * monotonic clock, so no drift accumulates; a tick that finds the previous poll still running is
 * skipped and counted as an overrun, as are ticks missed while the process was stalled.
 */
import type { Clock } from '../../drivers/sdk/index.ts';

export interface PollTimerOptions {
  readonly clock: Clock;
  /** Poll period in ms. */
  readonly interval: number;
  /** Delay of the first tick in ms (staggers devices across the period). */
  readonly offset: number;
  /** One poll; the timer never runs two at once. */
  readonly poll: () => Promise<void>;
  /** Called with the number of ticks skipped. */
  readonly onOverrun?: (skipped: number) => void;
}

export class PollTimer {
  private origin = 0;
  private tick = 0;
  private handle: unknown;
  private running = false;
  private stopped = true;
  /** Ticks skipped because a poll was still running or the process stalled. */
  overruns = 0;
  /** Polls started. */
  polls = 0;

  constructor(private readonly opts: PollTimerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.origin = this.opts.clock.monotonic() + this.opts.offset;
    this.tick = 0;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.handle);
  }

  private arm(): void {
    if (this.stopped) return;
    const due = this.origin + this.tick * this.opts.interval;
    const wait = Math.max(0, due - this.opts.clock.monotonic());
    this.handle = this.opts.clock.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    if (this.stopped) return;
    const now = this.opts.clock.monotonic();
    // Ticks whose time has passed beyond the current one were missed (stall): skip them.
    const current = Math.max(this.tick, Math.floor((now - this.origin) / this.opts.interval));
    const missed = current - this.tick;
    this.tick = current + 1;
    let skipped = missed;
    if (this.running) skipped++;
    else {
      this.running = true;
      this.polls++;
      this.opts
        .poll()
        .catch(() => undefined)
        .finally(() => {
          this.running = false;
        });
    }
    if (skipped > 0) {
      this.overruns += skipped;
      this.opts.onOverrun?.(skipped);
    }
    this.arm();
  }
}

/** Spreads `count` devices of the same interval evenly over it; deterministic. */
export function staggerOffset(index: number, count: number, interval: number): number {
  if (count <= 1) return 0;
  return Math.floor((index * interval) / count) % interval;
}
