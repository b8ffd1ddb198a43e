/**
 * The cloud simulator in a child process (`fieldgate cloud serve`), so that a benchmark measures
 * the gateway side alone: a real cloud runs elsewhere, not in the gateway's thread.
 *
 * The child starts at `start()`, on ports chosen once, and `stop()` kills it: its shadows go with
 * it, so a bench stops it only before anything was sent (to build a backlog). Stats come from its
 * HTTP API (`GET /stats`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudStats } from '../../simulators/cloud/shadows.ts';
import { cpuSeconds, freePort, stopProcess, waitForPort } from './proc.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'fieldgate.mjs');

/** A cloud simulator a bench can stop, start and read. */
export interface CloudHandle {
  /** `mqtt://127.0.0.1:<port>` for the gateway's `cloud.url`. */
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  stats(): Promise<CloudStats>;
  /** CPU seconds the cloud process used so far (undefined in process). */
  cpu?(): number | undefined;
  close(): Promise<void>;
}

/** Reserves the ports and starts the child. */
export async function startCloudChild(): Promise<CloudHandle> {
  const port = await freePort();
  const httpPort = await freePort();
  let proc: ChildProcess | undefined;
  const kill = (): void => void proc?.kill('SIGKILL');
  process.once('exit', kill);
  const handle: CloudHandle = {
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      if (proc !== undefined) return;
      proc = spawn(process.execPath, [BIN, 'cloud', 'serve', '--port', String(port), '--http-port', String(httpPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
      await waitForPort(httpPort, 20_000);
      await waitForPort(port, 20_000);
    },
    async stop() {
      if (proc === undefined) return;
      await stopProcess(proc);
      proc = undefined;
    },
    async stats() {
      const r = await fetch(`http://127.0.0.1:${httpPort}/stats`);
      if (!r.ok) throw new Error(`cloud /stats: HTTP ${r.status}`);
      return (await r.json()) as CloudStats;
    },
    cpu: () => (proc?.pid === undefined ? undefined : cpuSeconds(proc.pid)),
    async close() {
      await handle.stop();
      process.removeListener('exit', kill);
    },
  };
  await handle.start();
  return handle;
}
