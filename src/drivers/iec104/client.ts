/**
 * The controlling station (IEC 60870-5-104 client) over one TCP connection: STARTDT, general and
 * counter interrogation, clock synchronization, activations that wait for ACTCON/ACTTERM, and a
 * table of the last monitoring value of every IOA. The link procedure (windows, timers) is
 * {@link ApciLink}; this file only adds the socket and the application functions of
 * IEC 60870-5-5 / -101 §7.4 (station interrogation, counter interrogation, clock
 * synchronization, command transmission).
 *
 * Ownership: the driver session owns the client and calls `close()`; a link lost any other way
 * is reported once through `onLost`. The client never reconnects.
 */
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { DriverError } from '../sdk/index.ts';
import type { Clock, DriverMetrics, Logger, PointError } from '../sdk/index.ts';
import type { Endpoint, Iec104Connection } from './address.ts';
import { decodeAsdu, encodeAsdu } from './codec/asdu.ts';
import type { Asdu, AsduParams, InfoObject } from './codec/asdu.ts';
import type { Element } from './codec/elements.ts';
import { cp56FromEpoch } from './codec/time.ts';
import { Cot, cotName, MONITOR_TYPES, QCC_RQT_GENERAL, QOI_STATION, TypeId, typeName } from './codec/types.ts';
import { ApciLink } from './link.ts';
import type { LinkCloseReason } from './link.ts';
import type { HeldValue } from './values.ts';

/** One monitoring object as it arrived. */
export interface MonitorUpdate extends HeldValue {
  readonly cause: number;
}

/** What a client needs from its owner. */
export interface ClientContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: DriverMetrics;
  /** Called once when the link breaks without `close()`. */
  readonly onLost: (error: PointError) => void;
}

interface Pending {
  readonly label: string;
  /** After a positive ACTCON, keep waiting for ACTTERM. */
  needTerm: boolean;
  resolve(): void;
  reject(e: DriverError): void;
  timer: unknown;
}

const FRZ = { read: 0, freeze: 1, freezeReset: 2, reset: 3 } as const;
const MONITOR_CAUSES = new Set([Cot.PERIODIC, Cot.BACKGROUND, Cot.SPONTANEOUS, Cot.REQUEST, Cot.RETURN_REMOTE, Cot.RETURN_LOCAL]);
const isInterrogationCause = (c: number) => c >= Cot.INTERROGATED_BY_STATION && c <= 41;

/** A connected controlling station. Create with {@link Iec104Client.connect}. */
export class Iec104Client {
  readonly #values = new Map<number, HeldValue>();
  readonly #listeners = new Set<(batch: readonly MonitorUpdate[]) => void>();
  readonly #pending = new Map<string, Pending>();
  readonly #timers = new Set<unknown>();
  readonly params: AsduParams;
  #closedByUs = false;
  #lost: DriverError | undefined;
  #firstGi: Promise<void>;
  #firstGiDone!: () => void;

  private constructor(
    readonly connection: Iec104Connection,
    readonly endpoint: Endpoint,
    private readonly socket: Socket,
    private readonly ctx: ClientContext,
    readonly link: ApciLink,
  ) {
    this.params = { cotSize: connection.cotSize, caSize: connection.caSize, ioaSize: connection.ioaSize };
    this.#firstGi = new Promise((r) => (this.#firstGiDone = r));
  }

  /**
   * Opens TCP within t0, sends STARTDT act and resolves once STARTDT con arrives (within t1);
   * then starts general interrogation, counter interrogation and clock sync as configured.
   * Rejects with `Offline` (TCP failed, t0) or `Timeout` (no STARTDT con).
   */
  static async connect(c: Iec104Connection, endpoint: Endpoint, ctx: ClientContext, signal: AbortSignal): Promise<Iec104Client> {
    const socket = await openSocket(endpoint, c.t0, ctx.clock, signal);
    socket.setNoDelay(true);
    let client!: Iec104Client;
    let startedResolve!: () => void;
    let startedReject!: (e: DriverError) => void;
    const started = new Promise<void>((res, rej) => {
      startedResolve = res;
      startedReject = rej;
    });
    let isStarted = false;
    const link = new ApciLink('controlling', c, ctx.clock, (b) => socket.write(b), {
      asdu: (b) => client.#onAsdu(b),
      started: () => {
        isStarted = true;
        startedResolve();
      },
      closed: (reason) => {
        socket.destroy();
        // Before STARTDT con the failure belongs to connect(), not to onLost.
        if (!isStarted) client.#closedByUs = true;
        if (!isStarted) startedReject(new DriverError(reason.code === 'Timeout' ? 'Timeout' : reason.code === 'Protocol' ? 'Protocol' : 'Offline', `STARTDT failed: ${reason.message}`));
        client.#onLinkClosed(reason);
      },
    });
    client = new Iec104Client(c, endpoint, socket, ctx, link);
    socket.on('data', (chunk: Buffer) => link.receive(chunk));
    socket.on('error', (e) => link.close({ code: 'Offline', message: `socket error: ${e.message}` }));
    socket.on('close', () => link.close({ code: 'Offline', message: 'connection closed by the station' }));
    const onAbort = () => link.close({ code: 'Offline', message: 'connect aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      link.start();
      await started;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    client.#startDuties();
    return client;
  }

  /** The clock the client runs on. */
  get clock(): Clock {
    return this.ctx.clock;
  }

  /** The last value held for an IOA, if any arrived. */
  value(ioa: number): HeldValue | undefined {
    return this.#values.get(ioa);
  }

  /** Why the link was lost, once it was. */
  get lost(): DriverError | undefined {
    return this.#lost;
  }

  /** Resolves when the first general interrogation has ended (ACTTERM, failure or link loss). */
  firstInterrogation(): Promise<void> {
    return this.#firstGi;
  }

  /** Receives every batch of monitoring objects (one ASDU each); returns the unsubscribe. */
  listen(fn: (batch: readonly MonitorUpdate[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Station interrogation (C_IC_NA_1, QOI 20): resolves at ACTTERM. */
  interrogate(qoi = QOI_STATION): Promise<void> {
    return this.activate(TypeId.C_IC_NA_1, 0, { kind: 'interrogation', qoi }, { needTerm: true });
  }

  /** Counter interrogation (C_CI_NA_1, RQT general): resolves at ACTTERM. */
  counterInterrogate(): Promise<void> {
    return this.activate(TypeId.C_CI_NA_1, 0, { kind: 'counterInterrogation', rqt: QCC_RQT_GENERAL, frz: FRZ[this.connection.counterFreeze] }, { needTerm: true });
  }

  /** Clock synchronization (C_CS_NA_1) with the clock's time: resolves at ACTCON. */
  clockSync(): Promise<void> {
    const time = cp56FromEpoch(this.ctx.clock.now(), this.connection.timeOffset);
    return this.activate(TypeId.C_CS_NA_1, 0, { kind: 'clockSync' }, { needTerm: false, time });
  }

  /**
   * Sends an activation (COT 6) and waits for its ACTCON, and ACTTERM when `needTerm`. A negative
   * confirmation, or a reply with cause 44..47 (unknown type/cause/CA/IOA), rejects with
   * `Exception` and the cause in `detail`; no reply within `timeout` rejects with `Timeout`.
   * One activation per (type, IOA) at a time: a second is rejected with `Unsupported`.
   */
  activate(typeId: number, ioa: number, element: Element, opts: { needTerm: boolean; time?: InfoObject['time']; signal?: AbortSignal }): Promise<void> {
    if (this.#lost !== undefined) return Promise.reject(new DriverError('Offline', `link lost: ${this.#lost.message}`));
    const key = `${typeId}:${ioa}`;
    const phase = 'select' in element ? (element.select ? ' (select)' : ' (execute)') : '';
    const label = `${typeName(typeId)} IOA ${ioa}${phase}`;
    if (this.#pending.has(key)) return Promise.reject(new DriverError('Unsupported', `${label}: an activation of this object is still running`));
    const obj: InfoObject = opts.time === undefined ? { ioa, element } : { ioa, element, time: opts.time };
    const asdu: Asdu = { typeId, sequence: false, cause: Cot.ACTIVATION, negative: false, test: false, originator: this.connection.originator, commonAddress: this.connection.commonAddress, objects: [obj] };
    const bytes = encodeAsdu(asdu, this.params);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#pending.delete(key);
        this.ctx.clock.clearTimeout(p.timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => p.reject(new DriverError('Timeout', `${label}: aborted`));
      const p: Pending = {
        label,
        needTerm: opts.needTerm,
        resolve: () => {
          done();
          resolve();
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer: this.ctx.clock.setTimeout(() => p.reject(new DriverError('Timeout', `${label}: no ${p.needTerm ? 'ACTCON/ACTTERM' : 'ACTCON'} within ${this.connection.timeout} ms`)), this.connection.timeout),
      };
      this.#pending.set(key, p);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.link.send(bytes);
    });
  }

  /** Closes the connection (idempotent). Pending activations reject with `Offline`; no onLost. */
  async close(): Promise<void> {
    this.#closedByUs = true;
    this.link.close({ code: 'Offline', message: 'closed by the gateway' });
  }

  #onLinkClosed(reason: LinkCloseReason): void {
    if (this.#lost !== undefined) return;
    const code = reason.code === 'Offline' ? 'Offline' : reason.code;
    this.#lost = new DriverError(code, reason.message);
    for (const t of this.#timers) this.ctx.clock.clearTimeout(t);
    this.#timers.clear();
    for (const p of [...this.#pending.values()]) p.reject(new DriverError('Offline', `${p.label}: link lost (${reason.message})`));
    this.#firstGiDone();
    this.socket.destroy();
    if (!this.#closedByUs) {
      this.ctx.log.warn({ endpoint: `${this.endpoint.host}:${this.endpoint.port}`, code, reason: reason.message }, 'iec104 link lost');
      this.ctx.onLost({ code, message: reason.message });
    }
  }

  #onAsdu(bytes: Uint8Array): void {
    const r = decodeAsdu(bytes, this.params);
    if (r.kind !== 'ok') {
      // The APDU was in sequence, so the link stays; the ASDU is dropped and counted.
      this.ctx.metrics.count('iec104_bad_asdu');
      this.ctx.log.warn({ error: r.kind === 'error' ? r.error.message : 'incomplete' }, 'iec104 ASDU dropped');
      return;
    }
    const a = r.value;
    if (a.commonAddress !== this.connection.commonAddress && a.commonAddress !== 0xffff) {
      this.ctx.metrics.count('iec104_foreign_ca');
      return;
    }
    if (MONITOR_TYPES.has(a.typeId)) {
      // Test ASDUs (T bit) are not process data (IEC 60870-5-101 §7.2.3).
      if (a.test || !(MONITOR_CAUSES.has(a.cause as 1) || isInterrogationCause(a.cause))) return;
      const now = this.ctx.clock.now();
      const batch: MonitorUpdate[] = new Array(a.objects.length);
      for (let i = 0; i < a.objects.length; i++) {
        const object = a.objects[i]!;
        const held: MonitorUpdate = { typeId: a.typeId, object, receivedAt: now, cause: a.cause };
        this.#values.set(object.ioa, held);
        batch[i] = held;
      }
      for (const fn of this.#listeners) fn(batch);
      return;
    }
    if (a.typeId === TypeId.M_EI_NA_1) {
      // The station (re)initialized: its image may have changed, so interrogate again.
      this.#runGi();
      return;
    }
    const first = a.objects[0]!;
    const p = this.#pending.get(`${a.typeId}:${first.ioa}`);
    if (p === undefined) return;
    if (a.negative || a.cause >= Cot.UNKNOWN_TYPE_ID) {
      p.reject(new DriverError('Exception', `${p.label}: negative confirmation (${cotName(a.cause)})`, { detail: { cause: a.cause, negative: a.negative } }));
    } else if (a.cause === Cot.ACTIVATION_CON) {
      if (!p.needTerm) p.resolve();
    } else if (a.cause === Cot.ACTIVATION_TERM) {
      p.resolve();
    }
  }

  #startDuties(): void {
    const c = this.connection;
    this.#runGi();
    if (c.clockSync) this.#every(c.clockSyncInterval, () => this.clockSync(), true);
    if (c.counterInterval > 0) this.#every(c.counterInterval, () => this.counterInterrogate(), true);
    if (c.interrogationInterval > 0) this.#every(c.interrogationInterval, () => this.interrogate(), false);
  }

  #runGi(): void {
    this.interrogate().then(
      () => this.#firstGiDone(),
      (e: DriverError) => {
        if (this.#lost === undefined) this.ctx.log.warn({ error: e.message }, 'iec104 general interrogation failed');
        this.#firstGiDone();
      },
    );
  }

  /** Runs `fn` now (if `now`) and then every `ms` (0 = only now), logging failures. */
  #every(ms: number, fn: () => Promise<void>, now: boolean): void {
    const run = () => {
      if (this.#lost !== undefined) return;
      fn().catch((e: DriverError) => {
        if (this.#lost === undefined) this.ctx.log.warn({ error: e.message }, 'iec104 periodic activation failed');
      });
    };
    if (now) run();
    if (ms <= 0) return;
    const tick = () => {
      this.#timers.delete(handle);
      run();
      if (this.#lost === undefined) {
        handle = this.ctx.clock.setTimeout(tick, ms);
        this.#timers.add(handle);
      }
    };
    let handle = this.ctx.clock.setTimeout(tick, ms);
    this.#timers.add(handle);
  }
}

/** Opens TCP to the station within t0; `Offline` on failure. */
function openSocket(ep: Endpoint, t0: number, clock: Clock, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DriverError('Offline', 'connect aborted'));
      return;
    }
    const socket = createConnection({ host: ep.host, port: ep.port });
    const fail = (message: string) => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new DriverError('Offline', `${ep.host}:${ep.port}: ${message}`));
    };
    const onAbort = () => fail('connect aborted');
    const timer = clock.setTimeout(() => fail(`no TCP connection within t0 (${t0} ms)`), t0);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (e) => fail(e.message));
    socket.once('connect', () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
