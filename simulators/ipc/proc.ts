/**
 * Child processes (rtsp-server-perl, ffmpeg) that never outlive the simulator. Each runs under a
 * tiny `sh` watchdog that holds our end of a stdin pipe: when the pipe closes (stop(), or this
 * process dying in any way, SIGKILL included) the watchdog sends SIGTERM, then SIGKILL after
 * 2 s. A `process.once('exit')` hook also SIGKILLs whatever is still running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

// fd 3 keeps the pipe: POSIX gives asynchronous lists /dev/null as stdin.
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null >/dev/null & c=$!',
  'echo "$c"',
  '( read _ <&3; kill -TERM "$c" 2>/dev/null; i=0; while kill -0 "$c" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$c" 2>/dev/null ) &',
  'w=$!',
  'wait "$c"; rc=$?',
  'kill "$w" 2>/dev/null',
  'exit "$rc"',
].join('\n');

/** One supervised process. */
export interface Supervised {
  readonly label: string;
  /** Pid of the program itself (not of its watchdog). */
  readonly pid: number;
  readonly watchdogPid: number;
  /** Resolves with the exit code (null when killed by a signal) once the program has ended. */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** Last few KB of the program's stderr (diagnostics). */
  stderr(): string;
  /** SIGTERM, SIGKILL after 2 s; resolves once it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess & { programPid?: number }>();
let hooked = false;

function killAllSync(): void {
  for (const c of live) {
    for (const pid of [c.programPid, c.pid]) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Starts `cmd args` under the watchdog; resolves once its pid is known. */
export function startSupervised(label: string, cmd: string, args: readonly string[]): Promise<Supervised> {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAllSync);
  }
  const child: ChildProcess & { programPid?: number } = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    tail = (tail + d).slice(-4096);
  });
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const pid = Number(out.slice(0, nl));
      child.programPid = pid;
      let stopping: Promise<void> | undefined;
      resolve({
        label,
        pid,
        watchdogPid: child.pid!,
        exited,
        running: () => !ended,
        stderr: () => tail,
        stop: () => {
          stopping ??= (async () => {
            child.stdin!.end();
            const timer = setTimeout(killAllOf, 4000);
            function killAllOf(): void {
              for (const p of [pid, child.pid]) {
                try {
                  if (p !== undefined) process.kill(p, 'SIGKILL');
                } catch {
                  // gone
                }
              }
            }
            await exited;
            clearTimeout(timer);
          })();
          return stopping;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('error', (e) => reject(new Error(`${label}: ${e.message}`)));
    void exited.then((code) => reject(new Error(`${label} exited (${code}) before starting: ${tail.trim().slice(-300)}`)));
  });
}
