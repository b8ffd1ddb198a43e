/**
 * RTSP forwarding (edge re-streaming): one supervised ffmpeg that relays a camera stream to a
 * target without re-encoding (`ffmpeg -rtsp_transport udp -i <src> -c copy -f rtsp|flv <target>`).
 *
 * States: `stopped` → `starting` (spawned, no output yet) → `running` (ffmpeg reports progress)
 * → on exit `backoff` (a timer, delay doubling up to `max`) → `starting` … ; `stop()` ends it with
 * SIGTERM, then SIGKILL after 2 s, and waits for the exit, so that no ffmpeg outlives its session.
 *
 * The relay runs tethered: a small `sh` watchdog starts it and holds the read end of a pipe whose
 * write end only this process has. When that pipe closes (stop(), or the gateway dying in any way,
 * SIGKILL included) the watchdog sends SIGTERM, then SIGKILL after 2 s. Without it a relay
 * orphaned by a killed gateway keeps publishing, and the restarted gateway's relay is refused by
 * the target (a second publisher on the same path).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

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

/**
 * The watchdog: `$@` runs with /dev/null as stdin; its pid goes out on fd 3; fd 4 keeps our
 * stdin pipe (POSIX gives background lists /dev/null as stdin, hence the copy). EOF on it →
 * SIGTERM, SIGKILL after 2 s. The script exits with the program's status.
 */
const TETHER = [
  'exec 4<&0',
  '"$@" </dev/null 3>&- 4<&- & c=$!',
  'echo "$c" >&3',
  'exec 3>&-',
  '( read _ <&4; kill -TERM "$c" 2>/dev/null; i=0; while kill -0 "$c" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$c" 2>/dev/null ) >/dev/null 2>&1 &',
  'w=$!',
  'wait "$c" 2>/dev/null; rc=$?',
  'kill "$w" 2>/dev/null',
  'exit "$rc"',
].join('\n');

interface Tethered {
  readonly child: ChildProcess;
  /** The program's pid, once the watchdog said it. */
  programPid: number | undefined;
}

/** Relays running in this process: killed if the process exits without closing its sessions. */
const live = new Set<Tethered>();
let hooked = false;

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** `SIGTERM` for 15, else the number. */
function signalName(n: number): string {
  const hit = Object.entries(constants.signals).find(([, v]) => v === n);
  return hit === undefined ? String(n) : hit[0];
}

/** Starts `command args` under the watchdog. */
function spawnTethered(command: string, args: readonly string[]): Tethered {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const t of live) {
        killQuietly(t.programPid);
        killQuietly(t.child.pid);
      }
    });
  }
  const child = spawn('/bin/sh', ['-c', TETHER, 'fieldgate-relay', command, ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const t: Tethered = { child, programPid: undefined };
  live.add(t);
  child.once('close', () => live.delete(t));
  child.stdin?.on('error', () => undefined);
  const pidPipe = child.stdio[3] as NodeJS.ReadableStream | null;
  let line = '';
  pidPipe?.on('data', (b: Buffer) => {
    line += b.toString('utf8');
    const n = Number.parseInt(line, 10);
    if (line.includes('\n') && Number.isInteger(n) && n > 0) t.programPid = n;
  });
  pidPipe?.on('error', () => undefined);
  return t;
}

/** Supervises one long-running child with restart and backoff. */
export class Supervisor {
  #state: ForwardState = 'stopped';
  #child: ChildProcess | undefined;
  #tethered: Tethered | undefined;
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

  /** The relay program's pid (not its watchdog's), once known. */
  get pid(): number | undefined {
    return this.#child === undefined ? undefined : this.#tethered?.programPid;
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
    const tethered = this.#tethered;
    // Closing the tether makes the watchdog send SIGTERM (SIGKILL 2 s later); ours is a backstop.
    child.stdin?.end();
    if (tethered?.programPid !== undefined) {
      try {
        process.kill(tethered.programPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    // SIGKILL the program only: the watchdog reaps it and exits with its status; the watchdog
    // itself is killed only if it is somehow still there 2 s later.
    const grace = this.opts.killAfter ?? 2000;
    const kill = setTimeout(() => killQuietly(tethered?.programPid ?? child.pid), grace);
    const last = setTimeout(() => child.kill('SIGKILL'), grace + 2000);
    await gone;
    clearTimeout(kill);
    clearTimeout(last);
  }

  #set(state: ForwardState, exit?: string): void {
    if (this.#state === state && exit === undefined) return;
    this.#state = state;
    const pid = this.#child?.pid;
    this.opts.onState?.(state, { restarts: this.restarts, ...(pid !== undefined ? { pid } : {}), ...(exit !== undefined ? { exit } : {}) });
  }

  #spawn(): void {
    const tethered = spawnTethered(this.opts.command, this.opts.args);
    const child = tethered.child;
    this.#tethered = tethered;
    this.#child = child;
    this.#startedAt = this.opts.now();
    let stderr = '';
    this.#exited = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        const last = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1);
        // The watchdog exits with the program's status: 128 + n when a signal ended it.
        const how = signal !== null ? `signal ${signal}` : code !== null && code > 128 ? `signal ${signalName(code - 128)}` : `code ${code}`;
        this.#lastExit = `${how}${last ? `: ${last}` : ''}`;
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
