/**
 * Runs one isolated plugin driver in a worker thread and owns its life: starts it on demand,
 * matches requests to answers, times out calls that never return, notices a worker that exits,
 * throws at top level, runs out of heap (resourceLimits) or stops answering pings, and then
 * terminates it, fails its pending calls with `Offline`, reports every session it held as lost
 * (so the gateway's Link goes to backoff and its devices offline) and starts a fresh worker,
 * with exponential backoff, when the Link reconnects.
 */
import { Worker } from 'node:worker_threads';
import { DriverError } from '../../drivers/sdk/index.ts';
import type { DriverMetrics, Logger, PointError, SubscriptionSink } from '../../drivers/sdk/index.ts';
import type { HostRequest, WorkerInit, WorkerMessage } from './protocol.ts';

/** Timing and limits of an isolated plugin; every field has a default. */
export interface IsolationOptions {
  /** Heap limit of the worker (V8 old generation), MB. Default 256. */
  readonly maxMemoryMb?: number;
  /** How often the host pings the worker, ms. Default 1000. */
  readonly pingInterval?: number;
  /** A ping unanswered this long means the worker's event loop is stuck: restart. Default 5000. */
  readonly hangTimeout?: number;
  /** Calls in a row that time out with no answer between them before the worker is restarted. Default 3. */
  readonly maxHungCalls?: number;
  /** First restart delay, ms; doubles per crash in a row up to `restartMax`. Default 250. */
  readonly restartBase?: number;
  readonly restartMax?: number;
  /** A worker that ran this long before crashing counts as healthy: the backoff starts over. Default 10000. */
  readonly stableAfter?: number;
  /** Time for the worker to load the plugin and create the driver, ms. Default 30000. */
  readonly startTimeout?: number;
}

/** Counters of one host, for metrics and tests. */
export interface WorkerStats {
  starts: number;
  crashes: number;
  /** Restarts caused by hung calls or a stuck event loop. */
  hangs: number;
  /** Why the last worker died. */
  lastCrash: PointError | undefined;
}

type HostState = 'idle' | 'starting' | 'running' | 'closed';
type Req = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  /** Only answers to device calls prove the plugin is not hung (pings and closes do not). */
  readonly device: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  done(): void;
}

const BOOT = new URL('./worker/boot.mjs', import.meta.url).href;
const MAIN = new URL('./worker/entry.ts', import.meta.url).href;
/** tsx's ESM API, registered in the worker so that TypeScript plugins (and our entry) load there. */
function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined; // without tsx only JavaScript plugins (and a built entry) can load
  }
}

/** One worker (restarted as needed) for one driver instance of an isolated plugin. */
export class WorkerHost {
  readonly stats: WorkerStats = { starts: 0, crashes: 0, hangs: 0, lastCrash: undefined };
  private stateValue: HostState = 'idle';
  private worker: Worker | undefined;
  private startedAt = 0;
  private lastCrashAt = 0;
  private crashesInRow = 0;
  private starting: Promise<void> | undefined;
  private nextId = 1;
  private hung = 0;
  private ping: NodeJS.Timeout | undefined;
  private generationValue = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly lost = new Map<number, (e: PointError) => void>();
  private readonly sinks = new Map<number, { device: string; sink: SubscriptionSink }>();
  private readonly o: Required<IsolationOptions>;

  constructor(
    private readonly init: WorkerInit,
    private readonly log: Logger,
    private readonly metrics: DriverMetrics,
    options: IsolationOptions = {},
  ) {
    this.o = {
      maxMemoryMb: options.maxMemoryMb ?? 256,
      pingInterval: options.pingInterval ?? 1000,
      hangTimeout: options.hangTimeout ?? 5000,
      maxHungCalls: options.maxHungCalls ?? 3,
      restartBase: options.restartBase ?? 250,
      restartMax: options.restartMax ?? 30_000,
      stableAfter: options.stableAfter ?? 10_000,
      startTimeout: options.startTimeout ?? 30_000,
    };
  }

  get state(): HostState {
    return this.stateValue;
  }

  /** Changes each time a new worker starts; session and subscription ids belong to one generation. */
  get generation(): number {
    return this.generationValue;
  }

  /** The worker's thread id while running (tests use it to see a restart). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Resolves once a worker is running, starting one (after the restart delay) when needed. */
  async ensure(signal?: AbortSignal): Promise<void> {
    if (this.stateValue === 'closed') throw new DriverError('Offline', 'plugin host closed');
    if (this.stateValue === 'running') return;
    this.starting ??= this.start(signal).finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * Sends a request and resolves with the worker's answer. Rejects with `Timeout` when `signal`
   * aborts or `deadline` ms pass first (and counts the call as hung), with `Offline` when the
   * worker dies meanwhile, and with the plugin's own coded error otherwise.
   */
  request<T>(req: Req, opts: { signal?: AbortSignal; deadline?: number } = {}): Promise<T> {
    const w = this.worker;
    if (this.stateValue !== 'running' || w === undefined) return Promise.reject(new DriverError('Offline', `plugin worker is ${this.stateValue}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => expire('the call was aborted');
      const done = (): void => {
        this.pending.delete(id);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const expire = (why: string): void => {
        if (!this.pending.has(id)) return;
        done();
        w.postMessage({ t: 'abort', call: id });
        reject(new DriverError('Timeout', `isolated plugin did not answer ${req.t}: ${why}`));
        this.countHung(w);
      };
      this.pending.set(id, { device: req.t === 'read' || req.t === 'write' || req.t === 'subscribe', resolve: resolve as (v: unknown) => void, reject, done });
      if (opts.deadline !== undefined) timer = setTimeout(() => expire(`no answer within ${opts.deadline} ms`), opts.deadline);
      if (opts.signal?.aborted) return expire('the call was aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      w.postMessage({ ...req, id });
    });
  }

  /** Calls `fn` when the worker reports `session` lost or dies while holding it. */
  onLost(session: number, fn: (e: PointError) => void): void {
    this.lost.set(session, fn);
  }

  offLost(session: number): void {
    this.lost.delete(session);
  }

  /** Routes pushed values of subscription `sub` to `sink`. */
  onPush(sub: number, device: string, sink: SubscriptionSink): void {
    this.sinks.set(sub, { device, sink });
  }

  offPush(sub: number): void {
    this.sinks.delete(sub);
  }

  /** Asks the plugin to close its driver (bounded), then ends the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const w = this.stateValue === 'running' ? this.worker : undefined;
    if (w !== undefined) await this.request({ t: 'closeDriver' }, { deadline: 2000 }).catch(() => undefined);
    this.stateValue = 'closed';
    this.stopPing();
    this.failAll({ code: 'Offline', message: 'plugin host closed' }, false);
    const still = this.worker;
    this.worker = undefined;
    await still?.terminate();
  }

  private async start(signal: AbortSignal | undefined): Promise<void> {
    const wait = this.crashesInRow === 0 ? 0 : Math.min(this.o.restartBase * 2 ** (this.crashesInRow - 1), this.o.restartMax) - (Date.now() - this.lastCrashAt);
    if (wait > 0) await sleep(wait, signal);
    if (this.stateValue === 'closed') throw new DriverError('Offline', 'plugin host closed');
    this.stateValue = 'starting';
    const w = new Worker(new URL(BOOT), {
      workerData: { boot: { tsxApi: tsxApi(), main: MAIN }, init: this.init },
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxMemoryMb },
      name: `fieldgate-plugin:${String(this.init.bindings.driver ?? '')}`,
    });
    this.worker = w;
    this.generationValue++;
    this.stats.starts++;
    let exitReason: PointError | undefined;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail({ code: 'Timeout', message: `plugin did not start within ${this.o.startTimeout} ms` }), this.o.startTimeout);
      const fail = (e: PointError): void => {
        clearTimeout(timer);
        reject(new DriverError(e.code === 'Config' ? 'Config' : 'Offline', `plugin failed to start: ${e.message}`));
        void w.terminate();
      };
      w.on('message', (m: WorkerMessage) => {
        if (this.worker !== w) return;
        if (this.stateValue === 'starting') {
          if (m.t === 'ready') {
            clearTimeout(timer);
            this.stateValue = 'running';
            this.startedAt = Date.now();
            this.hung = 0;
            this.startPing(w);
            resolve();
          } else if (m.t === 'fatal') fail(m.error);
          return;
        }
        this.onMessage(m);
      });
      w.on('error', (e: Error & { code?: string }) => {
        // Uncaught exception or ERR_WORKER_OUT_OF_MEMORY; 'exit' follows.
        exitReason = { code: 'Offline', message: `plugin worker failed: ${e.code ? `${e.code}: ` : ''}${e.message}` };
      });
      w.on('exit', (code) => {
        if (this.worker !== w) return;
        const why = exitReason ?? { code: 'Offline' as const, message: `plugin worker exited with code ${code}` };
        if (this.stateValue === 'starting') {
          this.noteCrash(why);
          fail(why);
          this.worker = undefined;
          this.stateValue = 'idle';
          return;
        }
        if (this.stateValue === 'running') this.crash(why);
      });
    });
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.t) {
      case 'ok':
      case 'err': {
        const p = this.pending.get(m.id);
        if (p === undefined) return; // answered after the host gave up
        if (p.device) this.hung = 0;
        p.done();
        if (m.t === 'ok') p.resolve(m.value);
        else p.reject(new DriverError(m.error.code, m.error.message, m.error.detail ? { detail: m.error.detail } : undefined));
        return;
      }
      case 'lost':
        this.lost.get(m.session)?.(m.error);
        return;
      case 'push':
        this.sinks.get(m.sub)?.sink.values(m.device, m.results);
        return;
      case 'event':
        this.sinks.get(m.sub)?.sink.event?.(m.device, m.events, m.ts);
        return;
      case 'subError':
        this.sinks.get(m.sub)?.sink.error(m.device, m.error);
        return;
      case 'log': {
        const l = Object.keys(m.bindings).length > 0 ? this.log.child(m.bindings) : this.log;
        const obj = typeof m.obj === 'string' || (typeof m.obj === 'object' && m.obj !== null) ? (m.obj as object | string) : { value: m.obj };
        l[m.level](obj, m.msg);
        return;
      }
      case 'metric':
        this.metrics.count(m.name, m.labels, m.by);
        return;
      default:
        return;
    }
  }

  private countHung(w: Worker): void {
    if (this.worker !== w || this.stateValue !== 'running') return;
    if (++this.hung >= this.o.maxHungCalls) {
      this.stats.hangs++;
      this.crash({ code: 'Timeout', message: `plugin hung: ${this.hung} calls in a row got no answer; worker restarted` });
    }
  }

  private startPing(w: Worker): void {
    this.ping = setInterval(() => {
      this.request({ t: 'ping' }, { deadline: this.o.hangTimeout }).catch((e: unknown) => {
        if (this.worker !== w || this.stateValue !== 'running' || (e as DriverError).code !== 'Timeout') return;
        this.stats.hangs++;
        this.crash({ code: 'Timeout', message: `plugin worker stuck: no answer to a ping for ${this.o.hangTimeout} ms; worker restarted` });
      });
    }, this.o.pingInterval);
    this.ping.unref();
  }

  private stopPing(): void {
    if (this.ping) clearInterval(this.ping);
    this.ping = undefined;
  }

  private noteCrash(why: PointError): void {
    if (this.startedAt > 0 && Date.now() - this.startedAt >= this.o.stableAfter) this.crashesInRow = 0;
    this.crashesInRow++;
    this.lastCrashAt = Date.now();
    this.stats.crashes++;
    this.stats.lastCrash = why;
  }

  /** The worker is gone or must go: fail everything it held and end it. */
  private crash(why: PointError): void {
    const w = this.worker;
    this.worker = undefined;
    this.stateValue = 'idle';
    this.stopPing();
    this.noteCrash(why);
    this.log.warn({ code: why.code, error: why.message, restarts: this.crashesInRow }, 'isolated plugin worker crashed; its links go to backoff');
    this.failAll(why, true);
    void w?.terminate();
  }

  private failAll(why: PointError, report: boolean): void {
    for (const p of [...this.pending.values()]) {
      p.done();
      p.reject(new DriverError('Offline', why.message));
    }
    const lost = [...this.lost.values()];
    const sinks = [...this.sinks.entries()];
    this.lost.clear();
    this.sinks.clear();
    if (!report) return;
    for (const [, s] of sinks) s.sink.error(s.device, { code: 'Offline', message: why.message });
    for (const fn of lost) fn({ code: 'Offline', message: why.message });
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DriverError('Offline', 'aborted'));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new DriverError('Offline', 'aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
