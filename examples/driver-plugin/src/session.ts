/**
 * One TCP connection to a KV/1 instrument. Requests are pipelined and answered in order, so a
 * request that times out leaves the stream out of step: the session then reports itself lost
 * (the gateway reconnects it) instead of guessing which answer belongs to whom.
 *
 * The socket and the splitting of the byte stream into lines come from the SDK (`openTcp`,
 * `FrameSplitter`); this file only matches answers to requests.
 */
import { DriverError, FrameSplitter, openTcp } from 'fieldgate/sdk';
import type { ByteStream, ConnectOptions, DeviceRef, Logger, Point, PointError, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from 'fieldgate/sdk';
import type { KvAddress, KvConnection } from './address.ts';
import { MAX_LINE, decodeReply, encodeRequest, formatValue, parseValue } from './codec.ts';
import type { Reply, Request } from './codec.ts';

type KPoint = Point<KvAddress>;
type Device = DeviceRef<KvConnection>;

interface Pending {
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: DriverError) => void;
  readonly timer: NodeJS.Timeout;
}

interface Watch {
  readonly device: string;
  readonly point: KPoint;
  readonly sink: SubscriptionSink;
}

/** ERR reasons as driver error codes. */
function errCode(reason: string): PointError['code'] {
  if (reason.startsWith('unknown')) return 'BadAddress';
  if (reason.startsWith('read-only')) return 'Unsupported';
  if (reason.startsWith('bad-value')) return 'BadValue';
  return 'Exception';
}

export class KvSession implements Session<KvConnection, KvAddress> {
  private readonly pending: Pending[] = [];
  // decodeReply skips an over-long line itself; the bound is a second guard.
  private readonly lines = new FrameSplitter(decodeReply, { maxBuffer: 4 * MAX_LINE });
  private closed = false;
  private readonly watches = new Map<string, Set<Watch>>();

  private constructor(
    private readonly stream: ByteStream,
    private readonly options: ConnectOptions,
    private readonly log: Logger,
  ) {
    stream.onData((d) => this.onData(d));
    stream.onClose((e) => this.fail({ code: e.code, message: e.message }));
  }

  /**
   * Connects within the connection's timeout (or until `options.signal` aborts): `Offline` when
   * refused or aborted, `Timeout` past the deadline.
   */
  static async open(c: KvConnection, options: ConnectOptions, log: Logger): Promise<KvSession> {
    // No signal to openTcp once open: the gateway closes the session itself (close()).
    const connecting = new AbortController();
    const onAbort = (): void => connecting.abort();
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const stream = await openTcp({ host: c.address, port: c.port, timeoutMs: c.timeout, signal: connecting.signal, noDelay: true });
      return new KvSession(stream, options, log);
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  }

  async read(device: Device, points: readonly KPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    // One write (one segment) for the whole batch rather than one per GET line.
    const answers = await this.requests(
      points.map((p): Request => ({ op: 'GET', key: p.address.key })),
      device.connection.timeout,
      signal,
    );
    const ts = Date.now();
    return points.map((p, i) => this.toResult(p, answers[i]!, ts));
  }

  async write(device: Device, writes: readonly PointWrite<KvAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const answers = await this.requests(
      writes.map((w): Request => ({ op: 'SET', key: w.point.address.key, value: formatValue(w.value) })),
      device.connection.timeout,
      signal,
    );
    return writes.map((w, i): WriteResult => {
      const a = answers[i]!;
      if (a.type === 'ERR') return { id: w.point.id, ok: false, error: { code: errCode(a.reason), message: `${a.key}: ${a.reason}` } };
      return { id: w.point.id, ok: true };
    });
  }

  async subscribe(device: Device, points: readonly KPoint[], sink: SubscriptionSink): Promise<Subscription> {
    const mine: Watch[] = points.map((point) => ({ device: device.name, point, sink }));
    for (const w of mine) {
      let set = this.watches.get(w.point.address.key);
      if (set === undefined) this.watches.set(w.point.address.key, (set = new Set()));
      set.add(w);
    }
    const keys = [...new Set(points.map((p) => p.address.key))];
    const first = await this.requests(keys.map((key): Request => ({ op: 'SUB', key })), device.connection.timeout);
    const ts = Date.now();
    // The SUB answer carries the current value: deliver it, so a subscriber starts complete.
    sink.values(device.name, points.map((p) => this.toResult(p, first[keys.indexOf(p.address.key)]!, ts)));
    return {
      close: async () => {
        for (const w of mine) this.watches.get(w.point.address.key)?.delete(w);
        const idle = keys.filter((k) => (this.watches.get(k)?.size ?? 0) === 0);
        if (!this.closed && idle.length > 0) await this.requests(idle.map((key): Request => ({ op: 'UNSUB', key })), device.connection.timeout).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new DriverError('Offline', 'session closed'));
    this.watches.clear();
    await this.stream.close();
  }

  private toResult(p: KPoint, a: Reply, ts: number): ReadResult {
    if (a.type === 'ERR') return { id: p.id, quality: 'bad', error: { code: errCode(a.reason), message: `${a.key}: ${a.reason}` }, ts };
    const v = parseValue(a.value, p.type);
    return v.ok ? { id: p.id, quality: 'good', value: v.value, ts } : { id: p.id, quality: 'bad', error: { code: 'BadValue', message: v.error }, ts };
  }

  /** Sends the requests in one write; resolves with their answers, in order. */
  private requests(rs: readonly Request[], timeout: number, signal?: AbortSignal): Promise<Reply[]> {
    if (this.closed) return Promise.reject(new DriverError('Offline', 'session closed'));
    if (signal?.aborted) return Promise.reject(new DriverError('Timeout', 'aborted'));
    // Encode first: a bad key throws before anything is queued or sent.
    const bytes = rs.map((r) => encodeRequest(r));
    const answers = rs.map(
      (r) =>
        new Promise<Reply>((resolve, reject) => {
          const timer = setTimeout(() => {
            // Out of step from here on: give the link back to the gateway.
            this.fail({ code: 'Timeout', message: `no answer to ${r.op} ${r.key} within ${timeout} ms` });
          }, timeout);
          this.pending.push({ resolve, reject, timer });
        }),
    );
    this.stream.write(bytes);
    return Promise.all(answers);
  }

  private onData(d: Buffer): void {
    for (const r of this.lines.push(d)) {
      if (this.closed) return; // failed on an earlier line of this chunk
      if (r.kind === 'error') {
        this.log.warn({ error: r.error }, 'kv: bad line');
        if (r.fatal) this.fail({ code: 'Protocol', message: `instrument stream out of step: ${r.error}` });
        continue;
      }
      if (r.value.type === 'EVT') {
        this.event(r.value.key, r.value.value);
        continue;
      }
      const p = this.pending.shift();
      if (p === undefined) {
        this.log.warn({ key: r.value.key }, 'kv: answer to no request');
        continue;
      }
      clearTimeout(p.timer);
      p.resolve(r.value);
    }
  }

  private event(key: string, text: string): void {
    const ts = Date.now();
    const byDevice = new Map<string, { sink: SubscriptionSink; results: ReadResult[] }>();
    for (const w of this.watches.get(key) ?? []) {
      let e = byDevice.get(w.device);
      if (e === undefined) byDevice.set(w.device, (e = { sink: w.sink, results: [] }));
      e.results.push(this.toResult(w.point, { type: 'OK', key, value: text }, ts));
    }
    for (const [device, e] of byDevice) e.sink.values(device, e.results);
  }

  /** The link broke (or fell out of step): fail what waits and tell the gateway once. */
  private fail(error: PointError): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new DriverError(error.code, error.message));
    void this.stream.close();
    this.options.onLost(error);
  }

  private rejectAll(e: DriverError): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }
}
