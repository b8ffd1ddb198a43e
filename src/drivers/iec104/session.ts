/**
 * The driver API's Session over one {@link Iec104Client}.
 *
 * - `read` answers from the values the client holds (interrogation and spontaneous data); it
 *   first waits for the first general interrogation to end (bounded by the device's `timeout`).
 *   A point with no data yet is a `bad` result with code `BadAddress` (the station did not
 *   report that IOA); a value of another family than the point expects is `bad` `Protocol`.
 * - `subscribe` pushes the held values of the points at once, then every monitoring object that
 *   arrives for them, one `sink.values` call per ASDU and device, `ts` = the object's time tag.
 *   A lost link is reported through the connect options' `onLost` (not `sink.error`); the gateway
 *   reconnects and subscribes again.
 * - `write` sends each point's command: with select-before-operate, select (S/E = 1) and wait for
 *   ACTCON, then execute (S/E = 0) and wait for ACTCON and, when `waitTermination`, ACTTERM. A
 *   negative confirmation is an `Exception` result carrying the cause.
 */
import { DriverError } from '../sdk/index.ts';
import type { DeviceRef, Point, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from '../sdk/index.ts';
import { resolveIoa } from './address.ts';
import type { Iec104Address, Iec104Connection } from './address.ts';
import { COMMAND_TYPES } from './codec/types.ts';
import { cp56FromEpoch } from './codec/time.ts';
import type { Iec104Client, MonitorUpdate } from './client.ts';
import { canSelect, notReceived, toCommand, toReadResult } from './values.ts';

type Dev = DeviceRef<Iec104Connection>;
type Pt = Point<Iec104Address>;

/** An IEC 104 link as the gateway sees it. */
export class Iec104Session implements Session<Iec104Connection, Iec104Address> {
  constructor(readonly client: Iec104Client) {}

  async read(device: Dev, points: readonly Pt[], signal: AbortSignal): Promise<ReadResult[]> {
    this.#throwIfLost();
    await this.#waitFirstGi(device.connection.timeout, signal);
    this.#throwIfLost();
    return points.map((p) => this.#result(device, p));
  }

  async write(device: Dev, writes: readonly PointWrite<Iec104Address>[], signal: AbortSignal): Promise<WriteResult[]> {
    const out: WriteResult[] = [];
    // One at a time: a station handles one select/execute sequence per object, and order matters.
    for (const w of writes) out.push(await this.#writeOne(device, w, signal));
    return out;
  }

  async subscribe(device: Dev, points: readonly Pt[], sink: SubscriptionSink): Promise<Subscription> {
    this.#throwIfLost();
    const byIoa = new Map<number, Pt[]>();
    for (const p of points) {
      const ioa = resolveIoa(p.address, device.connection);
      const list = byIoa.get(ioa);
      if (list === undefined) byIoa.set(ioa, [p]);
      else list.push(p);
    }
    const offset = device.connection.timeOffset;
    const initial: ReadResult[] = [];
    for (const [ioa, pts] of byIoa) {
      const held = this.client.value(ioa);
      if (held !== undefined) for (const p of pts) initial.push(toReadResult(p.id, p.type, p.address.families, held, offset));
    }
    if (initial.length > 0) sink.values(device.name, initial);
    const off = this.client.listen((batch: readonly MonitorUpdate[]) => {
      let results: ReadResult[] | undefined;
      for (const u of batch) {
        const pts = byIoa.get(u.object.ioa);
        if (pts === undefined) continue;
        results ??= [];
        for (const p of pts) results.push(toReadResult(p.id, p.type, p.address.families, u, offset));
      }
      if (results !== undefined) sink.values(device.name, results);
    });
    return {
      close: async () => {
        off();
      },
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  #result(device: Dev, p: Pt): ReadResult {
    const ioa = resolveIoa(p.address, device.connection);
    const held = this.client.value(ioa);
    if (held === undefined) return notReceived(p.id, ioa, this.client.clock.now());
    return toReadResult(p.id, p.type, p.address.families, held, device.connection.timeOffset);
  }

  async #writeOne(device: Dev, w: PointWrite<Iec104Address>, signal: AbortSignal): Promise<WriteResult> {
    const p = w.point;
    const id = p.id;
    const cmdType = p.address.commandType;
    if (cmdType === undefined) {
      return { id, ok: false, error: { code: 'Unsupported', message: `${p.address.pointType ?? 'this'} point has no command; give commandType or use an AO/DO point` } };
    }
    const ioa = resolveIoa(p.address, device.connection);
    const sbo = (p.address.sbo ?? device.connection.sbo) && canSelect(cmdType);
    const timeTagged = COMMAND_TYPES.get(cmdType)?.timeTagged === true;
    const time = () => (timeTagged ? cp56FromEpoch(this.client.clock.now(), device.connection.timeOffset) : undefined);
    try {
      if (sbo) {
        const sel = toCommand(cmdType, p.type, w.value, true);
        if (typeof sel === 'string') return { id, ok: false, error: { code: 'BadValue', message: sel } };
        await this.client.activate(cmdType, ioa, sel, opt(false, time(), signal));
      }
      const exe = toCommand(cmdType, p.type, w.value, false);
      if (typeof exe === 'string') return { id, ok: false, error: { code: 'BadValue', message: exe } };
      await this.client.activate(cmdType, ioa, exe, opt(device.connection.waitTermination, time(), signal));
      return { id, ok: true };
    } catch (e) {
      const err = e instanceof DriverError ? e : new DriverError('Protocol', String(e));
      if (err.code === 'Offline') throw err;
      return { id, ok: false, error: err.detail === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, detail: err.detail } };
    }
  }

  async #waitFirstGi(timeout: number, signal: AbortSignal): Promise<void> {
    const clock = this.client.clock;
    let timer: unknown;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        this.client.firstInterrogation(),
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, timeout);
          onAbort = () => resolve();
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }

  #throwIfLost(): void {
    const lost = this.client.lost;
    if (lost !== undefined) throw new DriverError('Offline', `link lost: ${lost.message}`);
  }
}

function opt(needTerm: boolean, time: ReturnType<typeof cp56FromEpoch> | undefined, signal: AbortSignal) {
  return time === undefined ? { needTerm, signal } : { needTerm, time, signal };
}
