/**
 * Hosts one Baetyl process-mode driver: starts the program named by program.yml the way
 * baetyl-gateway does (go-plugin env, handshake line on stdout, grpc.health.v1 SERVING for
 * "plugin"), runs our `proto.Report` server, calls Setup → SetConfig → Start
 * (baetyl-gateway `gateway/driver.go StartDriver`), and supervises the process: when it dies it
 * is started again (same sequence) after an exponential, jittered delay. `stop()` calls Stop,
 * asks go-plugin's controller to shut down, then ends the process (SIGTERM, then SIGKILL).
 *
 * States: idle → starting → running → (exit) backoff → starting … ; stop() → stopping → stopped.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { DriverError, toDriverError } from '../../drivers/sdk/index.ts';
import type { Logger, PointError } from '../../drivers/sdk/index.ts';
import { backoffDelay } from '../runtime/backoff.ts';
import type { BackoffPolicy } from '../runtime/backoff.ts';
import { BAETYL_APP_PROTOCOL_VERSION, readHandshake } from './handshake.ts';
import { encodeEvent, encodePropertyGet, encodeSet, KIND, parsePost, parseState } from './messages.ts';
import type { DeviceState, DeviceValues, PropWrite } from './messages.ts';
import { loadProgram } from './program.ts';
import type { ProgramEntry } from './program.ts';
import { DriverRpc, startReportServer, targetOf } from './rpc.ts';
import type { DriverMethod, ReportServer } from './rpc.ts';
import { forwardLines } from './stdio.ts';

export type HostState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface BaetylHostOptions {
  /** The driver folder: program.yml, and (by default) the three configuration files. */
  readonly dir: string;
  /** Sent in Setup; the `meta.driverName` the driver must put in its messages. */
  readonly driverName: string;
  /** Sent in SetConfig (default: `dir`). */
  readonly configPath?: string;
  /** Overrides program.yml (otherwise read at every start, so an edit applies on restart). */
  readonly program?: ProgramEntry;
  readonly log: Logger;
  /** Extra environment for the driver process. */
  readonly env?: Readonly<Record<string, string>>;
  /** From spawn to Start answered (handshake, health, Setup, SetConfig). Default 30 s. */
  readonly startTimeout?: number;
  /** Deadline of each RPC. Default 10 s. */
  readonly callTimeout?: number;
  /** How long the process may take to exit on stop before it is signalled. Default 2 s. */
  readonly stopGrace?: number;
  /** Restart delays. Default 500 ms doubling to 30 s, 20 % jitter. */
  readonly backoff?: BackoffPolicy;
  /** Running this long (ms) resets the restart delay to its initial value. Default 30 s. */
  readonly stableAfter?: number;
}

/** What a host reports to its listeners. */
export interface HostListener {
  values?(msg: DeviceValues): void;
  state?(msg: DeviceState): void;
  status?(state: HostState, error: PointError | undefined): void;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class BaetylHost {
  private stateValue: HostState = 'idle';
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private rpc: DriverRpc | undefined;
  private report: ReportServer | undefined;
  private attempt = 0;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private runningSince = 0;
  private stopping: Promise<void> | undefined;
  private readonly listeners = new Set<HostListener>();
  private readonly log: Logger;
  /** Counters for tests and metrics. */
  readonly stats = { starts: 0, failedStarts: 0, exits: 0, restarts: 0 };
  /** The error that took the driver out of `running` (or failed its start) last. */
  lastError: DriverError | undefined;

  constructor(private readonly opts: BaetylHostOptions) {
    this.log = opts.log.child({ baetylDriver: opts.driverName });
  }

  get state(): HostState {
    return this.stateValue;
  }

  /** The driver's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Adds a listener; returns its removal. */
  listen(l: HostListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Starts the Report server and the driver. Resolves once the driver runs; rejects with the
   * first attempt's error, while restarts go on in the background (call `stop()` in any case).
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') return this.whenRunning(this.opts.startTimeout ?? 30_000);
    this.stateValue = 'starting';
    const report = await startReportServer({ post: (r) => this.onPost(r), state: (r) => this.onState(r) });
    if (this.stopping !== undefined) {
      // stop() came while the server was starting.
      await report.close();
      throw new DriverError('Offline', `driver ${this.opts.driverName} was stopped while starting`);
    }
    this.report = report;
    this.log.debug({ port: report.port }, 'report server listening');
    await this.launch();
  }

  /** Resolves when the driver is running; rejects after `timeoutMs`, on abort or on stop. */
  whenRunning(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.stateValue === 'running') return Promise.resolve();
    if (this.stopping !== undefined) return Promise.reject(new DriverError('Offline', `driver ${this.opts.driverName} is ${this.stateValue}`));
    return new Promise((resolve, reject) => {
      const done = (e?: DriverError) => {
        clearTimeout(t);
        off();
        signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const onAbort = () => done(new DriverError('Offline', 'aborted while waiting for the driver to start'));
      const t = setTimeout(() => done(new DriverError('Offline', `driver ${this.opts.driverName} is ${this.stateValue} after ${timeoutMs} ms${this.lastError ? `: ${this.lastError.message}` : ''}`)), timeoutMs);
      const off = this.listen({
        status: (s) => {
          if (s === 'running') done();
          else if (s === 'stopping' || s === 'stopped') done(new DriverError('Offline', `driver ${this.opts.driverName} is stopping`));
        },
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Set (置数): values by point name, already raw. Resolves with the driver's answer text. */
  set(device: string, props: readonly PropWrite[]): Promise<string> {
    return this.call('Set', encodeSet(this.opts.driverName, device, props));
  }

  /** Get (召测) of the named points (all when empty); the answer comes as a deviceDesire Post. */
  get(device: string, names: readonly string[]): Promise<string> {
    return this.call('Get', encodePropertyGet(this.opts.driverName, device, names));
  }

  /** A device event through Get (`{type: "report"}` asks for a report now). */
  event(device: string, event: { type: string; payload?: unknown }): Promise<string> {
    return this.call('Get', encodeEvent(this.opts.driverName, device, event));
  }

  /** Any `proto.Driver` method with a raw request string (GetDriverInfo, Restart…). */
  call(method: DriverMethod, request = ''): Promise<string> {
    const rpc = this.rpc;
    if (this.stateValue !== 'running' || rpc === undefined) {
      return Promise.reject(new DriverError('Offline', `driver ${this.opts.driverName} is ${this.stateValue}${this.lastError ? `: ${this.lastError.message}` : ''}`));
    }
    return rpc.call(method, { request }, this.opts.callTimeout ?? 10_000);
  }

  /** Stops the driver for good: Stop, controller Shutdown, then signals. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const was = this.stateValue;
    this.setState('stopping', undefined);
    clearTimeout(this.timer);
    const grace = this.opts.stopGrace ?? 2000;
    const rpc = this.rpc;
    const child = this.child;
    let graceful = false;
    if (rpc !== undefined) {
      if (was === 'running') await rpc.call('Stop', { request: '' }, Math.min(this.opts.callTimeout ?? 10_000, grace)).catch((e: unknown) => this.log.warn({ err: String(e) }, 'Stop failed'));
      // go-plugin's Kill: a graceful exit only when the controller accepted Shutdown.
      graceful = await rpc.shutdown(Math.min(1000, grace));
      rpc.close();
      this.rpc = undefined;
    }
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      if (!graceful) child.kill('SIGTERM');
      if (!(await this.exitWithin(grace))) {
        this.log.warn({ pid: child.pid }, 'driver did not exit; killing it');
        child.kill('SIGKILL');
        await this.exitWithin(5000);
      }
    }
    await this.report?.close();
    this.report = undefined;
    this.setState('stopped', undefined);
  }

  private async exitWithin(ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited.then(() => true), new Promise<boolean>((res) => (t = setTimeout(() => res(false), ms)))]);
    clearTimeout(t);
    return r;
  }

  private setState(state: HostState, error: PointError | undefined): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    for (const l of [...this.listeners]) l.status?.(state, error);
  }

  /** One start: spawn, handshake, health, Setup → SetConfig → Start. */
  private async launch(): Promise<void> {
    const gen = ++this.generation;
    const deadline = Date.now() + (this.opts.startTimeout ?? 30_000);
    this.setState('starting', undefined);
    this.stats.starts++;
    let child: ChildProcess | undefined;
    try {
      const program = this.opts.program ?? (await loadProgram(this.opts.dir));
      if (this.stateValue !== 'starting') throw new DriverError('Offline', 'stopped while starting');
      child = spawn(program.command, [...program.args], {
        cwd: this.opts.dir,
        // go-plugin client.go Start: the magic cookie, the port range and the versions we speak.
        env: {
          ...process.env,
          ...this.opts.env,
          DRIVER_PLUGIN: 'ON',
          PLUGIN_MIN_PORT: '10000',
          PLUGIN_MAX_PORT: '25000',
          PLUGIN_PROTOCOL_VERSIONS: String(BAETYL_APP_PROTOCOL_VERSION),
        },
        // stdin stays an open pipe we never write: a driver may watch it to notice our death.
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.child = child;
      const proc = child;
      let spawnError: Error | undefined;
      proc.once('error', (e) => (spawnError = e));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
      this.exited = exited;
      void exited.then(({ code, signal }) => this.onExit(gen, code, signal, spawnError));
      const stderrTail = forwardLines(proc.stderr!, this.log, { stream: 'stderr', pid: proc.pid });
      const { handshake, rest } = await readHandshake(
        { stdout: proc.stdout!, exited, stderrTail: () => (spawnError ? `${spawnError.message}\n` : '') + stderrTail() },
        Math.max(1, deadline - Date.now()),
      );
      forwardLines(proc.stdout!, this.log, { stream: 'stdout', pid: proc.pid }, rest);
      this.log.debug({ pid: proc.pid, handshake }, 'driver handshake');
      const rpc = new DriverRpc(targetOf(handshake.network, handshake.address));
      this.rpc = rpc;
      const died = exited.then(({ code, signal }) => {
        throw new DriverError('Offline', `the driver exited (${signal ?? `code ${code}`}) while starting; stderr: ${stderrTail().trim().slice(-500)}`);
      });
      died.catch(() => undefined);
      const step = <T>(p: Promise<T>) => Promise.race([p, died]);
      await step(this.waitHealthy(rpc, deadline));
      const t = () => Math.max(1, Math.min(this.opts.callTimeout ?? 10_000, deadline - Date.now()));
      const setup = await step(rpc.call('Setup', { brokerid: this.report!.port, request: this.opts.driverName }, t()));
      const config = await step(rpc.call('SetConfig', { request: this.opts.configPath ?? this.opts.dir }, t()));
      await step(rpc.call('Start', { request: '' }, t()));
      if (gen !== this.generation || this.stateValue !== 'starting') return;
      this.runningSince = Date.now();
      this.log.info({ pid: proc.pid, address: handshake.address, setup, config }, 'driver running');
      this.setState('running', undefined);
    } catch (e) {
      const err = toDriverError(e, 'Offline');
      if (gen !== this.generation || this.stateValue === 'stopping' || this.stateValue === 'stopped') throw err;
      this.stats.failedStarts++;
      this.lastError = err;
      this.log.warn({ code: err.code, err: err.message }, 'driver failed to start');
      this.scheduleRestart(err);
      this.rpc?.close();
      this.rpc = undefined;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw err;
    }
  }

  /** Polls grpc.health.v1 Check("plugin") until SERVING or the start deadline. */
  private async waitHealthy(rpc: DriverRpc, deadline: number): Promise<void> {
    let last = 'no answer';
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new DriverError('Timeout', `the driver's health service did not answer SERVING for "plugin" in time (${last})`);
      try {
        const s = await rpc.check('plugin', Math.min(1000, left));
        if (s === 'SERVING') return;
        last = `status ${s}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
    }
  }

  private onExit(gen: number, code: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined): void {
    if (gen !== this.generation) return;
    this.stats.exits++;
    this.child = undefined;
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    const err = new DriverError('Offline', spawnError ? `the driver could not be started: ${spawnError.message}` : `the driver exited (${signal ?? `code ${code}`})`, {
      detail: { ...(code !== null ? { exitCode: code } : {}), ...(signal !== null ? { signal } : {}) },
    });
    this.log.warn({ code, signal }, 'driver exited');
    // While starting, launch() sees the exit itself and schedules the restart.
    if (this.stateValue !== 'running') return;
    this.lastError = err;
    this.rpc?.close();
    this.rpc = undefined;
    this.scheduleRestart(err);
  }

  private scheduleRestart(err: DriverError): void {
    if (this.stateValue === 'backoff' || this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    if (this.runningSince > 0 && Date.now() - this.runningSince >= (this.opts.stableAfter ?? 30_000)) this.attempt = 0;
    this.runningSince = 0;
    const delay = backoffDelay(this.opts.backoff ?? DEFAULT_BACKOFF, this.attempt++);
    this.log.info({ delay, attempt: this.attempt }, 'driver restart scheduled');
    this.setState('backoff', { code: err.code, message: err.message });
    this.timer = setTimeout(() => {
      if (this.stateValue !== 'backoff') return;
      this.stats.restarts++;
      this.launch().catch(() => undefined);
    }, delay);
  }

  private onPost(request: string): string {
    const r = parsePost(request);
    if (r.kind === 'error') {
      this.log.warn({ err: r.error.message }, 'bad Post from driver');
      throw r.error;
    }
    this.checkName(r.value.driverName);
    for (const l of [...this.listeners]) l.values?.(r.value);
    return `msg kind: ${r.value.kind} post success`;
  }

  private onState(request: string): string {
    const r = parseState(request);
    if (r.kind === 'error') {
      this.log.warn({ err: r.error.message }, 'bad State from driver');
      throw r.error;
    }
    this.checkName(r.value.driverName);
    this.log.info({ device: r.value.deviceName, online: r.value.online }, 'device state from driver');
    for (const l of [...this.listeners]) l.state?.(r.value);
    return `msg kind: ${KIND.lifecycle} post success`;
  }

  private checkName(name: string): void {
    // baetyl-gateway finds the device by (driverName, deviceName): another name finds nothing.
    if (name !== this.opts.driverName) throw new DriverError('Protocol', `meta.driverName ${JSON.stringify(name)} is not this driver (${JSON.stringify(this.opts.driverName)}, given in Setup)`);
  }
}
