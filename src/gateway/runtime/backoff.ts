/** Exponential backoff with full jitter, as used for every reconnecting link. */
export interface BackoffPolicy {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Upper bound of a delay in ms. */
  readonly maxMs: number;
  /** Growth per failed attempt. */
  readonly factor: number;
  /** 0..1: the share of each delay that is randomized (0 = none). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** Delay before attempt `attempt` (0-based), with `random` in [0,1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number = Math.random()): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.round(base - spread + spread * random);
}
