/** Shared helpers of the BACnet tests: compiled devices from point specs, a driver context, a sink. */
import type { CompiledDevice, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { ModelType, PointType } from '../../src/devicemodel/types.ts';
import { parseExpression, variableIds } from '../../src/devicemodel/expression.ts';
import { defaultTopics } from '../../src/devicemodel/topics.ts';
import { bacnetAddressSchema, bacnetConnectionSchema } from '../../src/drivers/bacnet/address.ts';
import type { BacnetAddress, BacnetConnection } from '../../src/drivers/bacnet/address.ts';
import type { DeviceRef, DriverContext, Logger, Point, PointError, ReadResult, SubscriptionSink } from '../../src/drivers/sdk/index.ts';

/** One point as a test describes it: Baetyl-style visitor keys, optional attribute. */
export interface Spec {
  readonly id: string;
  readonly type: PointType;
  readonly visitor: Record<string, unknown>;
  readonly attr?: ModelType;
}

export function pt(s: Spec): Point<BacnetAddress> {
  return { id: s.id, name: `p${s.id}`, type: s.type, address: bacnetAddressSchema.parse(s.visitor) };
}

function mapping(attribute: string, expression: string): Mapping {
  const parsed = parseExpression(expression);
  if (!parsed.ok) throw new Error(parsed.error);
  return { attribute, kind: 'value', expr: parsed.expr, pointIds: variableIds(parsed.expr), deviation: 0, deadband: 0, silentWin: 0 };
}

/** A compiled BACnet device; each spec with `attr` gets attribute `a<id>` mapped as `x<id>`. */
export function compiledDevice(name: string, specs: readonly Spec[], access: Record<string, unknown>): CompiledDevice {
  const model = new Map<string, ModelProperty>();
  const mappings: Mapping[] = [];
  for (const s of specs) {
    if (s.attr === undefined) continue;
    model.set(`a${s.id}`, { name: `a${s.id}`, type: s.attr, mode: 'rw' });
    mappings.push(mapping(`a${s.id}`, `x${s.id}`));
  }
  return {
    name,
    instance: 'bacnet-test',
    driver: 'bacnet',
    product: 'test-product',
    accessTemplate: 'test-template',
    model,
    points: specs.map(pt),
    mappings,
    topics: defaultTopics('test-product', name),
    connection: bacnetConnectionSchema.parse(access) as unknown as CompiledDevice['connection'],
  };
}

export function dev(name: string, access: Record<string, unknown>): DeviceRef<BacnetConnection> {
  return { name, connection: bacnetConnectionSchema.parse(access) };
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** A driver context with real time and a recorder of warnings. */
export function context(): DriverContext & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  const log: Logger = { ...quiet, warn: (o) => void warnings.push(o), child: () => log };
  return {
    log,
    clock: { now: () => Date.now(), monotonic: () => performance.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    metrics: { count: () => undefined },
    signal: new AbortController().signal,
    dataDir: '/nonexistent',
    warnings,
  };
}

/** A sink that records what it gets. */
export function recorder(): SubscriptionSink & { batches: ReadResult[][]; errors: PointError[]; waitFor(pred: (r: ReadResult) => boolean, ms?: number): Promise<ReadResult> } {
  const batches: ReadResult[][] = [];
  const errors: PointError[] = [];
  const waiters: { pred: (r: ReadResult) => boolean; resolve: (r: ReadResult) => void }[] = [];
  return {
    batches,
    errors,
    values(_d, results) {
      batches.push([...results]);
      for (const r of results) {
        for (const w of [...waiters]) {
          if (w.pred(r)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(r);
          }
        }
      }
    },
    error(_d, e) {
      errors.push(e);
    },
    waitFor(pred, ms = 3000) {
      for (const b of batches) for (const r of b) if (pred(r)) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (r: ReadResult) => (clearTimeout(t), resolve(r)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching value within ${ms} ms (got ${JSON.stringify(batches.flat(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))})`));
        }, ms);
        waiters.push(w);
      });
    },
  };
}

export const never = () => new AbortController().signal;

/** Value of a result, or throws with the error. */
export function valueOf(r: ReadResult | undefined): unknown {
  if (r === undefined) throw new Error('no result');
  if (r.quality === 'bad') throw new Error(`bad: ${r.error.code} ${r.error.message}`);
  return r.value;
}

export function byId(results: readonly ReadResult[]): Map<string, ReadResult> {
  return new Map(results.map((r) => [r.id, r]));
}
