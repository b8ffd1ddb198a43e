/**
 * `isolated` mode: a descriptor with the plugin's own schemas, capabilities and link rule (run in
 * the gateway's thread at load time, so configuration errors read exactly as for built-ins) whose
 * `create()` returns a proxy driver. Everything from `create()` on runs in a worker thread
 * (worker-host.ts), behind the same Driver/Session API, so the gateway cannot tell the two apart.
 */
import { DriverError } from '../../drivers/sdk/index.ts';
import type {
  BaseConnection,
  ConnectOptions,
  DeviceRef,
  Driver,
  DriverContext,
  DriverDescriptor,
  Point,
  PointWrite,
  ReadResult,
  Session,
  Subscription,
  SubscriptionSink,
  WriteResult,
} from '../../drivers/sdk/index.ts';
import type { SessionShape } from './protocol.ts';
import { WorkerHost } from './worker-host.ts';
import type { IsolationOptions } from './worker-host.ts';

/** Where the worker finds the plugin. */
export interface PluginSource {
  /** file: URL of the module. */
  readonly entry: string;
  readonly exportName?: string;
}

/** A descriptor whose drivers run in worker threads; `hosts` lists the live ones (tests, metrics). */
export interface IsolatedDescriptor extends DriverDescriptor {
  readonly isolated: true;
  readonly hosts: ReadonlySet<WorkerHost>;
}

/** Wraps `descriptor` (loaded from `source`) so that its drivers run isolated. */
export function isolate(descriptor: DriverDescriptor, source: PluginSource, options: IsolationOptions = {}): IsolatedDescriptor {
  const hosts = new Set<WorkerHost>();
  const out: IsolatedDescriptor = {
    id: descriptor.id,
    version: descriptor.version,
    sdkVersion: descriptor.sdkVersion,
    title: descriptor.title,
    connectionSchema: descriptor.connectionSchema,
    addressSchema: descriptor.addressSchema,
    ...(descriptor.checkPoint ? { checkPoint: (p: Point) => descriptor.checkPoint!(p) } : {}),
    capabilities: descriptor.capabilities,
    link: (c) => descriptor.link(c),
    isolated: true,
    hosts,
    create(ctx: DriverContext): Driver {
      const host = new WorkerHost(
        { entry: source.entry, ...(source.exportName !== undefined ? { exportName: source.exportName } : {}), dataDir: ctx.dataDir, bindings: { driver: descriptor.id, isolated: true } },
        ctx.log,
        ctx.metrics,
        options,
      );
      hosts.add(host);
      return {
        connect: (connection, opts) => connectIsolated(host, connection, opts),
        async close() {
          await host.close();
          hosts.delete(host);
        },
      };
    },
  };
  return out;
}

/** Slack on top of the device's request timeout before the host gives up on a connect. */
const CONNECT_SLACK = 5000;

async function connectIsolated(host: WorkerHost, connection: BaseConnection, opts: ConnectOptions): Promise<Session> {
  await host.ensure(opts.signal);
  const generation = host.generation;
  const shape = await host.request<SessionShape>({ t: 'connect', connection }, { signal: opts.signal, deadline: connection.timeout * 4 + CONNECT_SLACK });
  let closed = false;
  host.onLost(shape.session, (e) => {
    if (!closed) opts.onLost(e);
  });
  const live = (): void => {
    if (closed) throw new DriverError('Offline', 'session closed');
    if (host.generation !== generation || host.state !== 'running') throw new DriverError('Offline', 'plugin worker restarted; session is gone');
  };
  // The gateway's own per-call signal is the primary deadline; this one covers callers without one.
  const deadline = (d: DeviceRef): number => d.connection.timeout * 4 + 1000;
  const ref = (d: DeviceRef): DeviceRef => ({ name: d.name, connection: d.connection });
  const pts = (ps: readonly Point[]): Point[] => ps.map((p) => ({ id: p.id, name: p.name, type: p.type, address: p.address }));

  const session: Session = {
    async read(device: DeviceRef, points: readonly Point[], signal: AbortSignal): Promise<ReadResult[]> {
      live();
      return host.request<ReadResult[]>({ t: 'read', session: shape.session, device: ref(device), points: pts(points) }, { signal, deadline: deadline(device) });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      host.offLost(shape.session);
      if (host.generation === generation && host.state === 'running') {
        await host.request({ t: 'closeSession', session: shape.session }, { deadline: 2000 }).catch(() => undefined);
      }
    },
  };
  if (shape.write) {
    session.write = async (device: DeviceRef, writes: readonly PointWrite[], signal: AbortSignal): Promise<WriteResult[]> => {
      live();
      const ws = writes.map((w) => ({ point: pts([w.point])[0]!, value: w.value }));
      return host.request<WriteResult[]>({ t: 'write', session: shape.session, device: ref(device), writes: ws }, { signal, deadline: deadline(device) });
    };
  }
  if (shape.subscribe) {
    session.subscribe = async (device: DeviceRef, points: readonly Point[], sink: SubscriptionSink): Promise<Subscription> => {
      live();
      const sub = await host.request<number>({ t: 'subscribe', session: shape.session, device: ref(device), points: pts(points) }, { deadline: deadline(device) });
      host.onPush(sub, device.name, sink);
      let done = false;
      return {
        async close() {
          if (done) return;
          done = true;
          host.offPush(sub);
          if (host.generation === generation && host.state === 'running') await host.request({ t: 'unsubscribe', sub }, { deadline: 2000 }).catch(() => undefined);
        },
      };
    };
  }
  return session;
}
