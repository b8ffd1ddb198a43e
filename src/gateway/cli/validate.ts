/** `fieldgate validate -c DIR`: load and compile everything, print all issues, exit 2 when any. */
import { loadConfig } from '../config/load.ts';
import { formatIssues } from '../config/issues.ts';
import { createRegistry } from '../drivers/registry.ts';

export async function validateCommand(dir: string): Promise<number> {
  const result = await loadConfig(dir, createRegistry());
  if (!result.ok) {
    process.stderr.write(`${formatIssues(result.issues)}\n${result.issues.length} problem(s) in ${dir}\n`);
    return 2;
  }
  const devices = result.instances.reduce((n, i) => n + i.devices.length, 0);
  process.stdout.write(`${dir}: OK (${result.instances.length} driver instance(s), ${devices} device(s))\n`);
  return 0;
}
