/**
 * The driver conformance kit: runs a driver against a real (or simulated) device and checks the
 * rules every fieldgate driver keeps. Each check yields a pass/fail/skip with a message; nothing
 * throws, so one run shows every problem. Use it from node:test:
 *
 *   const report = await runDriverConformance(descriptor, { connection, points, ... });
 *   assertConformant(report);
 */
import semver from 'semver';
import os from 'node:os';
import { isDriverError, toDriverError } from '../errors.ts';
import { SDK_VERSION } from '../types.ts';
import type { BaseConnection, DeviceRef, Driver, DriverContext, DriverDescriptor, Logger, Point, PointType, PointValue, ReadResult, Session, Subscription } from '../types.ts';
import { countResources, extraResources } from './resources.ts';
import { descriptorProblems } from './shape.ts';
import { expectedKinds, sleep, withTimeout } from './util.ts';

/** A point as written in an access template: `address` is the raw `visitor.<driver>` object. */
export interface ConformancePoint {
  readonly id: string;
  readonly name?: string;
  readonly type: PointType;
  readonly address: unknown;
}

export interface ConformanceOptions {
  /** The raw `accessConfig.<driver>` of the device under test. */
  readonly connection: unknown;
  /** Points the device has: each must read `good` (or `uncertain`). */
  readonly points: readonly ConformancePoint[];
  /** Points the device lacks: read together with `points`, they must come back `bad` while the others stay good, and the read must not throw. */
  readonly missingPoints?: readonly ConformancePoint[];
  /** Writes that must succeed and read back (`expect`, default `value`); ids from `points`. */
  readonly writes?: readonly { readonly id: string; readonly value: PointValue; readonly expect?: PointValue }[];
  /** Writes the device must refuse (read-only points): results `ok: false`; ids from `points`. */
  readonly readOnlyWrites?: readonly { readonly id: string; readonly value: PointValue }[];
  /** For drivers that subscribe: which point ids (default all) and what makes the device push. */
  readonly subscribe?: { readonly ids?: readonly string[]; readonly trigger?: () => void | Promise<void> };
  /** Device name in calls. Default `conformance-device`. */
  readonly deviceName?: string;
  /** Bound of every step, ms. Default 5000. */
  readonly stepTimeout?: number;
  /** How long close() may take to release sockets and timers, ms. Default 1500. */
  readonly leakWait?: number;
  /** Logger handed to the driver (default: silent). */
  readonly log?: Logger;
}

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface ConformanceCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
}

/** The outcome for one point of the main read. */
export interface PointOutcome {
  readonly id: string;
  readonly expected: 'good' | 'bad';
  readonly result: ReadResult | undefined;
  readonly ok: boolean;
}

export interface ConformanceReport {
  readonly driver: string;
  readonly checks: ConformanceCheck[];
  /** One entry per point read (points, then missingPoints). */
  readonly points: PointOutcome[];
  readonly failures: ConformanceCheck[];
  readonly ok: boolean;
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/** Runs every check; never throws for a driver's failure (each becomes a failed check). */
export async function runDriverConformance<C extends BaseConnection, A>(descriptor: DriverDescriptor<C, A>, options: ConformanceOptions): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const outcomes: PointOutcome[] = [];
  const add = (name: string, status: CheckStatus, message: string): void => void checks.push({ name, status, message });
  const step = options.stepTimeout ?? 5000;
  const deviceName = options.deviceName ?? 'conformance-device';
  const done = (): ConformanceReport => {
    const failures = checks.filter((c) => c.status === 'fail');
    return { driver: String((descriptor as { id?: unknown }).id), checks, points: outcomes, failures, ok: failures.length === 0 };
  };

  // 1. The descriptor itself.
  const shape = descriptorProblems(descriptor);
  add('descriptor shape', shape.length === 0 ? 'pass' : 'fail', shape.join('; ') || 'id, version, sdkVersion, title, schemas, capabilities, link, create');
  if (shape.length > 0) return done();
  const range = semver.validRange(descriptor.sdkVersion);
  add('sdkVersion admits this SDK', range !== null && semver.satisfies(SDK_VERSION, range, { includePrerelease: true }) ? 'pass' : 'fail', `sdkVersion ${descriptor.sdkVersion}, SDK ${SDK_VERSION}`);

  // 2. Schemas parse the configuration given.
  const conn = descriptor.connectionSchema.safeParse(options.connection);
  if (!conn.success) {
    add('connection schema', 'fail', conn.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return done();
  }
  const connection = conn.data;
  const baseOk = Number.isFinite(connection.interval) && Number.isFinite(connection.timeout);
  add('connection schema', baseOk ? 'pass' : 'fail', baseOk ? `interval ${connection.interval} ms, timeout ${connection.timeout} ms` : 'the parsed connection lacks numeric interval/timeout (spread baseConnectionShape into the schema)');
  const parsePoints = (list: readonly ConformancePoint[]): Point<A>[] | string => {
    const out: Point<A>[] = [];
    for (const p of list) {
      const a = descriptor.addressSchema.safeParse(p.address);
      if (!a.success) return `point ${p.id}: ${a.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      const point: Point<A> = { id: p.id, name: p.name ?? `p${p.id}`, type: p.type, address: a.data };
      const problems = descriptor.checkPoint?.(point) ?? [];
      if (problems.length > 0) return `point ${p.id}: ${problems.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`;
      out.push(point);
    }
    return out;
  };
  const points = parsePoints(options.points);
  const missing = parsePoints(options.missingPoints ?? []);
  if (typeof points === 'string' || typeof missing === 'string') {
    add('address schema', 'fail', typeof points === 'string' ? points : (missing as string));
    return done();
  }
  add('address schema', 'pass', `${points.length + missing.length} point(s) parse and pass checkPoint`);
  try {
    const spec = descriptor.link(connection);
    const ok = typeof spec.key === 'string' && spec.key.length > 0 && Number.isInteger(spec.window) && spec.window >= 1;
    add('link spec', ok ? 'pass' : 'fail', `key ${JSON.stringify(spec.key)}, window ${spec.window}`);
  } catch (e) {
    add('link spec', 'fail', `link() threw: ${(e as Error).message}`);
  }

  // 3. Create, connect.
  const before = countResources();
  const stop = new AbortController();
  const ctx: DriverContext = {
    log: options.log ?? silent,
    clock: { now: () => Date.now(), monotonic: () => performance.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    metrics: { count: () => undefined },
    signal: stop.signal,
    dataDir: os.tmpdir(),
  };
  let driver: Driver<C, A>;
  let session: Session<C, A>;
  const lost: string[] = [];
  try {
    driver = descriptor.create(ctx);
    const ac = new AbortController();
    session = await withTimeout(driver.connect(connection, { signal: ac.signal, onLost: (e) => void lost.push(`${e.code}: ${e.message}`) }), step, 'connect', () => ac.abort());
    add('connect', 'pass', 'session open');
  } catch (e) {
    add('connect', 'fail', `${toDriverError(e).code}: ${(e as Error).message}`);
    stop.abort();
    return done();
  }
  const device: DeviceRef<C> = { name: deviceName, connection };

  // 4. Capabilities match the methods.
  const caps = descriptor.capabilities;
  const mismatch: string[] = [];
  if (!caps.read || typeof session.read !== 'function') mismatch.push('read must be true and session.read a function');
  if (caps.write !== (typeof session.write === 'function')) mismatch.push(`capabilities.write is ${caps.write} but session.write is ${typeof session.write}`);
  if (caps.subscribe !== (typeof session.subscribe === 'function')) mismatch.push(`capabilities.subscribe is ${caps.subscribe} but session.subscribe is ${typeof session.subscribe}`);
  add('capabilities match methods', mismatch.length === 0 ? 'pass' : 'fail', mismatch.join('; ') || `read${caps.write ? ', write' : ''}${caps.subscribe ? ', subscribe' : ''}`);

  // 5. Reads: as the gateway does them (planReads blocks), one result per point.
  const readAll = async (list: readonly Point<A>[]): Promise<ReadResult[]> => {
    const blocks = session.planReads ? session.planReads(device, list) : [list];
    const out: ReadResult[] = [];
    for (const b of blocks) {
      const ac = new AbortController();
      out.push(...(await withTimeout(session.read(device, b, ac.signal), step, 'read', () => ac.abort())));
    }
    return out;
  };
  if (session.planReads) {
    const blocks = session.planReads(device, [...points, ...missing]);
    const seen = blocks.flat().map((p) => p.id).sort();
    const want = [...points, ...missing].map((p) => p.id).sort();
    const max = caps.maxPointsPerRead;
    const big = max === undefined ? undefined : blocks.find((b) => b.length > max);
    const ok = JSON.stringify(seen) === JSON.stringify(want) && big === undefined;
    add('planReads covers each point once', ok ? 'pass' : 'fail', ok ? `${blocks.length} block(s)` : big ? `a block of ${big.length} points exceeds maxPointsPerRead ${max}` : `planned ${seen.join(',')} for ${want.join(',')}`);
  }
  try {
    const results = await readAll(points);
    judgeRead(points, [], results, outcomes, add, 'read: one result per point');
  } catch (e) {
    add('read: one result per point', 'fail', `read threw ${toDriverError(e).code}: ${(e as Error).message}`);
  }
  if (missing.length > 0) {
    try {
      const results = await readAll([...points, ...missing]);
      judgeRead(points, missing, results, [], add, 'read: per-point failures do not throw');
    } catch (e) {
      add('read: per-point failures do not throw', 'fail', `a read with ${missing.length} missing point(s) threw ${toDriverError(e).code}: ${(e as Error).message}`);
    }
  } else add('read: per-point failures do not throw', 'skip', 'no missingPoints given');

  // 6. Writes.
  const byId = new Map(points.map((p) => [p.id, p]));
  if (options.writes?.length) {
    if (session.write === undefined) add('write and read back', 'fail', 'writes given but the session has no write()');
    else {
      const problems: string[] = [];
      for (const w of options.writes) {
        const point = byId.get(w.id);
        if (point === undefined) {
          problems.push(`write ${w.id}: no such point in options.points`);
          continue;
        }
        try {
          const ac = new AbortController();
          const r = await withTimeout(session.write(device, [{ point, value: w.value }], ac.signal), step, 'write', () => ac.abort());
          if (r.length !== 1 || r[0]!.id !== w.id || !r[0]!.ok) problems.push(`write ${w.id}: ${JSON.stringify(r)}`);
          else {
            const back = (await readAll([point]))[0];
            const want = w.expect ?? w.value;
            if (back === undefined || back.quality === 'bad' || back.value !== want) problems.push(`write ${w.id}=${String(w.value)} read back ${back && back.quality !== 'bad' ? String(back.value) : JSON.stringify(back)}, expected ${String(want)}`);
          }
        } catch (e) {
          problems.push(`write ${w.id} threw ${toDriverError(e).code}: ${(e as Error).message}`);
        }
      }
      add('write and read back', problems.length === 0 ? 'pass' : 'fail', problems.join('; ') || `${options.writes.length} write(s)`);
    }
  } else add('write and read back', 'skip', caps.write ? 'no writes given' : 'driver does not write');
  if (options.readOnlyWrites?.length) {
    if (session.write === undefined) add('writes to read-only points refused', 'pass', 'the session has no write()');
    else {
      const problems: string[] = [];
      for (const w of options.readOnlyWrites) {
        const point = byId.get(w.id);
        if (point === undefined) {
          problems.push(`${w.id}: no such point in options.points`);
          continue;
        }
        try {
          const ac = new AbortController();
          const r = await withTimeout(session.write(device, [{ point, value: w.value }], ac.signal), step, 'write', () => ac.abort());
          const one = r[0];
          if (r.length !== 1 || one === undefined || one.id !== w.id) problems.push(`${w.id}: expected one result for the write, got ${JSON.stringify(r)}`);
          else if (one.ok) problems.push(`${w.id}: the write was accepted`);
          else if (typeof one.error?.code !== 'string') problems.push(`${w.id}: refusal without an error code`);
        } catch (e) {
          problems.push(`${w.id}: the write threw ${toDriverError(e).code} instead of returning ok: false (one refused point must not fail a batch)`);
        }
      }
      add('writes to read-only points refused', problems.length === 0 ? 'pass' : 'fail', problems.join('; ') || `${options.readOnlyWrites.length} refusal(s) with codes`);
    }
  } else add('writes to read-only points refused', 'skip', 'no readOnlyWrites given');

  // 7. Subscribe delivers through the sink.
  if (caps.subscribe && session.subscribe !== undefined) {
    const ids = new Set(options.subscribe?.ids ?? points.map((p) => p.id));
    const subPoints = points.filter((p) => ids.has(p.id));
    const got: ReadResult[] = [];
    const errors: string[] = [];
    let wake: (() => void) | undefined;
    let sub: Subscription | undefined;
    try {
      sub = await withTimeout(
        session.subscribe(device, subPoints, {
          values: (dev, results) => {
            if (dev !== deviceName) errors.push(`values for device ${dev}, expected ${deviceName}`);
            got.push(...results);
            wake?.();
          },
          error: (_dev, e) => void errors.push(`${e.code}: ${e.message}`),
        }),
        step,
        'subscribe',
      );
      await options.subscribe?.trigger?.();
      const end = Date.now() + step;
      while (got.length === 0 && Date.now() < end) await new Promise<void>((r) => ((wake = r), void sleep(50).then(r)));
      const foreign = got.filter((r) => !ids.has(r.id));
      const ok = got.length > 0 && foreign.length === 0 && errors.length === 0;
      add('subscribe delivers through the sink', ok ? 'pass' : 'fail', ok ? `${got.length} value(s) pushed` : got.length === 0 ? `nothing pushed within ${step} ms${errors.length ? `; errors: ${errors.join('; ')}` : ''}` : `${foreign.length} result(s) for points not subscribed; ${errors.join('; ')}`);
      await withTimeout(sub.close(), step, 'subscription close');
      await withTimeout(sub.close(), step, 'second subscription close');
    } catch (e) {
      add('subscribe delivers through the sink', 'fail', `${toDriverError(e).code}: ${(e as Error).message}`);
    }
  } else add('subscribe delivers through the sink', 'skip', 'driver does not subscribe');

  // 8. close() twice, then nothing left running.
  try {
    await withTimeout(session.close(), step, 'close');
    await withTimeout(session.close(), step, 'second close');
    let after: unknown;
    try {
      const ac = new AbortController();
      await withTimeout(session.read(device, points.slice(0, 1), ac.signal), step, 'read after close', () => ac.abort());
      after = 'resolved';
    } catch (e) {
      after = isDriverError(e) ? undefined : `threw a non-DriverError: ${String(e)}`;
    }
    await withTimeout(Promise.resolve(driver.close?.()), step, 'driver close');
    await withTimeout(Promise.resolve(driver.close?.()), step, 'second driver close');
    add('close() is idempotent', after === undefined ? 'pass' : 'fail', after === undefined ? 'session and driver closed twice; a read after close rejects with a DriverError' : `a read after close ${String(after)}`);
  } catch (e) {
    add('close() is idempotent', 'fail', (e as Error).message);
  }
  stop.abort();
  const end = Date.now() + (options.leakWait ?? 1500);
  let extra = extraResources(before, countResources());
  while (Object.keys(extra).length > 0 && Date.now() < end) {
    await sleep(50);
    extra = extraResources(before, countResources());
  }
  const leaks = Object.entries(extra).map(([k, n]) => `${n} ${k}`);
  add('close() leaves no timers or sockets', leaks.length === 0 ? 'pass' : 'fail', leaks.length === 0 ? 'no handles left' : `still open after close: ${leaks.join(', ')}`);
  if (lost.length > 0) add('no spurious onLost', 'fail', `onLost called during the run: ${lost.join('; ')}`);
  return done();
}

function judgeRead<A>(
  good: readonly Point<A>[],
  bad: readonly Point<A>[],
  results: readonly ReadResult[],
  outcomes: PointOutcome[],
  add: (name: string, status: CheckStatus, message: string) => void,
  name: string,
): void {
  const problems: string[] = [];
  const byId = new Map<string, ReadResult>();
  for (const r of results) {
    if (byId.has(r.id)) problems.push(`two results for point ${r.id}`);
    byId.set(r.id, r);
    if (r.quality !== 'good' && r.quality !== 'uncertain' && r.quality !== 'bad') problems.push(`point ${r.id}: quality ${String((r as { quality: unknown }).quality)}`);
  }
  const all = new Set([...good, ...bad].map((p) => p.id));
  for (const r of results) if (!all.has(r.id)) problems.push(`a result for point ${r.id}, which was not asked for`);
  for (const p of good) {
    const r = byId.get(p.id);
    let ok = false;
    if (r === undefined) problems.push(`no result for point ${p.id}`);
    else if (r.quality === 'bad') problems.push(`point ${p.id} is bad: ${r.error.code}: ${r.error.message}`);
    else if (!expectedKinds(p.type).includes(typeof r.value)) problems.push(`point ${p.id} (${p.type}) has a ${typeof r.value} value`);
    else ok = true;
    outcomes.push({ id: p.id, expected: 'good', result: r, ok });
  }
  for (const p of bad) {
    const r = byId.get(p.id);
    let ok = false;
    if (r === undefined) problems.push(`no result for missing point ${p.id}`);
    else if (r.quality !== 'bad') problems.push(`missing point ${p.id} came back ${r.quality}`);
    else if (typeof r.error?.code !== 'string') problems.push(`missing point ${p.id}: bad without an error code`);
    else ok = true;
    outcomes.push({ id: p.id, expected: 'bad', result: r, ok });
  }
  add(name, problems.length === 0 ? 'pass' : 'fail', problems.join('; ') || `${good.length} good${bad.length ? `, ${bad.length} bad as expected` : ''}`);
}

/** Throws one AssertionError listing every failed check (for node:test). */
export function assertConformant(report: ConformanceReport): void {
  if (report.ok) return;
  const lines = report.failures.map((f) => `  ✗ ${f.name}: ${f.message}`);
  const err = new Error(`driver ${report.driver} is not conformant:\n${lines.join('\n')}`);
  err.name = 'AssertionError';
  throw err;
}
