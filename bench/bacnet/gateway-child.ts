/**
 * Benchmark child for BACnet: the gateway exactly as `fieldgate run` starts it (what
 * bench/lib/gateway-child.ts does), plus the request `bacnetCov`, the COV queue counters of every
 * BACnet session summed over the links (received, delivered, coalesced, dropped, waiting).
 *
 *   node --expose-gc --import tsx bench/bacnet/gateway-child.ts <confDir> [profileFile]
 *
 * Requests: `stats`, `liveHeap`, `profileStart`, `profileStop`, `bacnetCov`, `stop`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { createLogger } from '../../src/gateway/cli/logger.ts';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import type { CovIntakeStats } from '../../src/drivers/bacnet/cov-intake.ts';
import { gatewayCounters } from '../lib/gateway-counters.ts';
import { serveParent } from '../lib/proc.ts';

const SUMMED = ['received', 'delivered', 'coalesced', 'unknown', 'malformed', 'acked', 'batches', 'pending', 'subscriptions', 'socketDrops'] as const;

async function main(): Promise<void> {
  const [dir, profileFile] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: gateway-child.ts <confDir> [profileFile]');
  const registry = createRegistry();
  const r = await loadConfig(dir, registry);
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const log = createLogger(r.config.log.level);
  const gw = await startGateway({ config: r.config, instances: r.instances, registry, log });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gw.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  let inspector: Session | undefined;
  serveParent({
    stats: () => ({ ...gatewayCounters(gw) }),
    liveHeap: () => {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      return { heapUsedMb: m.heapUsed / 2 ** 20, heapTotalMb: m.heapTotal / 2 ** 20, rssMb: m.rss / 2 ** 20, externalMb: m.external / 2 ** 20 };
    },
    bacnetCov: () => {
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
    },
    profileStart: async () => {
      if (profileFile === undefined) throw new Error('no profile file given');
      inspector = new Session();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
      await inspector.post('Profiler.start');
    },
    profileStop: async () => {
      if (inspector === undefined) throw new Error('the profiler is not running');
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(profileFile!, JSON.stringify(profile));
      inspector.disconnect();
      inspector = undefined;
      return { file: profileFile };
    },
    stop: () => stop(),
  });
  process.send?.({ type: 'ready', brokerUrl: gw.brokerUrl, embedded: gw.embedded, devices: gw.devices.size, links: gw.links.size });
}

main().catch((e: unknown) => {
  process.send?.({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
