/**
 * The APCI link procedure of IEC 60870-5-104 §5, for either end of a connection: sequence
 * numbering of I-format APDUs, the k/w windows, the t1/t2/t3 timers, STARTDT/STOPDT and TESTFR.
 * No sockets here: bytes come in through `receive` and go out through the transport, and time
 * comes from an injected clock, so tests drive it with fake time.
 *
 * Rules followed (IEC 60870-5-104 §5.1–5.3, timeouts and k/w of the interoperability list):
 * - At most `k` I-format APDUs may wait for acknowledgement; more are queued until N(R) arrives.
 * - The receiver acknowledges after `w` I-format APDUs at the latest, or when t2 expires after
 *   the first unacknowledged one (an S-format APDU; an outgoing I-format APDU also acknowledges).
 * - An I-format APDU or an act U-format APDU unacknowledged for t1 closes the connection.
 * - After t3 with nothing received, TESTFR act is sent (and must be confirmed within t1).
 * - A wrong N(S), an N(R) acknowledging something never sent, or a framing error closes the
 *   connection: the standard gives no way to resynchronize.
 */
import { encodeI, encodeS, encodeU, SEQ_MODULO } from './codec/apci.ts';
import type { Apdu, UFunction } from './codec/apci.ts';
import { FrameSplitter } from './codec/splitter.ts';

/** Timer and window parameters, in ms and APDUs. */
export interface LinkParams {
  readonly k: number;
  readonly w: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
}

/** The standard defaults: k 12, w 8, t1 15 s, t2 10 s, t3 20 s (t0 30 s is the caller's). */
export const DEFAULT_LINK_PARAMS: LinkParams = Object.freeze({ k: 12, w: 8, t1: 15_000, t2: 10_000, t3: 20_000 });

/** The subset of the SDK clock the link needs. */
export interface LinkClock {
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Why a link closed. `Offline` = the owner closed it or the transport went away. */
export interface LinkCloseReason {
  readonly code: 'Timeout' | 'Protocol' | 'Offline';
  readonly message: string;
}

/** What the link tells its owner. */
export interface LinkHandlers {
  /** An ASDU arrived in sequence (already acknowledged by the link as the rules say). */
  asdu(asdu: Uint8Array): void;
  /** Data transfer started (controlling: STARTDT con received; controlled: STARTDT act received). */
  started?(): void;
  /** Data transfer stopped (STOPDT). */
  stopped?(): void;
  /** The link is finished; the owner destroys the transport. Called once. */
  closed(reason: LinkCloseReason): void;
}

/** Counters, for tests and metrics. */
export interface LinkStats {
  iSent: number;
  iReceived: number;
  sSent: number;
  sReceived: number;
  uSent: number;
  uReceived: number;
}

export type LinkState = 'stopped' | 'starting' | 'started' | 'stopping' | 'closed';

const seqDiff = (a: number, b: number) => (a - b + SEQ_MODULO) % SEQ_MODULO;

/** One end of an IEC 104 connection. */
export class ApciLink {
  readonly stats: LinkStats = { iSent: 0, iReceived: 0, sSent: 0, sReceived: 0, uSent: 0, uReceived: 0 };
  /** Simulator fault: never acknowledge received I-format APDUs. */
  suppressAcks = false;

  #state: LinkState = 'stopped';
  #frozen = false;
  readonly #splitter = new FrameSplitter();
  /** V(S), V(R), and the oldest N(S) not yet acknowledged by the peer. */
  #vs = 0;
  #vr = 0;
  #va = 0;
  /** I-format APDUs received since we last sent an acknowledgement. */
  #unackedIn = 0;
  /** The last N(R) sent; I-frames repeat it while acknowledgements are suppressed. */
  #ackSent = 0;
  /** Send times (monotonic) of unacknowledged I-format APDUs, oldest first. */
  readonly #sentAt: number[] = [];
  readonly #queue: Uint8Array[] = [];
  /** The act U-format APDU awaiting its con, with its send time. */
  #pendingU: { fn: UFunction; at: number } | undefined;
  #t1: unknown;
  #t2: unknown;
  #t3: unknown;

  constructor(
    readonly role: 'controlling' | 'controlled',
    readonly params: LinkParams,
    private readonly clock: LinkClock,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly handlers: LinkHandlers,
  ) {
    this.#armT3();
  }

  get state(): LinkState {
    return this.#state;
  }
  /** I-format APDUs sent and not yet acknowledged. */
  get outstanding(): number {
    return this.#sentAt.length;
  }
  /** ASDUs waiting for the window (or for STARTDT). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Controlling station: sends STARTDT act; `started` follows its con. */
  start(): void {
    if (this.#state !== 'stopped') return;
    this.#state = 'starting';
    this.#sendU('STARTDT_ACT');
  }

  /** Controlling station: sends STOPDT act. */
  stop(): void {
    if (this.#state !== 'started') return;
    this.#state = 'stopping';
    this.#sendU('STOPDT_ACT');
  }

  /** Queues an ASDU; it goes out once data transfer is started and the k window allows. */
  send(asdu: Uint8Array): void {
    if (this.#state === 'closed' || this.#frozen) return;
    this.#queue.push(asdu);
    this.#flush();
  }

  /** Simulator fault: the next I-format APDU skips one send sequence number. */
  breakSendSequence(): void {
    this.#vs = (this.#vs + 1) % SEQ_MODULO;
  }

  /** Simulator fault: stop everything (timers, answers) as a hung device would, keeping the socket. */
  freeze(): void {
    this.#frozen = true;
    this.#clearTimers();
  }

  /** Feeds bytes from the transport. */
  receive(chunk: Uint8Array): void {
    if (!this.#alive()) return;
    const { frames, error } = this.#splitter.push(chunk);
    for (const f of frames) {
      if (!this.#alive()) return;
      this.#onFrame(f);
    }
    if (error !== undefined && this.#alive()) this.close({ code: 'Protocol', message: `framing error: ${error.message}` });
  }

  /** Closes the link (idempotent); `handlers.closed` runs once with the first reason. */
  close(reason: LinkCloseReason = { code: 'Offline', message: 'closed' }): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearTimers();
    this.#queue.length = 0;
    this.handlers.closed(reason);
  }

  #alive(): boolean {
    return this.#state !== 'closed' && !this.#frozen;
  }

  #onFrame(f: Apdu): void {
    this.#armT3();
    switch (f.format) {
      case 'I':
        this.stats.iReceived++;
        if (this.#state !== 'started' && this.#state !== 'stopping') {
          this.close({ code: 'Protocol', message: `I-format APDU received while data transfer is ${this.#state}` });
          return;
        }
        if (f.sendSeq !== this.#vr) {
          this.close({ code: 'Protocol', message: `sequence error: expected N(S)=${this.#vr}, received ${f.sendSeq}` });
          return;
        }
        this.#vr = (this.#vr + 1) % SEQ_MODULO;
        if (!this.#ack(f.recvSeq)) return;
        this.#unackedIn++;
        if (this.#unackedIn >= this.params.w) this.#sendS();
        else if (this.#t2 === undefined) this.#t2 = this.clock.setTimeout(() => this.#onT2(), this.params.t2);
        this.handlers.asdu(f.asdu);
        return;
      case 'S':
        this.stats.sReceived++;
        this.#ack(f.recvSeq);
        return;
      case 'U':
        this.stats.uReceived++;
        this.#onU(f.fn);
        return;
    }
  }

  #onU(fn: UFunction): void {
    switch (fn) {
      case 'TESTFR_ACT':
        this.#sendU('TESTFR_CON');
        return;
      case 'TESTFR_CON':
      case 'STARTDT_CON':
      case 'STOPDT_CON':
        // A con nobody asked for changes nothing; ignore it rather than drop a working link.
        if (this.#pendingU === undefined || this.#pendingU.fn !== fn.replace('_CON', '_ACT')) return;
        this.#pendingU = undefined;
        this.#armT1();
        if (fn === 'STARTDT_CON') {
          this.#state = 'started';
          this.handlers.started?.();
          this.#flush();
        } else if (fn === 'STOPDT_CON') {
          this.#state = 'stopped';
          this.handlers.stopped?.();
        }
        return;
      case 'STARTDT_ACT':
        if (this.role !== 'controlled') {
          this.close({ code: 'Protocol', message: 'STARTDT act received by the controlling station' });
          return;
        }
        this.#sendU('STARTDT_CON');
        if (this.#state !== 'started') {
          this.#state = 'started';
          this.handlers.started?.();
        }
        this.#flush();
        return;
      case 'STOPDT_ACT':
        if (this.role !== 'controlled') {
          this.close({ code: 'Protocol', message: 'STOPDT act received by the controlling station' });
          return;
        }
        // Acknowledge what arrived before confirming (IEC 60870-5-104 §5.3).
        if (this.#unackedIn > 0) this.#sendS();
        this.#sendU('STOPDT_CON');
        this.#state = 'stopped';
        this.handlers.stopped?.();
        return;
    }
  }

  /** Applies a received N(R); false (and closed) when it acknowledges something never sent. */
  #ack(nr: number): boolean {
    const acked = seqDiff(nr, this.#va);
    if (acked > this.#sentAt.length) {
      this.close({ code: 'Protocol', message: `N(R)=${nr} acknowledges APDUs never sent (unacknowledged ${this.#va}..${this.#vs})` });
      return false;
    }
    if (acked > 0) {
      this.#sentAt.splice(0, acked);
      this.#va = nr;
      this.#armT1();
      this.#flush();
    }
    return true;
  }

  #flush(): void {
    while (this.#state === 'started' && !this.#frozen && this.#queue.length > 0 && this.#sentAt.length < this.params.k) {
      const asdu = this.#queue.shift()!;
      if (!this.suppressAcks) this.#ackedIn();
      const frame = encodeI(this.#vs, this.#ackSent, asdu);
      this.#sentAt.push(this.clock.monotonic());
      this.#vs = (this.#vs + 1) % SEQ_MODULO;
      this.stats.iSent++;
      this.write(frame);
      if (this.#sentAt.length === 1) this.#armT1();
    }
  }

  /** An outgoing APDU carried N(R) = V(R): nothing received is waiting for acknowledgement. */
  #ackedIn(): void {
    this.#unackedIn = 0;
    this.#ackSent = this.#vr;
    if (this.#t2 !== undefined) {
      this.clock.clearTimeout(this.#t2);
      this.#t2 = undefined;
    }
  }

  #sendS(): void {
    if (this.suppressAcks || this.#frozen) return;
    this.#ackedIn();
    this.stats.sSent++;
    this.write(encodeS(this.#vr));
  }

  #sendU(fn: UFunction): void {
    if (this.#frozen) return;
    if (fn.endsWith('_ACT')) {
      this.#pendingU = { fn, at: this.clock.monotonic() };
      this.#armT1();
    }
    this.stats.uSent++;
    this.write(encodeU(fn));
  }

  #onT2(): void {
    this.#t2 = undefined;
    if (this.#unackedIn > 0) this.#sendS();
  }

  /** Arms t1 for the oldest thing awaiting acknowledgement, if any. */
  #armT1(): void {
    if (this.#t1 !== undefined) this.clock.clearTimeout(this.#t1);
    this.#t1 = undefined;
    const oldestI = this.#sentAt[0];
    const deadlines: number[] = [];
    if (oldestI !== undefined) deadlines.push(oldestI + this.params.t1);
    if (this.#pendingU !== undefined) deadlines.push(this.#pendingU.at + this.params.t1);
    if (deadlines.length === 0) return;
    const due = Math.min(...deadlines);
    this.#t1 = this.clock.setTimeout(() => this.#onT1(), Math.max(0, due - this.clock.monotonic()));
  }

  #onT1(): void {
    this.#t1 = undefined;
    const what = this.#pendingU !== undefined && (this.#sentAt[0] === undefined || this.#pendingU.at <= this.#sentAt[0]) ? this.#pendingU.fn : `I-format APDU N(S)=${this.#va}`;
    this.close({ code: 'Timeout', message: `t1 (${this.params.t1} ms) expired waiting for the acknowledgement of ${what}` });
  }

  #armT3(): void {
    if (this.#t3 !== undefined) this.clock.clearTimeout(this.#t3);
    this.#t3 = this.clock.setTimeout(() => this.#onT3(), this.params.t3);
  }

  #onT3(): void {
    this.#t3 = undefined;
    if (this.#state === 'closed' || this.#frozen) return;
    // A test already outstanding is covered by t1; otherwise probe the idle connection.
    if (this.#pendingU === undefined) this.#sendU('TESTFR_ACT');
    this.#armT3();
  }

  #clearTimers(): void {
    for (const t of [this.#t1, this.#t2, this.#t3]) if (t !== undefined) this.clock.clearTimeout(t);
    this.#t1 = this.#t2 = this.#t3 = undefined;
  }
}
