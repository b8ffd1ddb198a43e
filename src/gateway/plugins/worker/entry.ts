/**
 * The worker side of an isolated plugin: imports the plugin module, creates its driver with a
 * context whose logger and metrics forward to the gateway, and serves the host's requests
 * (see ../protocol.ts). It holds no policy: timeouts, restarts and backoff belong to the host.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DriverError, toDriverError } from '../../../drivers/sdk/index.ts';
import type { Clock, Driver, DriverContext, DriverDescriptor, Logger, PointError, ReadResult, Session, Subscription } from '../../../drivers/sdk/index.ts';
import type { HostMessage, HostRequest, SessionShape, WorkerInit, WorkerMessage } from '../protocol.ts';
import { pickDescriptor } from '../descriptor.ts';
import { readPlanned } from './read.ts';

const port = parentPort!;
const init = (workerData as { init: WorkerInit }).init;

function post(m: WorkerMessage): void {
  try {
    port.postMessage(m);
  } catch (e) {
    // A value that cannot be cloned (a function in a log object…) must not kill the worker.
    if (m.t === 'log') port.postMessage({ ...m, obj: { unclonable: String(m.obj) } });
    else if ('id' in m) port.postMessage({ t: 'err', id: m.id, error: pointError(e) });
    else throw e;
  }
}

function pointError(e: unknown, fallback: PointError['code'] = 'Protocol'): PointError {
  const d = toDriverError(e, fallback);
  return { code: d.code, message: d.message, ...(d.detail !== undefined ? { detail: { ...d.detail } } : {}) };
}

function logger(bindings: Record<string, unknown>): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object | string, msg?: string): void =>
      post({ t: 'log', level, bindings, obj, ...(msg !== undefined ? { msg } : {}) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => logger({ ...bindings, ...b }) };
}

const clock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const stopping = new AbortController();
let descriptor: DriverDescriptor;
let driver: Driver;
try {
  descriptor = pickDescriptor(await import(init.entry), init.exportName);
  const ctx: DriverContext = {
    log: logger(init.bindings),
    clock,
    metrics: { count: (name, labels, by) => post({ t: 'metric', name, ...(labels ? { labels } : {}), ...(by !== undefined ? { by } : {}) }) },
    signal: stopping.signal,
    dataDir: init.dataDir,
  };
  driver = descriptor.create(ctx);
} catch (e) {
  post({ t: 'fatal', error: pointError(e, 'Config') });
  process.exit(1);
}

const sessions = new Map<number, Session>();
const subs = new Map<number, Subscription>();
const calls = new Map<number, AbortController>();
let nextId = 1;

async function serve(m: HostRequest): Promise<unknown> {
  switch (m.t) {
    case 'ping':
      return 'pong';
    case 'connect': {
      const id = nextId++;
      const ac = calls.get(m.id)!;
      let session: Session | undefined;
      session = await driver.connect(m.connection, {
        signal: ac.signal,
        onLost: (error) => {
          // Only the live session's first report matters; the host ignores late ones too.
          if (session !== undefined && sessions.get(id) === session) post({ t: 'lost', session: id, error: { code: error.code, message: error.message } });
        },
      });
      sessions.set(id, session);
      const shape: SessionShape = { session: id, write: typeof session.write === 'function', subscribe: typeof session.subscribe === 'function' };
      return shape;
    }
    case 'read': {
      const s = need(m.session);
      return readPlanned(s, m.device, m.points, descriptor.link(m.device.connection).window, calls.get(m.id)!.signal);
    }
    case 'write': {
      const s = need(m.session);
      if (s.write === undefined) throw new DriverError('Unsupported', 'this driver does not write');
      return s.write(m.device, m.writes, calls.get(m.id)!.signal);
    }
    case 'subscribe': {
      const s = need(m.session);
      if (s.subscribe === undefined) throw new DriverError('Unsupported', 'this driver does not subscribe');
      const sub = nextId++;
      const handle = await s.subscribe(m.device, m.points, {
        values: (device: string, results: readonly ReadResult[]) => post({ t: 'push', sub, device, results: [...results] }),
        event: (device: string, events: Readonly<Record<string, unknown>>, ts?: number) =>
          post(ts === undefined ? { t: 'event', sub, device, events: { ...events } } : { t: 'event', sub, device, events: { ...events }, ts }),
        error: (device: string, error: PointError) => post({ t: 'subError', sub, device, error: { code: error.code, message: error.message } }),
      });
      subs.set(sub, handle);
      return sub;
    }
    case 'unsubscribe': {
      const h = subs.get(m.sub);
      subs.delete(m.sub);
      await h?.close();
      return null;
    }
    case 'closeSession': {
      const s = sessions.get(m.session);
      sessions.delete(m.session);
      await s?.close();
      return null;
    }
    case 'closeDriver': {
      stopping.abort();
      for (const [id, s] of sessions) {
        sessions.delete(id);
        await s.close().catch(() => undefined);
      }
      await driver.close?.();
      return null;
    }
  }
}

function need(id: number): Session {
  const s = sessions.get(id);
  if (s === undefined) throw new DriverError('Offline', `session ${id} is closed`);
  return s;
}

port.on('message', (m: HostMessage) => {
  if (m.t === 'abort') {
    calls.get(m.call)?.abort();
    return;
  }
  const ac = new AbortController();
  calls.set(m.id, ac);
  serve(m).then(
    (value) => post({ t: 'ok', id: m.id, value }),
    (e: unknown) => post({ t: 'err', id: m.id, error: pointError(e, m.t === 'connect' ? 'Offline' : 'Protocol') }),
  ).finally(() => calls.delete(m.id));
});

post({ t: 'ready' });
