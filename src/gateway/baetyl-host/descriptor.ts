/**
 * A hosted Baetyl driver as a fieldgate driver: the gateway runtime treats it like any other
 * (links, polls, subscriptions, writes, normalize/mapping, reports). The driver process reads its
 * own three files, so fieldgate's schemas accept what Baetyl puts there as opaque data:
 * - `visitor.<id>` (for `custom`, a JSON string): any value;
 * - `accessConfig.<id>`: any value; when it is (or is a JSON string of) an object, fieldgate reads
 *   two optional keys of its own: `pollInterval` (Go duration string, default 60s: how often the
 *   gateway asks with Get; the driver pushes its own reports at its own interval anyway) and
 *   `timeout` (Go duration string, or a number of nanoseconds as Go's JSON encodes a
 *   time.Duration; default 5s: how long a Get waits for the deviceDesire answer).
 */
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../../devicemodel/duration.ts';
import type { BaseConnection, Driver, DriverContext, DriverDescriptor, Session } from '../../drivers/sdk/index.ts';
import type { BackoffPolicy } from '../runtime/backoff.ts';
import { BaetylHost } from './host.ts';
import { entryCommand } from './program.ts';
import { BaetylSession } from './session.ts';
import type { OfflineDevices } from './session.ts';

/** The parsed connection: fieldgate's two timings plus Baetyl's value as given. */
export interface BaetylConnection extends BaseConnection {
  /** `accessConfig.<id>` as written (the driver reads it itself). */
  readonly raw: unknown;
}

export const DEFAULT_POLL_INTERVAL = 60_000;
export const DEFAULT_GET_TIMEOUT = 5_000;

/** Options of a hosted Baetyl driver. */
export interface BaetylDriverOptions {
  /** The driver folder (program.yml and the three files). */
  readonly dir: string;
  /** The key under `visitor` and `accessConfig` (e.g. `custom`, `modbus`). */
  readonly id: string;
  /** The name sent in Setup (baetyl-gateway's `plugin.drivers[].name`). Default: the folder name. */
  readonly driverName?: string;
  /** A command line instead of program.yml's `entry` (`$PATH` = the folder). */
  readonly entry?: string;
  /** Sent in SetConfig. Default: the folder. */
  readonly configPath?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeout?: number;
  readonly callTimeout?: number;
  readonly stopGrace?: number;
  readonly backoff?: BackoffPolicy;
}

/** A duration as Baetyl writes one: Go string, or (in JSON) a number of nanoseconds. */
function goDuration(v: unknown): number | undefined | 'bad' {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v / 1e6);
  if (typeof v === 'string') return parseDuration(v) ?? 'bad';
  return 'bad';
}

/** Reads fieldgate's timings out of an opaque accessConfig value. */
export const baetylConnectionSchema: z.ZodType<BaetylConnection> = z.unknown().transform((raw, ctx) => {
  let obj: unknown = raw;
  if (typeof raw === 'string') {
    try {
      obj = JSON.parse(raw);
    } catch {
      obj = undefined; // an opaque non-JSON string: the driver's business
    }
  }
  const o = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
  const poll = o.pollInterval === undefined ? undefined : typeof o.pollInterval === 'string' ? (parseDuration(o.pollInterval) ?? 'bad') : 'bad';
  const timeout = goDuration(o.timeout);
  if (poll === 'bad' || poll === 0) {
    ctx.addIssue({ code: 'custom', message: `pollInterval ${JSON.stringify(o.pollInterval)}: write a duration such as "60s"` });
    return z.NEVER;
  }
  if (timeout === 'bad' || timeout === 0) {
    ctx.addIssue({ code: 'custom', message: `timeout ${JSON.stringify(o.timeout)}: write a duration such as "5s" (or nanoseconds as a number)` });
    return z.NEVER;
  }
  return { interval: poll ?? DEFAULT_POLL_INTERVAL, timeout: timeout ?? DEFAULT_GET_TIMEOUT, raw };
});

/** Builds the descriptor of one hosted Baetyl driver folder. */
export function baetylDescriptor(opts: BaetylDriverOptions): DriverDescriptor<BaetylConnection, unknown> {
  const dir = path.resolve(opts.dir);
  const driverName = opts.driverName ?? path.basename(dir);
  return {
    id: opts.id,
    version: '1.0.0',
    sdkVersion: '^1.0.0',
    title: `Baetyl driver ${driverName} (process mode, ${dir})`,
    connectionSchema: baetylConnectionSchema,
    addressSchema: z.unknown(),
    capabilities: { read: true, write: true, subscribe: true, discover: false, batch: true },
    // One process serves every device of the folder: one link; gRPC lets calls overlap.
    link: () => ({ key: `baetyl:${driverName}`, window: 4 }),
    create(ctx: DriverContext): Driver<BaetylConnection, unknown> {
      const host = new BaetylHost({
        dir,
        driverName,
        log: ctx.log,
        ...(opts.entry !== undefined ? { program: entryCommand(opts.entry, dir) } : {}),
        ...(opts.configPath !== undefined ? { configPath: opts.configPath } : {}),
        ...(opts.env !== undefined ? { env: opts.env } : {}),
        ...(opts.startTimeout !== undefined ? { startTimeout: opts.startTimeout } : {}),
        ...(opts.callTimeout !== undefined ? { callTimeout: opts.callTimeout } : {}),
        ...(opts.stopGrace !== undefined ? { stopGrace: opts.stopGrace } : {}),
        ...(opts.backoff !== undefined ? { backoff: opts.backoff } : {}),
      });
      return hostedDriver(host, ctx, opts.startTimeout ?? 30_000);
    },
  };
}

/**
 * The fieldgate Driver over a host: the first connect starts the host (which then restarts the
 * process on its own); every connect waits for it to run and opens a session on it; `close`
 * stops the process. `State false` from the driver marks a device offline until it reports again.
 */
export function hostedDriver(host: BaetylHost, ctx: Pick<DriverContext, 'clock'>, startTimeout: number): Driver<BaetylConnection, unknown> {
  const offline: OfflineDevices = new Set();
  host.listen({
    state: (s) => (s.online ? offline.delete(s.deviceName) : offline.add(s.deviceName)),
    // A new process starts with a clean slate; it says again what is offline.
    status: (s) => s === 'starting' && offline.clear(),
  });
  let started = false;
  return {
    async connect(_connection, { signal, onLost }): Promise<Session<BaetylConnection, unknown>> {
      if (!started) {
        started = true;
        // The host keeps restarting a driver that fails; connect only waits for it to run.
        host.start().catch(() => undefined);
      }
      await host.whenRunning(startTimeout, signal);
      return new BaetylSession(host, offline, onLost, () => ctx.clock.now()) as unknown as Session<BaetylConnection, unknown>;
    },
    close: () => host.stop(),
  };
}
