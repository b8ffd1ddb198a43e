/** `fieldgate run -c DIR`: the gateway as a service; stops cleanly on SIGINT/SIGTERM. */
import { loadConfig } from '../config/load.ts';
import { formatIssues } from '../config/issues.ts';
import { createRegistry } from '../drivers/registry.ts';
import { startGateway } from '../runtime/gateway.ts';
import type { Gateway } from '../runtime/gateway.ts';
import { createProcessLogger } from './logger.ts';
import type { Logger } from '../../drivers/sdk/index.ts';

export async function runCommand(dir: string, logLevel?: string): Promise<number> {
  const registry = createRegistry();
  const result = await loadConfig(dir, registry);
  if (!result.ok) {
    process.stderr.write(`${formatIssues(result.issues)}\n${result.issues.length} problem(s) in ${dir}; nothing started\n`);
    return 2;
  }
  const { log, level } = createProcessLogger(logLevel ?? result.config.log.level);
  const gateway = await startGateway({ config: result.config, instances: result.instances, registry, log, logLevel: level });
  printWhere(gateway);
  const unhook = reloadOnHangup(gateway, log);
  await untilSignal();
  unhook();
  await gateway.stop();
  return 0;
}

/** Tells a person where the data is. */
export function printWhere(gateway: Gateway): void {
  const u = new URL(gateway.brokerUrl);
  const host = u.hostname;
  const port = u.port || '1883';
  process.stderr.write(
    `\nfieldgate: ${gateway.devices.size} device(s), broker ${gateway.brokerUrl}${gateway.embedded ? ' (embedded)' : ''}\n` +
      `  watch values:    mosquitto_sub -h ${host} -p ${port} -t 'thing/+/+/property/post' -v\n` +
      `  watch lifecycle: mosquitto_sub -h ${host} -p ${port} -t 'thing/+/+/lifecycle/post' -v\n` +
      (gateway.api ? `  REST API:        ${gateway.api.url}/api/v1/devices   metrics: ${gateway.api.url}/metrics\n` : '') +
      '\n',
  );
}

/** `kill -HUP <pid>` re-reads the configuration and applies the difference. */
export function reloadOnHangup(gateway: Gateway, log: Logger): () => void {
  const onHup = () => {
    void gateway.reload().then(
      (r) => {
        if (!r.ok) process.stderr.write(`reload refused:\n${formatIssues(r.issues)}\n`);
      },
      (e: unknown) => log.error({ err: String(e) }, 'reload failed'),
    );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
