/** `fieldgate simulate -c DIR [-d NAME]`: serve simulated devices from the configuration. */
import { simulateCommand } from '../../../simulators/index.ts';

export async function simulateCli(dir: string, device: string | undefined, seed: number | undefined): Promise<number> {
  try {
    await simulateCommand({ configDir: dir, ...(device !== undefined ? { device } : {}), ...(seed !== undefined ? { seed } : {}) });
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}
