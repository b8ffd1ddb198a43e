/**
 * Benchmark child: the gateway exactly as `fieldgate run` starts it (loadConfig + startGateway,
 * pino logger at the configured level), plus an IPC channel through which the parent reads the
 * runtime's counters (polls, overruns, points read and published) without touching src/.
 *
 *   node [--cpu-prof] --import tsx bench/lib/gateway-child.ts <confDir>
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { createLogger } from '../../src/gateway/cli/logger.ts';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import { gatewayCounters } from './gateway-counters.ts';
import { serveParent } from './proc.ts';

async function main(): Promise<void> {
  const dir = process.argv[2];
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
    // A plain exit lets --cpu-prof write its profile.
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  serveParent({
    stats: () => ({ ...gatewayCounters(gw) }),
    stop: () => stop(),
  });
  process.send?.({ type: 'ready', brokerUrl: gw.brokerUrl, embedded: gw.embedded, devices: gw.devices.size, links: gw.links.size });
}

main().catch((e: unknown) => {
  process.send?.({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
