/**
 * Benchmark child: the gateway exactly as `fieldgate run` starts it (loadConfig + startGateway,
 * pino logger at the configured level), plus an IPC channel through which the parent reads the
 * runtime's counters (polls, overruns, points read and published) without touching src/.
 *
 *   node --import tsx bench/lib/gateway-child.ts <confDir> [profileFile]
 *
 * With `profileFile`, the requests `profileStart` / `profileStop` run the V8 CPU profiler (what
 * `node --cpu-prof` uses, through node:inspector) over just the measured window, and write a
 * `.cpuprofile` there.
 *
 * `lagStart` / `lag` / `lagStop` measure the event loop's delay (perf_hooks
 * monitorEventLoopDelay, 10 ms resolution) from `lagStart` on; `lag` answers its percentiles in ms
 * beyond the resolution (0 = every timer on time).
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { createLogger } from '../../src/gateway/cli/logger.ts';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import { gatewayCounters } from './gateway-counters.ts';
import { runChild, serveParent } from './proc.ts';

/** Resolution of the event-loop delay monitor (ms): its timer fires this often, so delays are measured beyond it. */
const LAG_RESOLUTION_MS = 10;

/** The histogram's percentiles in ms beyond the monitor's own period. */
function lagFigures(h: IntervalHistogram): Record<string, number> {
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
  return { count: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), resolutionMs: LAG_RESOLUTION_MS };
}

async function main(): Promise<void> {
  const [dir, profileFile] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: gateway-child.ts <confDir>');
  const registry = createRegistry();
  const r = await loadConfig(dir, registry);
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const log = createLogger(r.config.log.level);
  const gw = await startGateway({ config: r.config, instances: r.instances, registry, log });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const final = gatewayCounters(gw);
    process.stderr.write(`gateway-child: final counters ${JSON.stringify(final)}\n`);
    await gw.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  let inspector: Session | undefined;
  let lag: IntervalHistogram | undefined;
  serveParent({
    /** Starts (or restarts) measuring the event loop's delay. */
    lagStart: () => {
      lag?.disable();
      lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
      lag.enable();
    },
    /** Delay since `lagStart` (percentiles in ms beyond the 10 ms resolution). */
    lag: () => {
      if (lag === undefined) throw new Error('lagStart first');
      return lagFigures(lag);
    },
    lagStop: () => {
      lag?.disable();
      lag = undefined;
    },
    stats: () => ({ ...gatewayCounters(gw) }),
    /** Live heap: a full collection first (the child runs with --expose-gc). */
    liveHeap: () => {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      return { heapUsedMb: m.heapUsed / 2 ** 20, heapTotalMb: m.heapTotal / 2 ** 20, rssMb: m.rss / 2 ** 20, externalMb: m.external / 2 ** 20 };
    },
    /** BACnet COV queue counters summed over the sessions (bench/bacnet.ts). */
    bacnetCov: async () => (await import('../bacnet/cov-stats.ts')).bacnetCovStats(gw),
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
  process.send?.({ type: 'ready', brokerUrl: gw.brokerUrl, embedded: gw.embedded, devices: gw.devices.size, links: gw.links.size, apiUrl: gw.api?.url });
}

runChild(main);
