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
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { createLogger } from '../../src/gateway/cli/logger.ts';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import { gatewayCounters } from './gateway-counters.ts';
import { serveParent } from './proc.ts';

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
  serveParent({
    stats: () => ({ ...gatewayCounters(gw) }),
    /** Live heap: a full collection first (the child runs with --expose-gc). */
    liveHeap: () => {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      return { heapUsedMb: m.heapUsed / 2 ** 20, heapTotalMb: m.heapTotal / 2 ** 20, rssMb: m.rss / 2 ** 20 };
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
