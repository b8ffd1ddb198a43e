/**
 * Child processes of the benchmark: spawning TypeScript children with an IPC channel, asking
 * them for figures, reading their CPU time and memory from /proc, and killing every one of them
 * at the end, on Ctrl-C and on errors.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

/** Every child still alive, so that one exit path kills them all. */
const children = new Set<ChildProcess>();

/** Kills every child that is still running (SIGKILL), synchronously; safe in an 'exit' handler. */
export function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** Kills the children on exit, Ctrl-C and SIGTERM, then runs `onSignal` after a signal. Call once. */
export function installCleanup(onSignal: () => void = () => undefined): void {
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      killAll();
      onSignal();
      process.exit(130);
    });
  }
}

/** A child with an IPC channel that answers `{type, id}` requests with `{type, id, ...}`. */
export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<number | null>;
  readonly log: string;

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    log: string,
  ) {
    this.log = log;
    proc.on('message', (m: unknown) => {
      const msg = m as Record<string, unknown>;
      const id = typeof msg.id === 'number' ? msg.id : undefined;
      const w = id === undefined ? undefined : this.waiting.get(id);
      if (w !== undefined && id !== undefined) {
        this.waiting.delete(id);
        if (msg.type === 'error') w.reject(new Error(`${name}: ${String(msg.message)}`));
        else w.resolve(msg);
      }
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code) => {
        children.delete(proc);
        for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (code ${code}); see ${log}`));
        this.waiting.clear();
        resolve(code);
      });
    });
  }

  /**
   * Starts `node [nodeArgs] --import tsx <script> <args>`; its stdout and stderr go to `log`.
   * Resolves when the child sends `{type: 'ready'}` (with that message), rejects if it exits
   * first or takes longer than `readyMs`.
   */
  static async start(name: string, script: string, args: readonly string[], opts: { log: string; nodeArgs?: readonly string[]; readyMs?: number }): Promise<{ child: Child; ready: Record<string, unknown> }> {
    const fd = openSync(opts.log, 'a');
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
      stdio: ['ignore', fd, fd, 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    closeSync(fd);
    children.add(proc);
    const child = new Child(name, proc, opts.log);
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${name} not ready after ${opts.readyMs ?? 120_000} ms; see ${opts.log}`)), opts.readyMs ?? 120_000);
      const onMsg = (m: unknown) => {
        const msg = m as Record<string, unknown>;
        if (msg.type === 'ready' || msg.type === 'fatal') {
          clearTimeout(t);
          proc.off('message', onMsg);
          if (msg.type === 'ready') resolve(msg);
          else reject(new Error(`${name} failed: ${String(msg.message)}; see ${opts.log}`));
        }
      };
      proc.on('message', onMsg);
      void child.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`${name} exited (code ${code}) before it was ready; see ${opts.log}:\n${tail(opts.log)}`));
      });
    });
    return { child, ready };
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Sends a request and resolves with the answer of the same id. */
  request(type: string, extra: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.proc.send({ type, id, ...extra });
    });
  }

  /** Asks the child to stop (`stop` request), then SIGKILLs it if it has not exited in `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.send({ type: 'stop', id: 0 }, () => undefined);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** The last lines of a log file (for error messages). */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
}

/** Resident set size now and its peak (VmRSS, VmHWM), in MB, from /proc/<pid>/status. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** A free TCP port on 127.0.0.1 (free now; used right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a mosquitto broker on 127.0.0.1:port (anonymous, no persistence); a plain ChildProcess.
 * `extra` lines go into its configuration as they are (e.g. `sys_interval 1`).
 */
export async function startMosquitto(port: number, confFile: string, log: string, extra: readonly string[] = []): Promise<ChildProcess> {
  writeFileSync(confFile, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', ...extra, ''].join('\n'));
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
  if (bin === undefined) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const fd = openSync(log, 'a');
  const proc = spawn(bin, ['-c', confFile], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  await waitForPort(port, 10_000);
  return proc;
}

/** Stops a plain child with SIGTERM (SIGKILL after `graceMs`). */
export async function stopProcess(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(t);
  children.delete(proc);
}

/** Common child-side glue: answers requests through `handlers`, exits when the parent goes away. */
export function serveParent(handlers: Record<string, (msg: Record<string, unknown>) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: unknown) => {
    const msg = m as Record<string, unknown>;
    const type = String(msg.type);
    const h = handlers[type];
    if (h === undefined) {
      process.send?.({ type: 'error', id: msg.id, message: `unknown request ${type}` });
      return;
    }
    Promise.resolve()
      .then(() => h(msg))
      .then(
        (r) => process.send?.({ type, id: msg.id, ...(r ?? {}) }),
        (e: unknown) => process.send?.({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) }),
      );
  });
}

/** Runs a child's `main`; a failure goes to the parent as `fatal` and ends the child. */
export function runChild(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.send?.({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
