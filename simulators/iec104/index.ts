/**
 * A simulated IEC 60870-5-104 controlled station for tests, the demo and the bench, built on the
 * driver's codec and link procedure. It serves a point table, answers interrogation, sends value
 * changes spontaneously (time-tagged when the point's type is), executes commands with SbO or
 * direct execute, and injects faults on demand (a response delay, silence, dropped connections,
 * malformed frames, a broken sequence number, withheld acknowledgements, refused commands).
 * Points with a generator follow it until a command or `setValue` sets them. For a point table
 * from the gateway's configuration see `pointsFromDevice` (device.ts) and `startIec104Stations` (cli.ts).
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { encodeAsdu } from '../../src/drivers/iec104/codec/asdu.ts';
import type { AsduParams, InfoObject } from '../../src/drivers/iec104/codec/asdu.ts';
import type { QualityBits } from '../../src/drivers/iec104/codec/elements.ts';
import { cp56FromEpoch } from '../../src/drivers/iec104/codec/time.ts';
import { Cot } from '../../src/drivers/iec104/codec/types.ts';
import { DEFAULT_LINK_PARAMS } from '../../src/drivers/iec104/link.ts';
import type { LinkClock, LinkParams, LinkStats } from '../../src/drivers/iec104/link.ts';
import { elementOf, makePoint } from './points.ts';
import type { SimPoint, SimPointSpec, SimValue } from './points.ts';
import { StationConnection } from './station.ts';
import type { ReceivedCommand, StationShared } from './station.ts';

export type { SimPointSpec, SimValue } from './points.ts';
export type { ReceivedCommand } from './station.ts';

/** Options of {@link startIec104Simulator}. */
export interface Iec104SimulatorOptions {
  /** Loopback only; default 127.0.0.1. */
  readonly host?: string;
  /** 0 (default) = a free port. */
  readonly port?: number;
  readonly commonAddress?: number;
  readonly points: readonly SimPointSpec[];
  /** Window and timer parameters (standard defaults). */
  readonly link?: Partial<LinkParams>;
  /** Field sizes (IEC 104: COT 2, CA 2, IOA 3). */
  readonly params?: Partial<AsduParams>;
  /** Answer interrogation with SQ=1 ASDUs for runs of consecutive IOAs. */
  readonly sequenceGi?: boolean;
  /** How long a selection stays valid, ms (default 10 s). */
  readonly selectTimeout?: number;
  /** Time source (default: the real clock). */
  readonly clock?: LinkClock & { now(): number };
  /** Initial response delay in ms (the `delay` fault; default 0). */
  readonly delayMs?: number;
}

/** Faults a test can inject. */
export interface SimulatorFaults {
  /** Every connection stops sending and answering (a hung device); new ones too, until `resume`. */
  stopAnswering(): void;
  resume(): void;
  /** Closes every connection. */
  dropConnections(): void;
  /** `framing`: bytes no APDU starts with (the stream breaks); `asdu`: an in-sequence I-frame whose ASDU is truncated. */
  sendMalformed(kind: 'framing' | 'asdu'): void;
  /** The next I-frame of every connection skips a send sequence number. */
  breakSequence(): void;
  /** Stop (or resume) acknowledging received I-frames. */
  suppressAcks(on: boolean): void;
  /** Commands on these IOAs get a negative ACTCON. */
  rejectCommands(ioa: number, on?: boolean): void;
  /**
   * Every frame the station sends (answers, confirmations, spontaneous data, U- and S-frames)
   * goes out `ms` later; 0 ends the fault. Frames keep their order.
   */
  delay(ms: number): void;
}

/** A running simulator. */
export interface Iec104Simulator {
  readonly host: string;
  readonly port: number;
  /**
   * Sets a point's value (and quality); sends it spontaneously (COT 3) unless `spontaneous: false`.
   * The point stops following its generator (as after a command).
   */
  setValue(ioa: number, value: SimValue, opts?: { quality?: Partial<QualityBits>; spontaneous?: boolean }): void;
  getValue(ioa: number): SimValue | undefined;
  /** Commands received so far (selects, executes, refusals). */
  readonly commands: readonly ReceivedCommand[];
  /** Times (epoch ms) received in clock synchronization commands. */
  readonly clockSyncs: readonly number[];
  /** Open connections, and how many have data transfer started. */
  connections(): { open: number; started: number };
  /** Link counters summed over all connections so far. */
  stats(): LinkStats;
  readonly faults: SimulatorFaults;
  stop(): Promise<void>;
}

const realClock: LinkClock & { now(): number } = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Starts a simulated controlled station on 127.0.0.1 (or the given loopback host). */
export async function startIec104Simulator(opts: Iec104SimulatorOptions): Promise<Iec104Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const clock = opts.clock ?? realClock;
  const params: AsduParams = { cotSize: 2, caSize: 2, ioaSize: 3, ...opts.params };
  const points = new Map<number, SimPoint>();
  for (const spec of opts.points) points.set(spec.ioa, makePoint(spec));
  const conns = new Set<StationConnection>();
  const sockets = new Set<Socket>();
  const totals: LinkStats = { iSent: 0, iReceived: 0, sSent: 0, sReceived: 0, uSent: 0, uReceived: 0 };
  let frozen = false;
  let acksSuppressed = false;
  let delayMs = opts.delayMs ?? 0;

  // Spontaneous changes wait here for one tick so that many become few ASDUs.
  const queued = new Map<number, InfoObject[]>();
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    for (const [typeId, objs] of queued) for (const c of conns) if (c.started) c.sendObjects(typeId, Cot.SPONTANEOUS, objs);
    queued.clear();
  };
  const objectOf = (p: SimPoint): InfoObject => (p.timeTagged ? { ioa: p.ioa, element: elementOf(p), time: cp56FromEpoch(clock.now()) } : { ioa: p.ioa, element: elementOf(p) });
  const spontaneous = (p: SimPoint) => {
    if (conns.size === 0) return;
    const list = queued.get(p.typeId) ?? [];
    list.push(objectOf(p));
    queued.set(p.typeId, list);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const shared: StationShared = {
    commonAddress: opts.commonAddress ?? 1,
    params,
    link: { ...DEFAULT_LINK_PARAMS, ...opts.link },
    clock,
    points,
    sequenceGi: opts.sequenceGi ?? false,
    selectTimeout: opts.selectTimeout ?? 10_000,
    rejectIoas: new Set(),
    commands: [],
    clockSyncs: [],
    delayMs: () => delayMs,
    changed: (p, cause) => {
      p.held = true;
      // Return information of a command goes out at once, before the ACTTERM that follows it.
      const obj = objectOf(p);
      for (const c of conns) if (c.started) c.sendObjects(p.typeId, cause, [obj]);
    },
    closed: (c) => {
      for (const k of Object.keys(totals) as (keyof LinkStats)[]) totals[k] += c.link.stats[k];
      conns.delete(c);
    },
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const c = new StationConnection(socket, shared);
    c.link.suppressAcks = acksSuppressed;
    if (frozen) c.link.freeze();
    conns.add(c);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  // Generators: one timer per distinct period.
  const timers: ReturnType<typeof setInterval>[] = [];
  const byPeriod = new Map<number, SimPoint[]>();
  for (const p of points.values()) {
    if (p.spec.generator === undefined) continue;
    const period = p.spec.period ?? 1000;
    byPeriod.set(period, [...(byPeriod.get(period) ?? []), p]);
  }
  for (const [period, list] of byPeriod) {
    timers.push(
      setInterval(() => {
        const now = clock.now();
        for (const p of list) {
          if (p.held) continue;
          const next = p.spec.generator!(now, p.value);
          if (next !== p.value) {
            p.value = next;
            spontaneous(p);
          }
        }
      }, period),
    );
  }

  const faults: SimulatorFaults = {
    stopAnswering: () => {
      frozen = true;
      for (const c of conns) c.link.freeze();
    },
    resume: () => {
      frozen = false;
    },
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    sendMalformed: (kind) => {
      for (const c of conns) {
        if (kind === 'framing') c.socket.write(Uint8Array.of(0x68, 0x02, 0x00, 0x00));
        else {
          // M_ME_NC_1, one object, but the float and QDS are missing.
          const good = encodeAsdu({ typeId: 13, sequence: false, cause: Cot.SPONTANEOUS, negative: false, test: false, originator: 0, commonAddress: shared.commonAddress, objects: [{ ioa: 1, element: { kind: 'float', value: 1, quality: { invalid: false, notTopical: false, substituted: false, blocked: false, overflow: false } } }] }, params);
          c.link.send(good.subarray(0, good.length - 3));
        }
      }
    },
    breakSequence: () => {
      for (const c of conns) c.link.breakSendSequence();
    },
    suppressAcks: (on) => {
      acksSuppressed = on;
      for (const c of conns) c.link.suppressAcks = on;
    },
    rejectCommands: (ioa, on = true) => {
      if (on) shared.rejectIoas.add(ioa);
      else shared.rejectIoas.delete(ioa);
    },
    delay: (ms) => {
      delayMs = Math.max(0, ms);
    },
  };

  return {
    host,
    port,
    setValue(ioa, value, o) {
      const p = points.get(ioa);
      if (p === undefined) throw new RangeError(`no point at IOA ${ioa}`);
      p.value = value;
      p.held = true;
      if (o?.quality !== undefined) p.quality = { ...p.quality, ...o.quality };
      if (o?.spontaneous !== false) spontaneous(p);
    },
    getValue: (ioa) => points.get(ioa)?.value,
    commands: shared.commands,
    clockSyncs: shared.clockSyncs,
    connections: () => ({ open: conns.size, started: [...conns].filter((c) => c.started).length }),
    stats: () => {
      const s = { ...totals };
      for (const c of conns) for (const k of Object.keys(s) as (keyof LinkStats)[]) s[k] += c.link.stats[k];
      return s;
    },
    faults,
    async stop() {
      for (const t of timers) clearInterval(t);
      for (const c of [...conns]) c.link.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
