/** Small helpers of the conformance kit: bounded waits that leave no timers behind. */
import { DriverError } from '../errors.ts';
import type { PointType } from '../types.ts';

/** Resolves or rejects with `p`, or rejects with `Timeout` after `ms` (calling `onTimeout`). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new DriverError('Timeout', `${what} did not finish within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The JavaScript types a point's value may have (int64/uint64: bigint or number). */
export function expectedKinds(type: PointType): readonly string[] {
  if (type === 'bool') return ['boolean'];
  if (type === 'string') return ['string'];
  if (type === 'int64' || type === 'uint64') return ['bigint', 'number'];
  return ['number'];
}
