/** Shared helpers for the OPC UA driver tests: points, devices, compiled devices for the simulator, a context. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import { opcuaAddressSchema, opcuaConnectionSchema } from '../../src/drivers/opcua/address.ts';
import type { OpcuaAddress, OpcuaConnection } from '../../src/drivers/opcua/address.ts';
import type { DeviceRef, DriverContext, Point, PointType, ReadResult, SubscriptionSink } from '../../src/drivers/sdk/index.ts';
import { memoryLogger } from '../helpers/log.ts';
import type { Line } from '../helpers/log.ts';

/** A point from Baetyl-style visitor keys. */
export function pt(id: string, name: string, type: PointType, visitor: Record<string, unknown>): Point<OpcuaAddress> {
  return { id, name, type, address: opcuaAddressSchema.parse(visitor) };
}

/** A device from Baetyl-style `accessConfig.opcua` keys. */
export function dev(name: string, access: Record<string, unknown>): DeviceRef<OpcuaConnection> {
  return { name, connection: opcuaConnectionSchema.parse(access) };
}

/** A compiled device with no mappings (every point unmapped, hence writable in the simulator). */
export function simDevice(name: string, points: readonly Point<OpcuaAddress>[], access: Record<string, unknown> = { endpoint: 'opc.tcp://127.0.0.1:4840' }): CompiledDevice {
  const connection = opcuaConnectionSchema.parse(access);
  return {
    name,
    instance: 'opcua-test',
    driver: 'opcua',
    product: 'p',
    accessTemplate: 't',
    model: new Map(),
    points: points.map((p) => ({ id: p.id, name: p.name, type: p.type, address: p.address })),
    mappings: [],
    topics: {} as CompiledDevice['topics'],
    connection: connection as unknown as CompiledDevice['connection'],
  };
}

/** A driver context with real time, a memory logger, a metrics recorder and a temp data dir. */
export function context(): DriverContext & { lines: Line[]; counts: Map<string, number>; cleanup(): void } {
  const counts = new Map<string, number>();
  const log = memoryLogger();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-opcua-test-'));
  return {
    log,
    lines: log.lines,
    clock: {
      now: () => Date.now(),
      monotonic: () => performance.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    metrics: { count: (name, _l, by = 1) => void counts.set(name, (counts.get(name) ?? 0) + by) },
    signal: new AbortController().signal,
    dataDir,
    counts,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A sink that records pushes and lets a test wait for a condition on them. */
export function recordingSink(): SubscriptionSink & { pushes: ReadResult[][]; errors: unknown[]; waitFor(pred: (r: ReadResult) => boolean, ms?: number): Promise<ReadResult> } {
  const pushes: ReadResult[][] = [];
  const errors: unknown[] = [];
  const waiters: { pred: (r: ReadResult) => boolean; resolve: (r: ReadResult) => void }[] = [];
  return {
    pushes,
    errors,
    values(_device, results) {
      pushes.push([...results]);
      for (const r of results) {
        for (const w of [...waiters]) {
          if (w.pred(r)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(r);
          }
        }
      }
    },
    error(_device, e) {
      errors.push(e);
    },
    waitFor(pred, ms = 5000) {
      const seen = pushes.flat().find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (r: ReadResult) => (clearTimeout(t), resolve(r)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching push within ${ms} ms; got ${JSON.stringify(pushes.flat(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`));
        }, ms);
        waiters.push(w);
      });
    },
  };
}

/** A signal that never fires. */
export function never(): AbortSignal {
  return new AbortController().signal;
}

/** Value of a good result, or a failure message naming the error. */
export function valueOf(results: readonly ReadResult[], id: string): unknown {
  const r = results.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no result for ${id}`);
  if (r.quality === 'bad') throw new Error(`point ${id} is bad: ${r.error.code} ${r.error.message}`);
  return r.value;
}
