/**
 * The parent side of sim-host.ts: forks the simulator process (TypeScript through tsx), starts
 * the simulators of a configuration folder and sends fault commands, each resolved when the child
 * says it took effect (with the time the answer arrived).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostCommand, HostMessage, HostSpec } from './sim-host.ts';
import type { Stall } from './stalls.ts';

const ENTRY = fileURLToPath(new URL('./sim-host.ts', import.meta.url));

/** A running simulator process. */
export interface SimHost {
  /** Runs a command; resolves with its result and the time (epoch ms) the answer arrived. */
  cmd(cmd: HostCommand): Promise<{ result: unknown; at: number }>;
  /** The counter value at the simulator of `device` now. */
  value(device: string): Promise<number>;
  /** Event-loop stalls so far of the simulator process that serves `device`. */
  stalls(device: string): Promise<Stall[]>;
  /** Stops the simulators and the process (killed after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/** Forks the host and starts the simulators of `spec`; rejects (and kills the child) if they fail to start within `timeoutMs`. */
export async function startSimHost(spec: HostSpec, timeoutMs = 60_000): Promise<SimHost> {
  const child: ChildProcess = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: { result: unknown; at: number }) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error('simulator process exited'));
    pending.clear();
    resolve();
  }));
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`simulators not ready after ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (m: HostMessage) => {
      if (m.type === 'ready') {
        clearTimeout(t);
        resolve();
      } else if (m.type === 'fatal') {
        clearTimeout(t);
        reject(new Error(`simulators failed to start: ${m.error}`));
      } else if (m.type === 'reply') {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (p === undefined) return;
        if (m.ok) p.resolve({ result: m.result, at: Date.now() });
        else p.reject(new Error(m.error));
      }
    });
    void exit.then(() => reject(new Error('simulator process exited before it was ready')));
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.send({ type: 'stop' });
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(t);
  };
  child.send({ type: 'start', spec });
  try {
    await ready;
  } catch (e) {
    child.kill('SIGKILL');
    await exit;
    throw e;
  }
  const host: SimHost = {
    cmd(cmd) {
      if (exited) return Promise.reject(new Error('simulator process has exited'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: 'cmd', id, cmd });
      });
    },
    async value(device) {
      const { result } = await host.cmd({ op: 'value', device });
      if (typeof result !== 'number') throw new Error(`${device}: the simulator holds ${JSON.stringify(result)}, not a number`);
      return result;
    },
    async stalls(device) {
      return (await host.cmd({ op: 'stalls', device })).result as Stall[];
    },
    stop,
  };
  return host;
}

/**
 * Several simulator processes, one per group of device names, behind one {@link SimHost} that
 * routes each command to the process serving its device. An OPC UA server gets a process of its
 * own: its restart loads the address space for seconds of CPU, during which nothing else in that
 * process answers (a healthy device would look dead).
 */
export async function startSimHosts(spec: HostSpec, groups: readonly (readonly string[])[], timeoutMs?: number): Promise<SimHost> {
  const started = await Promise.allSettled(groups.map((only) => startSimHost({ ...spec, only }, timeoutMs)));
  const hosts = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const owner = new Map<string, SimHost>();
  groups.forEach((g, i) => g.forEach((d) => owner.set(d, hosts[i]!)));
  const of = (device: string): SimHost => {
    const h = owner.get(device);
    if (h === undefined) throw new Error(`no simulator process serves ${device}`);
    return h;
  };
  return {
    cmd: (cmd) => of(cmd.device).cmd(cmd),
    value: (device) => of(device).value(device),
    stalls: (device) => of(device).stalls(device),
    stop: async () => {
      await Promise.allSettled(hosts.map((h) => h.stop()));
    },
  };
}
