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
import { printWhere, untilSignal } from './run.ts';

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
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config: loaded.config, instances: loaded.instances, registry, log, logLevel: level });
  } catch (e) {
    stopSims.abort();
    await sims.catch(() => undefined);
    throw e;
  }
  printWhere(gateway);
  await untilSignal();
  await gateway.stop();
  stopSims.abort();
  await sims.catch(() => undefined);
  return 0;
}
