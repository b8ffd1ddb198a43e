/** Starting and stopping a real Debian mosquitto (MQTT 5) on 127.0.0.1 for tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (probe: listen on 0, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (typeof addr !== 'object' || addr === null) throw new Error('no port');
  return addr.port;
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves when something accepts TCP connections on the port; bounded by `ms`. */
async function waitListening(port: number, ms: number, proc: ChildProcess, stderr: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port} within ${ms} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Mosquitto {
  readonly port: number;
  /** SIGTERM and wait for exit (bounded: SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** Starts again with the same config on the same port. */
  start(): Promise<void>;
}

/**
 * Runs `mosquitto -c <dir>/mosquitto.conf` with `listener <port> 127.0.0.1`, anonymous access,
 * no persistence, plus `extra` lines (TLS settings). Files named in `extra` are relative to `dir`.
 */
export async function startMosquitto(dir: string, port: number, extra: string[] = []): Promise<Mosquitto> {
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    // `extra` may turn persistence on (it then comes later and wins).
    ...(extra.some((l) => l.startsWith('persistence ')) ? [] : ['persistence false']),
    ...extra,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  // As root, mosquitto drops privileges to user "mosquitto", which cannot read our 0700 temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, `${lines.join('\n')}\n`);

  let proc: ChildProcess | undefined;
  let err = '';
  const start = async (): Promise<void> => {
    err = '';
    const p = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc = p;
    await waitListening(port, 5000, p, () => err);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  await start();
  return { port, start, stop };
}
