/**
 * A read inside the worker: the host cannot call the plugin's synchronous `planReads`, so the
 * worker plans the device's points itself and runs the blocks, at most `window` at a time,
 * keeping the gateway's rule that one failed block makes only its points bad.
 */
import { toDriverError } from '../../../drivers/sdk/index.ts';
import type { DeviceRef, Point, PointError, ReadResult, Session } from '../../../drivers/sdk/index.ts';

/**
 * Reads `points` as the gateway would in-process. Throws only when every block failed or a
 * block reported the link `Offline` (so the host's Link reacts exactly as to an in-process call).
 */
export async function readPlanned(session: Session, device: DeviceRef, points: readonly Point[], window: number, signal: AbortSignal): Promise<ReadResult[]> {
  const blocks = session.planReads ? session.planReads(device, points) : [points];
  if (blocks.length === 1) return session.read(device, blocks[0]!, signal);
  const settled: PromiseSettledResult<ReadResult[]>[] = new Array(blocks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < blocks.length) {
      const i = next++;
      try {
        settled[i] = { status: 'fulfilled', value: await session.read(device, blocks[i]!, signal) };
      } catch (e) {
        settled[i] = { status: 'rejected', reason: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, blocks.length)) }, lane));
  const results: ReadResult[] = [];
  let firstError: PointError | undefined;
  let failedBlocks = 0;
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      results.push(...s.value);
      return;
    }
    const err = toDriverError(s.reason);
    if (err.code === 'Offline') throw err;
    failedBlocks++;
    firstError ??= { code: err.code, message: err.message };
    for (const p of blocks[i]!) results.push({ id: p.id, quality: 'bad', error: firstError });
  });
  if (failedBlocks === blocks.length && blocks.length > 0) throw toDriverError((settled[0] as PromiseRejectedResult).reason);
  return results;
}
