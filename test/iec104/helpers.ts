/** Test doubles for the IEC 104 tests: a fake clock, a recording driver context, hex helpers. */
import type { Clock, DriverContext, Logger } from '../../src/drivers/sdk/index.ts';

/** Hex string (spaces and `|` allowed as separators) to bytes. */
export function hex(s: string): Uint8Array {
  const t = s.replace(/[\s|]/g, '');
  if (t.length % 2 !== 0) throw new Error(`odd hex: ${s}`);
  return Uint8Array.from(t.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** Bytes to spaced hex. */
export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Manual time: timers fire only in `advance`. */
export class FakeClock implements Clock {
  #now = 1_700_000_000_000;
  #mono = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.#now;
  }
  monotonic(): number {
    return this.#mono;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#mono + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#mono + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (best === undefined || e[1].at < best[1].at)) best = e;
      if (best === undefined) break;
      this.#timers.delete(best[0]);
      this.#now += best[1].at - this.#mono;
      this.#mono = best[1].at;
      best[1].fn();
    }
    this.#now += end - this.#mono;
    this.#mono = end;
  }
}

/** The real clock, as the gateway would pass it. */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A logger that keeps lines for assertions. */
export function memoryLogger(lines: { level: string; obj: unknown; msg?: string | undefined }[] = []): Logger {
  const mk = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  const l: Logger = { debug: mk('debug'), info: mk('info'), warn: mk('warn'), error: mk('error'), child: () => l };
  return l;
}

/** A driver context with counters kept in `counts`. */
export function testContext(clock: Clock = realClock): DriverContext & { counts: Map<string, number>; lines: { level: string; obj: unknown; msg?: string | undefined }[] } {
  const counts = new Map<string, number>();
  const lines: { level: string; obj: unknown; msg?: string | undefined }[] = [];
  return {
    log: memoryLogger(lines),
    clock,
    metrics: { count: (name, _labels, by = 1) => counts.set(name, (counts.get(name) ?? 0) + by) },
    signal: new AbortController().signal,
    dataDir: '/tmp',
    counts,
    lines,
  };
}

/** Polls `cond` every 10 ms until true or `ms` pass; throws on timeout. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
