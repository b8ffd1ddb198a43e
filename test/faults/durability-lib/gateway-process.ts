/**
 * The gateway as a child process (`bin/fieldgate.mjs run`), so that a scenario can SIGKILL it and
 * start it again on the same configuration and data directory. The REST API is its window:
 * `/health`, `/api/v1/outbox` (store stats) and the device properties.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');

/** Store statistics as `/api/v1/outbox` returns them (the fields the fault scenarios read). */
export interface StoreStats {
  readonly persisting: boolean;
  readonly lastError?: string;
  readonly outbox: { readonly size: number; readonly pending: number; readonly appended: number; readonly acked: number; readonly dropped: number };
}

/** One run of the gateway process. */
export class GatewayProcess {
  /** stderr of every run so far (pino JSON lines at the chosen level). */
  static stderr = '';
  private readonly child: ChildProcess;
  private exited: Promise<void>;

  private constructor(
    readonly apiUrl: string,
    confDir: string,
    logLevel: string,
  ) {
    this.child = spawn(process.execPath, [path.join(root, 'bin/fieldgate.mjs'), 'run', '-c', confDir, '--log-level', logLevel], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => (GatewayProcess.stderr += d.toString()));
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  /** Spawns the gateway on `confDir`; its API must listen on `apiUrl`. */
  static start(confDir: string, apiUrl: string, logLevel = 'warn'): GatewayProcess {
    return new GatewayProcess(apiUrl, confDir, logLevel);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** GET a JSON document from the API; `undefined` while the process is not answering. */
  async get<T>(route: string): Promise<T | undefined> {
    const r = await fetch(`${this.apiUrl}${route}`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (r === undefined || !r.ok) return undefined;
    return (await r.json()) as T;
  }

  /** GET a text document (e.g. `/metrics`). */
  async text(route: string): Promise<string | undefined> {
    const r = await fetch(`${this.apiUrl}${route}`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    return r?.ok ? r.text() : undefined;
  }

  stats(): Promise<StoreStats | undefined> {
    return this.get<StoreStats>('/api/v1/outbox');
  }

  /** SIGKILL (no shutdown code runs) and wait for the exit. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, bounded: SIGKILL after `ms`. */
  async stop(ms = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }
}
