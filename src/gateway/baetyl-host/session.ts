/**
 * A fieldgate session over a hosted Baetyl driver. One driver process serves every device of its
 * folder, so there is one link and one session per process lifetime:
 * - `read` sends Get (`thing.property.get` with the point names) and waits for the driver's
 *   `deviceDesire` Post for that device (baetyl-gateway routes those to the `get` topic);
 * - `write` sends Set (`deviceDelta`, `[{propName, propVal}]` by point name);
 * - `subscribe` receives the driver's periodic `deviceReport` Posts;
 * - a driver process that dies or restarts ends the session through `onLost`.
 * Values arrive keyed by access-template point name and already decoded; they are mapped to point
 * ids here and only checked against the point's type.
 */
import { DriverError, toDriverError } from '../../drivers/sdk/index.ts';
import type { BaseConnection, DeviceRef, Point, PointError, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from '../../drivers/sdk/index.ts';
import type { BaetylHost } from './host.ts';
import { KIND, toPointValue } from './messages.ts';
import type { DeviceValues } from './messages.ts';

interface Waiter {
  readonly names: readonly string[];
  readonly resolve: (values: Readonly<Record<string, unknown>>) => void;
}

/** Devices the driver declared offline with `State false` (shared by the driver's sessions). */
export type OfflineDevices = Set<string>;

/** Converts a driver's values (by point name) into one result per given point that has a value. */
export function resultsFor(points: Iterable<Point>, values: Readonly<Record<string, unknown>>, ts: number, missing: 'skip' | 'bad'): ReadResult[] {
  const out: ReadResult[] = [];
  for (const p of points) {
    if (!Object.hasOwn(values, p.name) || values[p.name] === null || values[p.name] === undefined) {
      if (missing === 'bad') out.push({ id: p.id, quality: 'bad', error: { code: 'Exception', message: `the driver's answer has no value for point ${JSON.stringify(p.name)}` }, ts });
      continue;
    }
    const v = toPointValue(p.type, values[p.name]);
    out.push(v.ok ? { id: p.id, quality: 'good', value: v.value, ts } : { id: p.id, quality: 'bad', error: { code: 'Protocol', message: `point ${JSON.stringify(p.name)}: ${v.error}` }, ts });
  }
  return out;
}

export class BaetylSession implements Session<BaseConnection, unknown> {
  private readonly subs = new Map<string, { points: readonly Point[]; sink: SubscriptionSink }>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly off: () => void;
  private closed = false;

  constructor(
    private readonly host: BaetylHost,
    private readonly offline: OfflineDevices,
    onLost: (e: PointError) => void,
    private readonly now: () => number = Date.now,
  ) {
    let lost = false;
    this.off = host.listen({
      values: (m) => this.onValues(m),
      status: (state, error) => {
        if (state === 'running' || lost || this.closed) return;
        lost = true;
        onLost(error ?? { code: 'Offline', message: `driver process is ${state}` });
      },
    });
  }

  async read(device: DeviceRef<BaseConnection>, points: readonly Point[], signal: AbortSignal): Promise<ReadResult[]> {
    if (this.closed) throw new DriverError('Offline', 'session closed');
    if (this.offline.has(device.name)) {
      // Not `Offline`: that code would take down the link of every device of this driver.
      throw new DriverError('Exception', `the driver reports device ${device.name} offline (State false)`, { detail: { driverState: 'offline' } });
    }
    const names = points.map((p) => p.name);
    let waiter: Waiter | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const answer = new Promise<Readonly<Record<string, unknown>>>((resolve, reject) => {
      waiter = { names, resolve };
      let set = this.waiters.get(device.name);
      if (set === undefined) this.waiters.set(device.name, (set = new Set()));
      set.add(waiter);
      const ms = device.connection.timeout;
      timer = setTimeout(() => reject(new DriverError('Timeout', `no ${KIND.desire} answer from the driver for ${device.name} within ${ms} ms`)), ms);
      onAbort = () => reject(new DriverError('Timeout', 'read aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    answer.catch(() => undefined);
    try {
      await this.host.get(device.name, names);
      const values = await answer;
      return resultsFor(points, values, this.now(), 'bad');
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort!);
      this.waiters.get(device.name)?.delete(waiter!);
    }
  }

  async write(device: DeviceRef<BaseConnection>, writes: readonly PointWrite[], _signal: AbortSignal): Promise<WriteResult[]> {
    if (this.closed) throw new DriverError('Offline', 'session closed');
    try {
      await this.host.set(
        device.name,
        writes.map((w) => ({ propName: w.point.name, propVal: w.value })),
      );
      return writes.map((w) => ({ id: w.point.id, ok: true }));
    } catch (e) {
      const err = toDriverError(e, 'Exception');
      if (err.code === 'Offline') throw err;
      // The driver refused the Set as a whole: every write in it failed.
      return writes.map((w) => ({ id: w.point.id, ok: false, error: { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) } }));
    }
  }

  async subscribe(device: DeviceRef<BaseConnection>, points: readonly Point[], sink: SubscriptionSink): Promise<Subscription> {
    if (this.closed) throw new DriverError('Offline', 'session closed');
    const entry = { points: [...points], sink };
    this.subs.set(device.name, entry);
    return {
      close: async () => {
        if (this.subs.get(device.name) === entry) this.subs.delete(device.name);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.off();
    this.subs.clear();
    this.waiters.clear();
  }

  private onValues(m: DeviceValues): void {
    if (this.closed) return;
    // Values mean the device answers: a State false from before no longer holds.
    this.offline.delete(m.deviceName);
    if (m.kind === KIND.desire) {
      for (const w of [...(this.waiters.get(m.deviceName) ?? [])]) {
        // With several reads in flight, an answer serves those whose points it carries.
        if (w.names.length === 0 || w.names.some((n) => Object.hasOwn(m.values, n))) w.resolve(m.values);
      }
      return;
    }
    const sub = this.subs.get(m.deviceName);
    if (sub === undefined) return;
    const results = resultsFor(sub.points, m.values, this.now(), 'skip');
    if (results.length > 0) sub.sink.values(m.deviceName, results);
  }
}
