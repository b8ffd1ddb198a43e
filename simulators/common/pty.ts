/**
 * A virtual serial cable: socat creates two connected pseudo-terminals and links them at two
 * paths. The gateway opens one end as if it were a serial port, a simulator the other. Needs the
 * Debian `socat` package.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';

/** Two linked pty paths and a way to remove them. */
export interface PtyPair {
  /** The first path (e.g. the gateway's end, the device's configured `rtu.port`). */
  readonly a: string;
  /** The second path (e.g. the simulator's end, `<a>.sim`). */
  readonly b: string;
  /** socat's process id. */
  readonly pid: number | undefined;
  /** Stops socat and removes the links. Idempotent. */
  close(): Promise<void>;
}

function removeLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // already gone
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 1000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts `socat pty,raw,echo=0,link=<a> pty,raw,echo=0,link=<b>` and resolves once both links
 * exist. Rejects if socat is missing, exits early, or the links do not appear within `timeoutMs`.
 */
export async function createPtyPair(a: string, b: string, timeoutMs = 3000): Promise<PtyPair> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const pair: PtyPair = {
    a,
    b,
    pid: child.pid,
    async close() {
      await stopProcess(child);
      removeLink(a);
      removeLink(b);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const fail = (why: string) => {
      clearInterval(poll);
      void pair.close().then(() => reject(new Error(`socat pty pair ${a} <-> ${b}: ${why}${stderr ? `: ${stderr.trim()}` : ''}`)));
    };
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code) => fail(`socat exited with ${code}`));
    const poll = setInterval(() => {
      if (existsSync(a) && existsSync(b)) {
        clearInterval(poll);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.on('error', () => {});
        resolve();
      } else if (Date.now() > deadline) fail(`links did not appear within ${timeoutMs} ms`);
    }, 20);
  });
  return pair;
}
