/**
 * Test servers: modbus-serial ServerTCP/ServerSerial backed by per-unit tables that record every
 * write with its function code, a socat pty pair, and child-process helpers. Missing tools fail
 * the test with a clear message (never a skip).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerSerial, ServerTCP } from 'modbus-serial';
import type { IServiceVector } from 'modbus-serial';
import { freePort } from './helpers.ts';

/** One unit's data. A missing address answers exception 2 (illegal data address). */
export interface Tables {
  coils: Map<number, boolean>;
  discrete: Map<number, boolean>;
  holding: Map<number, number>;
  input: Map<number, number>;
  /** Requests seen, e.g. `FC3 0+10`, `FC6 5=0x1234`, `FC16 0=[1,2]`, `FC5 3=true`, `FC15 0=[true]`. */
  log: string[];
}

export function tables(init: Partial<Omit<Tables, 'log'>> = {}): Tables {
  return {
    coils: init.coils ?? new Map(),
    discrete: init.discrete ?? new Map(),
    holding: init.holding ?? new Map(),
    input: init.input ?? new Map(),
    log: [],
  };
}

const illegal = (addr: number) => ({ modbusErrorCode: 2, msg: `no register ${addr}` });

/** A vector serving `units` (unit id -> tables); `delay` ms before each read answer. */
export function vector(units: Map<number, Tables>, delay = 0): IServiceVector {
  const unit = (id: number) => {
    const t = units.get(id);
    if (t === undefined) throw { modbusErrorCode: 11, msg: `no unit ${id}` };
    return t;
  };
  const regs = (t: Tables, table: Map<number, number>, fc: number, addr: number, len: number) => {
    t.log.push(`FC${fc} ${addr}+${len}`);
    return Array.from({ length: len }, (_, i) => {
      const v = table.get(addr + i);
      if (v === undefined) throw illegal(addr + i);
      return v;
    });
  };
  // ServerTCP calls the single getter for one register and the multiple getter (sync, or with a
  // callback as 4th parameter; a returned promise is not awaited) for more.
  const many =
    (fc: 3 | 4) =>
    (addr: number, len: number, id: number, cb: (err: unknown, v?: number[]) => void): void => {
      let values: number[];
      try {
        const t = unit(id);
        values = regs(t, fc === 3 ? t.holding : t.input, fc, addr, len);
      } catch (e) {
        cb(e);
        return;
      }
      if (delay > 0) setTimeout(() => cb(null, values), delay);
      else cb(null, values);
    };
  const one = (fc: 3 | 4) => (addr: number, id: number) => {
    const t = unit(id);
    const v = regs(t, fc === 3 ? t.holding : t.input, fc, addr, 1)[0]!;
    return delay > 0 ? new Promise<number>((r) => setTimeout(() => r(v), delay)) : v;
  };
  const bit = (table: Map<number, boolean>, addr: number) => {
    const v = table.get(addr);
    if (v === undefined) throw illegal(addr);
    return v;
  };
  const need = <V>(table: Map<number, V>, addr: number) => {
    if (!table.has(addr)) throw illegal(addr);
  };
  return {
    getCoil: (addr: number, id: number) => bit(unit(id).coils, addr),
    getDiscreteInput: (addr: number, id: number) => bit(unit(id).discrete, addr),
    getHoldingRegister: one(3),
    getInputRegister: one(4),
    getMultipleHoldingRegisters: many(3),
    getMultipleInputRegisters: many(4),
    setCoil: (addr: number, v: boolean, id: number) => {
      const t = unit(id);
      need(t.coils, addr);
      t.log.push(`FC5 ${addr}=${v}`);
      t.coils.set(addr, v);
    },
    setCoilArray: (addr: number, vs: boolean[], id: number) => {
      const t = unit(id);
      vs.forEach((_, i) => need(t.coils, addr + i));
      t.log.push(`FC15 ${addr}=[${vs.join(',')}]`);
      vs.forEach((v, i) => t.coils.set(addr + i, v));
    },
    setRegister: (addr: number, v: number, id: number) => {
      const t = unit(id);
      need(t.holding, addr);
      t.log.push(`FC6 ${addr}=0x${v.toString(16)}`);
      t.holding.set(addr, v);
    },
    setRegisterArray: (addr: number, vs: number[], id: number) => {
      const t = unit(id);
      vs.forEach((_, i) => need(t.holding, addr + i));
      t.log.push(`FC16 ${addr}=[${vs.map((v) => `0x${v.toString(16)}`).join(',')}]`);
      vs.forEach((v, i) => t.holding.set(addr + i, v));
    },
  } as IServiceVector;
}

/** A ServerTCP on a free loopback port serving `units` (any unit id). */
export async function tcpServer(units: Map<number, Tables>, delay = 0): Promise<{ port: number; server: ServerTCP; close(): Promise<void> }> {
  const port = await freePort();
  const server = new ServerTCP(vector(units, delay), { host: '127.0.0.1', port, unitID: 255 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  server.on('socketError', () => {});
  let closed: Promise<void> | undefined;
  return { port, server, close: () => (closed ??= new Promise<void>((r) => server.close(() => r()))) };
}

/** A ServerSerial on a pty path serving `units` (any unit id). */
export async function serialServer(path: string, units: Map<number, Tables>, baudRate = 19200): Promise<{ close(): Promise<void> }> {
  const server = new ServerSerial(vector(units), { path, baudRate, unitID: 255 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, 1000); // ServerSerial does not always emit 'initialized' on a pty
    server.on('initialized', () => {
      clearTimeout(t);
      resolve();
    });
    server.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
  server.on('socketError', () => {});
  let closed: Promise<void> | undefined;
  return { close: () => (closed ??= new Promise<void>((r) => server.close(() => r()))) };
}

/** Throws a clear message when a tool the test needs is not installed. */
export function requireTool(cmd: string, hint: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} is not installed (${hint}); this test needs it`);
}

/** Waits until `check()` is true, polling every 20 ms, for at most `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops a child process and waits for it to exit (at most 2 s, then SIGKILL). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(t);
}

/** A socat pty pair `<dir>/ttyV0` <-> `<dir>/ttyV1`, plus extra socat bridges started later. */
export async function ptyPair(): Promise<{ dir: string; a: string; b: string; children: ChildProcess[]; close(): Promise<void> }> {
  requireTool('socat', 'apt-get install socat');
  const dir = mkdtempSync(join(tmpdir(), 'fg-modbus-'));
  const a = join(dir, 'ttyV0');
  const b = join(dir, 'ttyV1');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const children = [child];
  try {
    await waitFor(() => (existsSync(a) && existsSync(b)) || child.exitCode !== null, 5000, 'socat to create the pty pair');
    if (child.exitCode !== null) throw new Error(`socat exited: ${stderr}`);
  } catch (e) {
    await stop(child);
    throw e;
  }
  return {
    dir,
    a,
    b,
    children,
    async close() {
      for (const c of children) await stop(c);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
