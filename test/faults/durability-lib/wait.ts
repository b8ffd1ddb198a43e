/** Bounded waiting on a state (never a fixed sleep where a state exists). */

/** Polls `check` (sync or async) every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<number> {
  const t0 = Date.now();
  const end = t0 + timeoutMs;
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Lets live traffic run for `ms` (used only where the scenario *is* a duration: an outage, a load phase). */
export function runFor(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
