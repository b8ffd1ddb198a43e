/**
 * RTSP forwarding (edge re-streaming): one supervised ffmpeg that relays a camera stream to a
 * target without re-encoding (`ffmpeg -rtsp_transport udp -i <src> -c copy -f rtsp|flv <target>`).
 *
 * States: `stopped` → `starting` (spawned, no output yet) → `running` (ffmpeg reports progress)
 * → on exit `backoff` (a timer, delay doubling up to `max`) → `starting` … ; `stop()` ends it with
 * SIGTERM, then SIGKILL after 2 s, and waits for the exit, so that no ffmpeg outlives its session.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export type ForwardState = 'stopped' | 'starting' | 'running' | 'backoff';

/** The ffmpeg muxer for a target URL: flv for RTMP, rtsp for RTSP. */
export function muxerFor(target: string): 'rtsp' | 'flv' {
  return /^rtmps?:/i.test(target) ? 'flv' : 'rtsp';
}

/** ffmpeg arguments of a relay (copy, no re-encoding; `-progress` lines tell us it runs). */
export function forwardArgs(source: string, target: string, transport: 'udp' | 'tcp'): string[] {
  const input = /^rtsps?:/i.test(source) ? ['-rtsp_transport', transport] : [];
  const output = muxerFor(target) === 'rtsp' ? ['-rtsp_transport', transport] : [];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-progress', 'pipe:1', '-stats_period', '0.5',
    ...input, '-i', source,
    '-map', '0:v:0', '-c', 'copy',
    '-f', muxerFor(target), ...output, target,
  ];
}

/** Delay before restart `attempt` (0-based): initial × 2^attempt, capped. */
export function restartDelay(attempt: number, initial: number, max: number): number {
  return Math.min(max, initial * 2 ** Math.min(attempt, 30));
}

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly backoff: { readonly initial: number; readonly max: number };
  /** A run this long resets the backoff (ms). */
  readonly stableAfter: number;
  /**
   * When the child counts as running: `output` = its first stdout bytes (ffmpeg's -progress),
   * `spawn` = as soon as it started (for tests with commands that print nothing).
   */
  readonly runningOn?: 'output' | 'spawn';
  /** Grace between SIGTERM and SIGKILL on stop (default 2000 ms). */
  readonly killAfter?: number;
  readonly now: () => number;
  readonly onState?: (state: ForwardState, info: { restarts: number; pid?: number; exit?: string }) => void;
}

/** Relays running in this process: killed if the process exits without closing its sessions. */
const live = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('close', () => live.delete(child));
}

/** Supervises one long-running child with restart and backoff. */
export class Supervisor {
  #state: ForwardState = 'stopped';
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #startedAt = 0;
  #exited: Promise<void> = Promise.resolve();
  #lastExit: string | undefined;
  /** Restarts after an exit (not counting the first start or starts after `stop`). */
  restarts = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  get state(): ForwardState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How the last child ended, e.g. `code 1: Connection refused`. */
  get lastExit(): string | undefined {
    return this.#lastExit;
  }

  /** Starts (from `stopped`); a no-op otherwise. */
  start(): void {
    if (this.#state !== 'stopped') return;
    this.#attempt = 0;
    this.#spawn();
  }

  /** Stops: cancels a pending restart, SIGTERM then SIGKILL; resolves when the child is gone. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    this.#set('stopped');
    if (child === undefined) return;
    const gone = this.#exited;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.killAfter ?? 2000);
    await gone;
    clearTimeout(kill);
  }

  #set(state: ForwardState, exit?: string): void {
    if (this.#state === state && exit === undefined) return;
    this.#state = state;
    const pid = this.#child?.pid;
    this.opts.onState?.(state, { restarts: this.restarts, ...(pid !== undefined ? { pid } : {}), ...(exit !== undefined ? { exit } : {}) });
  }

  #spawn(): void {
    const child = spawn(this.opts.command, [...this.opts.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    this.#child = child;
    this.#startedAt = this.opts.now();
    let stderr = '';
    this.#exited = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        const last = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1);
        this.#lastExit = `${signal !== null ? `signal ${signal}` : `code ${code}`}${last ? `: ${last}` : ''}`;
        resolve();
        this.#exitedWhile(child);
      });
    });
    child.once('error', (e) => {
      stderr += `\n${e.message}`;
    });
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-2048);
    });
    child.stdout?.on('data', () => {
      if (this.#child === child && this.#state === 'starting') this.#set('running');
    });
    this.#set('starting');
    if (this.opts.runningOn === 'spawn') child.once('spawn', () => this.#child === child && this.#state === 'starting' && this.#set('running'));
  }

  /** The child exited on its own (not through stop): schedule a restart. */
  #exitedWhile(child: ChildProcess): void {
    if (this.#state === 'stopped' || this.#child !== undefined) return;
    void child;
    if (this.opts.now() - this.#startedAt >= this.opts.stableAfter) this.#attempt = 0;
    const delay = restartDelay(this.#attempt++, this.opts.backoff.initial, this.opts.backoff.max);
    this.#set('backoff', this.#lastExit);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== 'backoff') return;
      this.restarts++;
      this.#spawn();
    }, delay);
  }
}
