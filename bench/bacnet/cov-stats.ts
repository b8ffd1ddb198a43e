/**
 * The COV queue counters of every BACnet session of a gateway, summed over its links (received,
 * delivered, coalesced, dropped, waiting): what bench/bacnet.ts asks the gateway child for.
 */
import type { CovIntakeStats } from '../../src/drivers/bacnet/cov-intake.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';

const SUMMED = ['received', 'delivered', 'coalesced', 'unknown', 'malformed', 'acked', 'batches', 'pending', 'subscriptions', 'socketDrops'] as const;

export function bacnetCovStats(gw: Gateway): Record<string, number> {
  const sum: Record<string, number> = Object.fromEntries(SUMMED.map((k) => [k, 0]));
  let maxPending = 0;
  let sessions = 0;
  for (const link of gw.links.values()) {
    const cov = (link.current as { cov?: CovIntakeStats } | undefined)?.cov;
    if (cov === undefined) continue;
    sessions++;
    for (const k of SUMMED) sum[k]! += cov[k] ?? 0;
    maxPending = Math.max(maxPending, cov.maxPending);
  }
  return { ...sum, maxPending, sessions };
}
