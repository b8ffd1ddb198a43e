/**
 * When a process's event loop did not run: a 20 ms ticker that came late. On a shared 2-core
 * machine a process is blocked (by its own work) or not scheduled (by others' work); either way its
 * timers and sockets wait, so a gap between two reports that spans such a stall is partly the
 * machine's, not the gateway's. The scenarios subtract these stalls, measured in the gateway's
 * process and in every simulator process, from the gaps they check.
 */

/** One stall: from `at` (epoch ms) for `ms`. */
export interface Stall {
  readonly at: number;
  readonly ms: number;
}

const TICK_MS = 20;

/** Records stalls longer than `thresholdMs` until `stop`. */
export function watchStalls(thresholdMs = 50): { readonly stalls: Stall[]; stop(): void } {
  const stalls: Stall[] = [];
  let last = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    if (late > thresholdMs) stalls.push({ at: Date.now() - late, ms: Math.round(late) });
    last = now;
  }, TICK_MS);
  t.unref();
  return { stalls, stop: () => clearInterval(t) };
}

/** Milliseconds of [from, to] covered by stalls (overlapping stalls counted once). */
export function stalledWithin(stalls: readonly Stall[], from: number, to: number): number {
  const parts = stalls
    .map((s) => [Math.max(from, s.at), Math.min(to, s.at + s.ms)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of parts) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
