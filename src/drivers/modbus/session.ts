/**
 * One open Modbus link (a TCP endpoint or a serial bus) shared by the devices (unit ids) on it.
 *
 * - Every request sets the unit id and timeout first: both are client state in modbus-serial,
 *   read synchronously when the frame is sent, and several devices share one client.
 * - At most `window` requests are in flight (1 on serial and RTU-over-TCP links).
 * - Timeout and Offline throw (the gateway owns the link); exception responses and malformed
 *   frames become bad results for the points of that request only.
 * - "Illegal data address" on a merged block is narrowed down by splitting the block, and the
 *   points found are remembered so later plans read them alone.
 */
import { EventEmitter } from 'node:events';
import { DriverError, Gate } from '../sdk/index.ts';
import type { ConnectOptions, DeviceRef, DriverContext, Point, PointError, PointWrite, ReadResult, Session, WriteResult } from '../sdk/index.ts';
import type { ModbusAddress, ModbusConnection } from './address.ts';
import { badResult, decodeBlock } from './decode.ts';
import { toModbusError } from './errors.ts';
import { blockOf, planReads } from './plan.ts';
import type { PlanLimits, ReadBlock } from './plan.ts';
import { destroyClient, linkKind, openClient } from './transport.ts';
import type { LinkKind, ModbusClient } from './transport.ts';
import { planWrite } from './writes.ts';
import type { WriteOp, WritePlan } from './writes.ts';

type MPoint = Point<ModbusAddress>;
type Device = DeviceRef<ModbusConnection>;

/** Calls in flight on a link: the configured window on Modbus/TCP, one on anything serial. */
export function linkWindow(connection: ModbusConnection): number {
  return linkKind(connection) === 'tcp' ? connection.window : 1;
}

function limitsOf(c: ModbusConnection): PlanLimits {
  return { maxGap: c.maxGap, maxRegisters: c.maxRegisters, maxBits: c.maxBits };
}

function pointError(e: DriverError): PointError {
  return e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail };
}

/** Reads one block with the function code of its table (FC1–FC4). */
async function fetchBlock(c: ModbusClient, b: ReadBlock): Promise<ArrayLike<number | boolean>> {
  switch (b.table) {
    case 'coil':
      return (await c.readCoils(b.start, b.count)).data;
    case 'discrete':
      return (await c.readDiscreteInputs(b.start, b.count)).data;
    case 'holding':
      return (await c.readHoldingRegisters(b.start, b.count)).data;
    case 'input':
      return (await c.readInputRegisters(b.start, b.count)).data;
  }
}

/** Sends one planned write (FC5, FC15, FC6 per register, or FC16). */
async function sendWrite(c: ModbusClient, op: Exclude<WriteOp, { kind: 'readModifyWrite' }>): Promise<void> {
  if (op.kind === 'coils') {
    if (op.fc === 5) await c.writeCoil(op.address, op.values[0] ?? false);
    else await c.writeCoils(op.address, [...op.values]);
  } else if (op.fc === 16) {
    await c.writeRegisters(op.address, [...op.values]);
  } else {
    // writeFunction 6 on a multi-register value: devices that lack FC16 take one FC6 per register.
    for (let i = 0; i < op.values.length; i++) await c.writeRegister(op.address + i, op.values[i] ?? 0);
  }
}

/** An open link. Create with {@link ModbusSession.open}. */
export class ModbusSession implements Session<ModbusConnection, ModbusAddress> {
  readonly #client: ModbusClient;
  readonly #kind: LinkKind;
  readonly #ctx: DriverContext;
  readonly #onLost: ConnectOptions['onLost'];
  readonly #gate: Gate;
  /** Serializes read-modify-write of register bits within this session. */
  readonly #rmw = new Gate(1);
  #state: 'open' | 'lost' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  /** Rejecters of calls in flight, so that a lost or closed link fails them at once. */
  readonly #pending = new Set<(e: DriverError) => void>();
  /** Per device name: point ids to read alone (their address broke a merged request). */
  readonly #isolated = new Map<string, Set<string>>();
  /** Blocks of the lists planReads handed out, so read() does not plan them again. */
  readonly #planned = new WeakMap<readonly MPoint[], ReadBlock>();
  /**
   * The last plan of each point list planReads was given, with what it depended on: the device,
   * its connection (limits) and how many of its points were isolated then (that set only grows).
   */
  readonly #plans = new WeakMap<readonly MPoint[], { device: string; connection: ModbusConnection; isolated: number; lists: MPoint[][] }>();
  /** Monotonic time the last frame finished, for the inter-frame silence on serial links. */
  #lastFrameEnd = Number.NEGATIVE_INFINITY;

  private constructor(client: ModbusClient, connection: ModbusConnection, options: ConnectOptions, ctx: DriverContext) {
    this.#client = client;
    this.#kind = linkKind(connection);
    this.#ctx = ctx;
    this.#onLost = options.onLost;
    this.#gate = new Gate(linkWindow(connection));
    this.#watch();
  }

  /** Opens the link; rejects with `Offline` or `Timeout` (see `openClient`). */
  static async open(connection: ModbusConnection, options: ConnectOptions, ctx: DriverContext): Promise<ModbusSession> {
    const client = await openClient(connection, options.signal);
    return new ModbusSession(client, connection, options, ctx);
  }

  /** Point ids this session reads alone for `device` (learned from "illegal data address"). */
  isolatedPoints(device: string): ReadonlySet<string> {
    return this.#isolated.get(device) ?? new Set();
  }

  planReads(device: Device, points: readonly MPoint[]): MPoint[][] {
    // The gateway hands in the same point list on every poll: plan it once, and again only when
    // the inputs change (another connection, or a point learned to be read alone).
    const isolated = this.#isolated.get(device.name);
    const cached = this.#plans.get(points);
    if (cached !== undefined && cached.device === device.name && cached.connection === device.connection && cached.isolated === (isolated?.size ?? 0)) {
      return [...cached.lists];
    }
    const lists = planReads(points, limitsOf(device.connection), isolated ?? new Set<string>()).map((b) => {
      const list = b.points.map((p) => p.point);
      // `read` gets this very array back from the gateway: keep its block so it is not planned twice.
      this.#planned.set(list, b);
      return list;
    });
    this.#plans.set(points, { device: device.name, connection: device.connection, isolated: isolated?.size ?? 0, lists });
    return [...lists];
  }

  /** Reads the points (normally one planned block); one result per point. */
  async read(device: Device, points: readonly MPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    const planned = this.#planned.get(points);
    if (planned !== undefined) return this.#readBlock(device, planned, signal);
    const out: ReadResult[] = [];
    for (const block of planReads(points, limitsOf(device.connection), this.isolatedPoints(device.name))) {
      out.push(...(await this.#readBlock(device, block, signal)));
    }
    return out;
  }

  /** Writes in order; one result per write. Throws only Timeout/Offline (the link failed). */
  async write(device: Device, writes: readonly PointWrite<ModbusAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const out: WriteResult[] = [];
    for (const w of writes) out.push(await this.#writeOne(device, w, signal));
    return out;
  }

  /** Closes the link; idempotent. Calls in flight reject with `Offline`. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#state = 'closed';
      this.#failPending(new DriverError('Offline', 'the Modbus session was closed'));
      this.#closing = destroyClient(this.#client);
    }
    return this.#closing;
  }

  async #readBlock(device: Device, block: ReadBlock, signal: AbortSignal): Promise<ReadResult[]> {
    let data: ArrayLike<number | boolean>;
    try {
      data = await this.#call(device, (c) => fetchBlock(c, block), signal);
    } catch (e) {
      const err = toModbusError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
      if (err.code === 'BadAddress' && block.points.length > 1) return this.#narrow(device, block, signal);
      if (err.code === 'BadAddress') this.#remember(device.name, block.points.map((p) => p.point.id));
      const ts = this.#ctx.clock.now();
      return block.points.map((p) => badResult(p.point.id, pointError(err), ts));
    }
    return decodeBlock(block, data, this.#ctx.clock.now());
  }

  /**
   * A merged block got "illegal data address": read each half on its own (recursively) so that
   * only the points at missing addresses go bad. When both halves read fine, the missing
   * register lies in the gap between them; isolating the right half's first point keeps later
   * plans from bridging that gap.
   */
  async #narrow(device: Device, block: ReadBlock, signal: AbortSignal): Promise<ReadResult[]> {
    const pts = block.points.map((p) => p.point);
    const mid = Math.ceil(pts.length / 2);
    const left = await this.#readBlock(device, blockOf(block.table, pts.slice(0, mid)), signal);
    const right = await this.#readBlock(device, blockOf(block.table, pts.slice(mid)), signal);
    const all = [...left, ...right];
    const first = pts[mid];
    if (first !== undefined && !all.some((r) => r.quality === 'bad' && r.error.code === 'BadAddress')) {
      this.#remember(device.name, [first.id]);
    }
    return all;
  }

  #remember(device: string, ids: readonly string[]): void {
    let set = this.#isolated.get(device);
    if (set === undefined) this.#isolated.set(device, (set = new Set()));
    for (const id of ids) set.add(id);
    this.#ctx.log.warn({ device, points: ids }, 'Modbus: illegal data address; reading these points alone from now on');
  }

  async #writeOne(device: Device, w: PointWrite<ModbusAddress>, signal: AbortSignal): Promise<WriteResult> {
    const id = w.point.id;
    try {
      let plan = planWrite(w.point, w.value);
      if (plan.kind === 'ok' && plan.op.kind === 'readModifyWrite') {
        const address = plan.op.address;
        // Read and write back under one lock, so two bit writes to one register cannot interleave.
        plan = await this.#rmw.run(async (): Promise<WritePlan> => {
          const regs = await this.#call(device, async (c) => (await c.readHoldingRegisters(address, 1)).data, signal);
          const current = regs[0];
          if (current === undefined) return { kind: 'error', error: { code: 'Protocol', message: `reading holding register ${address} returned no data` } };
          const next = planWrite(w.point, w.value, current);
          if (next.kind === 'ok' && next.op.kind !== 'readModifyWrite') {
            const op = next.op;
            await this.#call(device, (c) => sendWrite(c, op), signal);
          }
          return next;
        });
        return plan.kind === 'ok' ? { id, ok: true } : { id, ok: false, error: plan.error };
      }
      if (plan.kind === 'error') return { id, ok: false, error: plan.error };
      const op = plan.op;
      if (op.kind === 'readModifyWrite') throw new DriverError('Protocol', 'unexpected read-modify-write plan');
      await this.#call(device, (c) => sendWrite(c, op), signal);
      return { id, ok: true };
    } catch (e) {
      const err = toModbusError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
      return { id, ok: false, error: pointError(err) };
    }
  }

  /** One request: a window slot, the inter-frame silence, then attempts up to `retries` + 1. */
  #call<T>(device: Device, op: (c: ModbusClient) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#gate.run(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.#once(device, op, signal);
        } catch (e) {
          const err = toModbusError(e);
          this.#ctx.metrics.count('modbus_request_errors_total', { code: err.code });
          const retriable = err.code === 'Timeout' || err.code === 'Protocol';
          if (!retriable || attempt >= device.connection.retries || this.#state !== 'open' || signal.aborted) throw err;
        }
      }
    });
  }

  async #once<T>(device: Device, op: (c: ModbusClient) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.#state !== 'open') throw new DriverError('Offline', `the Modbus link is ${this.#state}`);
    if (signal.aborted) throw new DriverError('Offline', 'the request was aborted');
    await this.#quiet(device);
    const { clock } = this.#ctx;
    const timeout = device.connection.timeout;
    const c = this.#client;
    // Unit id and timeout are client state that modbus-serial reads synchronously while sending.
    c.setID(device.connection.id);
    c.setTimeout(timeout);
    this.#ctx.metrics.count('modbus_requests_total');
    const request = op(c);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer: unknown;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clock.clearTimeout(timer);
        this.#pending.delete(fail);
        signal.removeEventListener('abort', onAbort);
        this.#lastFrameEnd = clock.monotonic();
        settle();
      };
      const fail = (e: DriverError) => finish(() => reject(e));
      const onAbort = () => fail(new DriverError('Offline', 'the request was aborted'));
      this.#pending.add(fail);
      signal.addEventListener('abort', onAbort, { once: true });
      // Backstop only: modbus-serial's own timer fires first, but a destroyed port never answers.
      if (timeout > 0) timer = clock.setTimeout(() => fail(new DriverError('Timeout', `no answer within ${timeout} ms`)), timeout + 250);
      request.then(
        (v) => finish(() => resolve(v)),
        (e: unknown) => fail(toModbusError(e)),
      );
    });
  }

  /** Waits out `interFrameDelay` since the last frame on serial links (RTU needs bus silence). */
  async #quiet(device: Device): Promise<void> {
    const gap = device.connection.interFrameDelay;
    if (gap === undefined || gap <= 0 || this.#kind === 'tcp') return;
    const wait = this.#lastFrameEnd + gap - this.#ctx.clock.monotonic();
    if (wait > 0) await new Promise<void>((r) => this.#ctx.clock.setTimeout(r, wait));
  }

  #failPending(e: DriverError): void {
    for (const fail of [...this.#pending]) fail(e);
  }

  /** Turns a close or error of the port outside `close()` into one `onLost`. */
  #watch(): void {
    const lost = (message: string) => {
      if (this.#state !== 'open') return;
      this.#state = 'lost';
      const err = new DriverError('Offline', message);
      this.#failPending(err);
      this.#onLost(pointError(err));
    };
    this.#client.on('close', () => lost('the Modbus link closed'));
    this.#client.on('error', (e: unknown) => lost(`the Modbus link failed: ${e instanceof Error || (typeof e === 'object' && e !== null) ? String((e as { message?: unknown }).message) : String(e)}`));
    // modbus-serial's TcpPort drops its 'close' relay when the socket errored first (ECONNRESET
    // sets openFlag=false before 'close'), so watch the socket or serial port itself too.
    const raw = (this.#client as unknown as { _port?: { _client?: unknown } })._port?._client;
    if (raw instanceof EventEmitter) raw.once('close', () => lost('the Modbus link closed'));
  }
}
