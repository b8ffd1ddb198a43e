/**
 * One TCP connection to a KV/1 instrument. Requests are pipelined and answered in order, so a
 * request that times out leaves the stream out of step: the session then reports itself lost
 * (the gateway reconnects it) instead of guessing which answer belongs to whom.
 */
import net from 'node:net';
import { DriverError } from 'fieldgate/sdk';
import type { ConnectOptions, DeviceRef, Logger, Point, PointError, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from 'fieldgate/sdk';
import type { KvAddress, KvConnection } from './address.ts';
import { decodeReply, encodeRequest, formatValue, parseValue } from './codec.ts';
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
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly watches = new Map<string, Set<Watch>>();

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectOptions,
    private readonly log: Logger,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.fail({ code: 'Offline', message: 'connection closed by the instrument' }));
    socket.on('error', (e) => this.fail({ code: 'Offline', message: e.message }));
  }

  /** Connects within the connection's timeout (or until `options.signal` aborts). */
  static open(c: KvConnection, options: ConnectOptions, log: Logger): Promise<KvSession> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: c.address, port: c.port });
      socket.setNoDelay(true);
      const done = (e?: DriverError): void => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (e) {
          socket.destroy();
          reject(e);
        } else resolve(new KvSession(socket, options, log));
      };
      const onError = (e: Error): void => done(new DriverError('Offline', `cannot connect to ${c.address}:${c.port}: ${e.message}`));
      const onAbort = (): void => done(new DriverError('Offline', 'connect aborted'));
      const timer = setTimeout(() => done(new DriverError('Timeout', `no connection to ${c.address}:${c.port} within ${c.timeout} ms`)), c.timeout);
      socket.once('error', onError);
      socket.once('connect', () => done());
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async read(device: Device, points: readonly KPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    // One segment for the whole batch rather than one per GET line.
    this.socket.cork();
    const pending = points.map((p) => this.request({ op: 'GET', key: p.address.key }, device.connection.timeout, signal));
    this.socket.uncork();
    const answers = await Promise.all(pending);
    const ts = Date.now();
    return points.map((p, i) => this.toResult(p, answers[i]!, ts));
  }

  async write(device: Device, writes: readonly PointWrite<KvAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const answers = await Promise.all(
      writes.map((w) => this.request({ op: 'SET', key: w.point.address.key, value: formatValue(w.value) }, device.connection.timeout, signal)),
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
    const first = await Promise.all(keys.map((key) => this.request({ op: 'SUB', key }, device.connection.timeout)));
    const ts = Date.now();
    // The SUB answer carries the current value: deliver it, so a subscriber starts complete.
    sink.values(device.name, points.map((p) => this.toResult(p, first[keys.indexOf(p.address.key)]!, ts)));
    return {
      close: async () => {
        for (const w of mine) this.watches.get(w.point.address.key)?.delete(w);
        const idle = keys.filter((k) => (this.watches.get(k)?.size ?? 0) === 0);
        if (!this.closed) await Promise.all(idle.map((key) => this.request({ op: 'UNSUB', key }, device.connection.timeout).catch(() => undefined)));
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new DriverError('Offline', 'session closed'));
    this.watches.clear();
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private toResult(p: KPoint, a: Reply, ts: number): ReadResult {
    if (a.type === 'ERR') return { id: p.id, quality: 'bad', error: { code: errCode(a.reason), message: `${a.key}: ${a.reason}` }, ts };
    const v = parseValue(a.value, p.type);
    return v.ok ? { id: p.id, quality: 'good', value: v.value, ts } : { id: p.id, quality: 'bad', error: { code: 'BadValue', message: v.error }, ts };
  }

  private request(r: Request, timeout: number, signal?: AbortSignal): Promise<Reply> {
    if (this.closed) return Promise.reject(new DriverError('Offline', 'session closed'));
    if (signal?.aborted) return Promise.reject(new DriverError('Timeout', 'aborted'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // Out of step from here on: give the link back to the gateway.
        this.fail({ code: 'Timeout', message: `no answer to ${r.op} ${r.key} within ${timeout} ms` });
      }, timeout);
      this.pending.push({ resolve, reject, timer });
      this.socket.write(encodeRequest(r));
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const r = decodeReply(this.buf);
      if (r.kind === 'incomplete') return;
      this.buf = this.buf.subarray(r.consumed);
      if (r.kind === 'error') {
        this.log.warn({ error: r.error }, 'kv: bad line');
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
    this.socket.destroy();
    this.options.onLost(error);
  }

  private rejectAll(e: DriverError): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }
}
