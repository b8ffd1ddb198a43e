/**
 * One connection of the simulated controlled station: answers interrogation, counter
 * interrogation, clock synchronization, test commands and process commands (select-before-operate
 * and direct execute) over the same APCI link and codec as the driver.
 */
import type { Socket } from 'node:net';
import { decodeAsdu, encodeAsdu, maxObjects, peekHeader } from '../../src/drivers/iec104/codec/asdu.ts';
import type { Asdu, AsduParams, InfoObject } from '../../src/drivers/iec104/codec/asdu.ts';
import { cp56ToEpoch } from '../../src/drivers/iec104/codec/time.ts';
import { COMMAND_TYPES, Cot, QOI_STATION, TypeId } from '../../src/drivers/iec104/codec/types.ts';
import { ApciLink } from '../../src/drivers/iec104/link.ts';
import type { LinkClock, LinkParams } from '../../src/drivers/iec104/link.ts';
import { commandValue, elementOf, UNTAGGED } from './points.ts';
import type { SimPoint, SimValue } from './points.ts';

/** A command the station received, for tests to inspect. */
export interface ReceivedCommand {
  readonly typeId: number;
  readonly ioa: number;
  readonly cause: number;
  readonly select: boolean;
  readonly value: SimValue | undefined;
  readonly accepted: boolean;
}

/** What a connection shares with the whole station. */
export interface StationShared {
  readonly commonAddress: number;
  readonly params: AsduParams;
  readonly link: LinkParams;
  readonly clock: LinkClock & { now(): number };
  readonly points: ReadonlyMap<number, SimPoint>;
  readonly sequenceGi: boolean;
  readonly selectTimeout: number;
  /** IOAs whose commands get a negative ACTCON (fault injection). */
  readonly rejectIoas: Set<number>;
  readonly commands: ReceivedCommand[];
  readonly clockSyncs: number[];
  /** Response delay fault: every outgoing frame waits this many ms (0 = none). Read per frame. */
  delayMs(): number;
  /** A command changed a point: the station sends it spontaneously (COT 11) to every connection. */
  changed(p: SimPoint, cause: number): void;
  closed(c: StationConnection): void;
}

/** One TCP connection of the station. */
export class StationConnection {
  readonly link: ApciLink;
  /** Selected IOAs (SbO) with their command type and expiry. */
  readonly #selected = new Map<number, { typeId: number; until: number }>();

  constructor(
    readonly socket: Socket,
    private readonly s: StationShared,
  ) {
    this.link = new ApciLink('controlled', s.link, s.clock, (b) => this.#write(b), {
      asdu: (b) => this.#onAsdu(b),
      closed: () => {
        socket.destroy();
        s.closed(this);
      },
    });
    socket.on('data', (c: Buffer) => this.link.receive(c));
    socket.on('error', () => this.link.close());
    socket.on('close', () => this.link.close());
  }

  /** Frames held back by the response delay, oldest first, with when each is due (monotonic ms). */
  readonly #delayed: { due: number; bytes: Uint8Array }[] = [];
  #pumpTimer: unknown;

  /**
   * Writes a frame, after the response delay when one is set. The link's sequence numbers and
   * timers move at once, as in a station whose answers are slow on the wire. Frames leave in
   * order: one queue and one timer, so a frame never overtakes one held back before it.
   */
  #write(b: Uint8Array): void {
    const delay = this.s.delayMs();
    if (delay <= 0 && this.#delayed.length === 0) {
      this.socket.write(b);
      return;
    }
    this.#delayed.push({ due: this.s.clock.monotonic() + Math.max(0, delay), bytes: b });
    if (this.#pumpTimer === undefined) this.#pump();
  }

  #pump(): void {
    this.#pumpTimer = undefined;
    const now = this.s.clock.monotonic();
    while (this.#delayed.length > 0 && this.#delayed[0]!.due <= now) {
      const { bytes } = this.#delayed.shift()!;
      if (!this.socket.destroyed) this.socket.write(bytes);
    }
    const head = this.#delayed[0];
    if (head !== undefined) this.#pumpTimer = this.s.clock.setTimeout(() => this.#pump(), Math.max(1, head.due - now));
  }

  get started(): boolean {
    return this.link.state === 'started';
  }

  /** Sends objects of one type, packed into as few ASDUs as fit (SQ=1 runs when asked). */
  sendObjects(typeId: number, cause: number, objects: readonly InfoObject[], sequence = false): void {
    if (objects.length === 0) return;
    if (sequence) {
      // Runs of consecutive addresses go out with SQ=1, the rest with SQ=0.
      const max = maxObjects(typeId, this.s.params, true);
      let run: InfoObject[] = [];
      const single: InfoObject[] = [];
      const flush = () => {
        if (run.length > 1) this.#send({ ...this.#head(typeId, cause), sequence: true, objects: run });
        else single.push(...run);
        run = [];
      };
      for (const o of objects) {
        const last = run[run.length - 1];
        if (last !== undefined && (o.ioa !== last.ioa + 1 || run.length >= max)) flush();
        run.push(o);
      }
      flush();
      this.sendObjects(typeId, cause, single, false);
      return;
    }
    const max = maxObjects(typeId, this.s.params, false);
    for (let i = 0; i < objects.length; i += max) this.#send({ ...this.#head(typeId, cause), objects: objects.slice(i, i + max) });
  }

  #head(typeId: number, cause: number, negative = false): Omit<Asdu, 'objects'> {
    return { typeId, sequence: false, cause, negative, test: false, originator: 0, commonAddress: this.s.commonAddress };
  }

  #send(a: Asdu): void {
    this.link.send(encodeAsdu(a, this.s.params));
  }

  /** Mirrors an activation with another cause (ACTCON, ACTTERM, or a negative 44..47). */
  #mirror(a: Asdu, cause: number, negative = false): void {
    this.#send({ ...a, cause, negative, test: a.test });
  }

  #onAsdu(bytes: Uint8Array): void {
    const r = decodeAsdu(bytes, this.s.params);
    if (r.kind !== 'ok') {
      // Unknown type: mirror the raw ASDU with cause 44 and P/N (IEC 60870-5-101 §7.2.3).
      const h = peekHeader(bytes, this.s.params);
      if (h !== undefined && r.kind === 'error' && r.error.code === 'UnknownType') {
        const copy = bytes.slice();
        copy[2] = Cot.UNKNOWN_TYPE_ID | 0x40;
        this.link.send(copy);
      }
      return;
    }
    const a = r.value;
    if (a.commonAddress !== this.s.commonAddress && a.commonAddress !== 0xffff) {
      this.#mirror(a, Cot.UNKNOWN_CA, true);
      return;
    }
    switch (a.typeId) {
      case TypeId.C_IC_NA_1:
        return this.#interrogation(a);
      case TypeId.C_CI_NA_1:
        return this.#counterInterrogation(a);
      case TypeId.C_CS_NA_1: {
        const t = a.objects[0]!.time;
        const ms = t === undefined ? undefined : cp56ToEpoch(t);
        if (a.cause !== Cot.ACTIVATION || ms === undefined) return this.#mirror(a, a.cause === Cot.ACTIVATION ? Cot.ACTIVATION_CON : Cot.UNKNOWN_COT, true);
        this.s.clockSyncs.push(ms);
        return this.#mirror(a, Cot.ACTIVATION_CON);
      }
      case TypeId.C_TS_TA_1:
        return this.#mirror(a, a.cause === Cot.ACTIVATION ? Cot.ACTIVATION_CON : Cot.UNKNOWN_COT, a.cause !== Cot.ACTIVATION);
      default:
        if (COMMAND_TYPES.has(a.typeId)) return this.#command(a);
        this.#mirror(a, Cot.UNKNOWN_TYPE_ID, true);
    }
  }

  #interrogation(a: Asdu): void {
    const el = a.objects[0]!.element;
    if (a.cause !== Cot.ACTIVATION) return this.#mirror(a, Cot.UNKNOWN_COT, true);
    if (el.kind !== 'interrogation' || el.qoi !== QOI_STATION) return this.#mirror(a, Cot.ACTIVATION_CON, true);
    this.#mirror(a, Cot.ACTIVATION_CON);
    // Answers use the untagged types and leave out integrated totals (IEC 60870-5-101 §7.4.5).
    const byType = new Map<number, InfoObject[]>();
    for (const p of [...this.s.points.values()].sort((x, y) => x.ioa - y.ioa)) {
      if (p.family === 'counter') continue;
      const t = UNTAGGED[p.family];
      const list = byType.get(t) ?? [];
      list.push({ ioa: p.ioa, element: elementOf(p) });
      byType.set(t, list);
    }
    for (const [t, objs] of byType) this.sendObjects(t, Cot.INTERROGATED_BY_STATION, objs, this.s.sequenceGi);
    this.#mirror(a, Cot.ACTIVATION_TERM);
  }

  #counterInterrogation(a: Asdu): void {
    const el = a.objects[0]!.element;
    if (a.cause !== Cot.ACTIVATION || el.kind !== 'counterInterrogation') return this.#mirror(a, Cot.UNKNOWN_COT, true);
    this.#mirror(a, Cot.ACTIVATION_CON);
    const objs: InfoObject[] = [];
    for (const p of this.s.points.values()) {
      if (p.family !== 'counter') continue;
      p.counterSeq = (p.counterSeq + 1) & 0x1f;
      objs.push({ ioa: p.ioa, element: elementOf(p) });
      if (el.frz === 2 || el.frz === 3) p.value = 0;
    }
    this.sendObjects(TypeId.M_IT_NA_1, Cot.REQUESTED_BY_GENERAL_COUNTER, objs);
    this.#mirror(a, Cot.ACTIVATION_TERM);
  }

  #command(a: Asdu): void {
    const obj = a.objects[0]!;
    const el = obj.element;
    const select = 'select' in el ? el.select : false;
    const log = (accepted: boolean, value?: SimValue) => this.s.commands.push({ typeId: a.typeId, ioa: obj.ioa, cause: a.cause, select, value, accepted });
    if (a.cause === Cot.DEACTIVATION) {
      this.#selected.delete(obj.ioa);
      log(true);
      return this.#mirror(a, Cot.DEACTIVATION_CON);
    }
    if (a.cause !== Cot.ACTIVATION) {
      log(false);
      return this.#mirror(a, Cot.UNKNOWN_COT, true);
    }
    const p = this.s.points.get(obj.ioa);
    if (p === undefined || !p.commandTypes.has(a.typeId)) {
      log(false);
      return this.#mirror(a, Cot.UNKNOWN_IOA, true);
    }
    const value = commandValue(p, el);
    if (typeof value === 'string' || this.s.rejectIoas.has(obj.ioa)) {
      log(false);
      return this.#mirror(a, Cot.ACTIVATION_CON, true);
    }
    const now = this.s.clock.monotonic();
    if (select) {
      this.#selected.set(obj.ioa, { typeId: a.typeId, until: now + this.s.selectTimeout });
      log(true, value);
      return this.#mirror(a, Cot.ACTIVATION_CON);
    }
    const sel = this.#selected.get(obj.ioa);
    this.#selected.delete(obj.ioa);
    if (p.selectRequired && (sel === undefined || sel.typeId !== a.typeId || sel.until < now)) {
      log(false, value);
      return this.#mirror(a, Cot.ACTIVATION_CON, true);
    }
    log(true, value);
    this.#mirror(a, Cot.ACTIVATION_CON);
    p.value = value;
    this.s.changed(p, Cot.RETURN_REMOTE);
    this.#mirror(a, Cot.ACTIVATION_TERM);
  }
}
