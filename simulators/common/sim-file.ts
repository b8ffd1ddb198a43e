/**
 * `simulator.yaml`: optional settings for the simulators of a configuration, next to its
 * gateway.yaml. Protocol-neutral: each simulator validates `faults` with its own schema.
 *
 * ```yaml
 * seed: 7
 * tickMs: 500
 * devices:
 *   meter-01:
 *     generators:
 *       voltage: { kind: sine, amplitude: 3, offset: 230, period: 1m }
 *     faults: { delay: 50ms }
 * ```
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { generatorSpecSchema } from './generators.ts';

/** The file's schema. */
export const simFileSchema = z.strictObject({
  seed: z.number().int().optional(),
  /** Generator period in ms. */
  tickMs: z.number().int().min(0).optional(),
  devices: z
    .record(
      z.string(),
      z.strictObject({
        /** By attribute name (or point name/id for points no mapping drives). */
        generators: z.record(z.string(), generatorSpecSchema).default({}),
        /** Protocol-specific faults (see e.g. simulators/modbus/faults.ts). */
        faults: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default({}),
});
export type SimFile = z.output<typeof simFileSchema>;

/**
 * Reads `simulator.yaml` (or `.yml`) from `dir`; `undefined` when there is none. Throws with the
 * file name and the problems when it is invalid.
 */
export async function loadSimFile(dir: string): Promise<{ file: string; config: SimFile } | undefined> {
  for (const name of ['simulator.yaml', 'simulator.yml']) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const r = simFileSchema.safeParse(parse(text) ?? {});
    if (!r.success) throw new Error(`${file}: ${z.prettifyError(r.error)}`);
    return { file, config: r.data };
  }
  return undefined;
}
