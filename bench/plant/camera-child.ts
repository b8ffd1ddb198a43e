/**
 * Plant benchmark child: `count` simulated IP cameras (simulators/ipc, written alongside the
 * camera driver), each on its own ports of 127.0.0.1, in a process of their own.
 *
 *   node --import tsx bench/plant/camera-child.ts <count>
 *
 * The simulator module is imported dynamically, so that this bench type-checks and runs (without
 * cameras) before it exists. Answers `ready` with `ports` (each camera's ONVIF port); requests:
 * `freeze` (nothing to do: the facts the plant polls never change), `stop`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runChild, serveParent } from '../lib/proc.ts';
import { CAMERA_USER } from './conf.ts';

/** What the plant needs of a running camera simulator. */
interface CameraSim {
  readonly port: number;
  stop(): Promise<void>;
}

/** The simulator module's entry, as far as the plant uses it. */
type StartCamera = (opts: Record<string, unknown>) => Promise<CameraSim>;

const SIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'simulators', 'ipc', 'index.ts');

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  if (!(Number.isInteger(count) && count > 0)) throw new Error('usage: camera-child.ts <count>');
  if (!existsSync(SIM)) throw new Error(`${SIM} does not exist`);
  const mod = (await import(pathToFileURL(SIM).href)) as { startCameraSimulator?: StartCamera };
  const start = mod.startCameraSimulator;
  if (typeof start !== 'function') throw new Error('simulators/ipc/index.ts exports no startCameraSimulator');
  const cams: CameraSim[] = [];
  for (let i = 0; i < count; i++) {
    // No RTSP stream (the facts the plant polls come from ONVIF); one snapshot frame is enough.
    cams.push(await start({ host: '127.0.0.1', port: 0, ...CAMERA_USER, snapshotFrames: 1, info: { serialNumber: `PLANT-${String(i + 1).padStart(4, '0')}` } }));
  }
  serveParent({
    // Camera facts do not change anyway: nothing to freeze.
    freeze: () => undefined,
    stop: async () => {
      await Promise.allSettled(cams.map((c) => c.stop()));
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', ports: cams.map((c) => c.port) });
}

runChild(main);
