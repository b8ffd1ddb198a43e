/** A gateway with plugins for the plugin tests: config folders in a temp dir, a plugin-aware registry. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import type { DriverRegistry } from '../../src/gateway/drivers/registry.ts';
import { startGateway } from '../../src/gateway/runtime/gateway.ts';
import type { Gateway } from '../../src/gateway/runtime/gateway.ts';
import type { CompiledInstance } from '../../src/devicemodel/compiled.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

export interface InstanceFiles {
  readonly models: string;
  readonly template: string;
  readonly devices: string;
}

/** Writes gateway.yaml and one folder per instance; returns the folder and its cleanup. */
export function writeFolders(gateway: string, instances: Record<string, InstanceFiles>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-plugin-e2e-'));
  writeFileSync(path.join(dir, 'gateway.yaml'), gateway);
  for (const [name, f] of Object.entries(instances)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'models.yml'), f.models);
    writeFileSync(path.join(dir, name, 'access_template.yml'), f.template);
    writeFileSync(path.join(dir, name, 'sub_devices.yml'), f.devices);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Loads the folder (plugins included) and starts the gateway with the same registry. */
export async function startPluginGateway(dir: string, instancesOnly?: (i: CompiledInstance[]) => void): Promise<{ gateway: Gateway; registry: DriverRegistry; lines: Line[] }> {
  const registry = createRegistry();
  const r = await loadConfig(dir, registry);
  if (!r.ok) throw new Error(formatIssues(r.issues));
  instancesOnly?.(r.instances);
  const lines: Line[] = [];
  const gateway = await startGateway({ config: r.config, instances: r.instances, registry, log: memoryLogger(lines) });
  return { gateway, registry, lines };
}
