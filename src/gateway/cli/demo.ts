/**
 * `fieldgate demo` (what `npm start` runs): simulators for the configuration's devices, an
 * embedded broker (unless gateway.yaml names one) and the gateway, in one process.
 */
import { simulateCommand } from '../../../simulators/index.ts';
import { formatIssues } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { createRegistry } from '../drivers/registry.ts';
import { startGateway } from '../runtime/gateway.ts';
import type { Gateway } from '../runtime/gateway.ts';
import { createProcessLogger } from './logger.ts';
import { printWhere, reloadOnHangup, untilSignal } from './run.ts';
import { startCloudSimulator } from '../../../simulators/cloud/index.ts';
import type { CloudSimulator } from '../../../simulators/cloud/index.ts';
import type { GatewayConfig } from '../config/gateway-schema.ts';
import { DEFAULT_CLOUD_HTTP_PORT, DEFAULT_CLOUD_MQTT_PORT } from './cloud.ts';

export async function demoCommand(dir: string, logLevel: string): Promise<number> {
  const registry = createRegistry();
  const loaded = await loadConfig(dir, registry);
  if (!loaded.ok) {
    process.stderr.write(`${formatIssues(loaded.issues)}\n${loaded.issues.length} problem(s) in ${dir}; nothing started\n`);
    return 2;
  }
  const { log, level } = createProcessLogger(logLevel);
  const stopSims = new AbortController();
  let ready!: () => void;
  const simsReady = new Promise<void>((r) => (ready = r));
  const sims = simulateCommand({
    configDir: dir,
    signal: stopSims.signal,
    onReady: () => ready(),
    log: (line) => process.stderr.write(`simulator: ${line}\n`),
  });
  const failed = sims.then(
    () => undefined,
    (e: unknown) => e,
  );
  const outcome = await Promise.race([simsReady.then(() => undefined), failed]);
  if (outcome !== undefined) {
    process.stderr.write(`simulators could not start: ${outcome instanceof Error ? outcome.message : String(outcome)}\n`);
    return 1;
  }
  // Without a cloud in gateway.yaml, the demo brings its own cloud simulator (its own broker).
  let cloud: CloudSimulator | undefined;
  let config: GatewayConfig = loaded.config;
  if (config.cloud === undefined) {
    cloud = await startCloudSimulator({ port: DEFAULT_CLOUD_MQTT_PORT, httpPort: DEFAULT_CLOUD_HTTP_PORT }).catch(() => startCloudSimulator({ port: 0, httpPort: 0 }));
    config = {
      ...config,
      cloud: {
        url: cloud.url,
        rejectUnauthorized: true,
        protocolVersion: 4,
        keepalive: 60_000,
        drainRate: 5000,
        maxInFlight: 100,
        outbox: { maxBytes: 64 * 1024 * 1024, maxAge: 24 * 3_600_000, maxRows: 200_000 },
      },
    };
  }
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config, instances: loaded.instances, registry, log, logLevel: level });
  } catch (e) {
    stopSims.abort();
    await sims.catch(() => undefined);
    await cloud?.close();
    throw e;
  }
  printWhere(gateway);
  if (cloud?.httpUrl !== undefined) {
    const first = loaded.instances.flatMap((i) => i.devices).find((d) => [...d.model.values()].some((p) => p.mode === 'rw'));
    const prop = first ? [...first.model.values()].find((p) => p.mode === 'rw') : undefined;
    process.stderr.write(
      `  cloud simulator: ${cloud.url} (shadows: ${cloud.httpUrl}/devices)\n` +
        (first && prop ? `  set a desired value: npx fieldgate cloud set ${first.name} ${prop.name}=${prop.type === 'bool' ? 'true' : prop.min !== undefined && prop.max !== undefined ? Math.round((prop.min + prop.max) / 4) : 42} --url ${cloud.httpUrl}\n` : '') +
        (gateway.api ? `  web console:     ${gateway.api.url}/\n` : '') +
        '\n',
    );
  }
  const unhook = reloadOnHangup(gateway, log);
  await untilSignal();
  unhook();
  await gateway.stop();
  await cloud?.close();
  stopSims.abort();
  await sims.catch(() => undefined);
  return 0;
}
