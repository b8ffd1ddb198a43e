/**
 * Monitored items for one device: one OPC UA subscription per `subscribe` call, with one
 * monitored item group per distinct (sampling interval, queue size, deadband), because a group
 * shares its monitoring parameters. Values go to the sink in batches (one per notification
 * burst). The gateway calls `subscribe` again after every reconnect, so items are recreated on
 * the new session rather than transferred.
 */
import type { ClientMonitoredItemBase, ClientSession, ClientSubscription, DataValue } from 'node-opcua-client';
import type { DeviceRef, Point, ReadResult, Subscription, SubscriptionSink } from '../sdk/index.ts';
import type { OpcuaAddress, OpcuaConnection } from './address.ts';
import type { OpcuaModule } from './load.ts';
import type { ResolvedNode } from './nodes.ts';
import { resultOf, severity, statusError } from './values.ts';

type OPoint = Point<OpcuaAddress>;

/** What a subscription needs from its session. */
export interface SubscriptionHost {
  readonly opcua: OpcuaModule;
  readonly session: ClientSession;
  now(): number;
  /** Latest pushed result per device and point, so polls can answer from it. */
  remember(device: string, results: readonly ReadResult[]): void;
  forget(device: string, pointIds: readonly string[]): void;
  /** The subscription died with the session (e.g. BadTimeout): treat the link as lost. */
  lost(message: string): void;
}

/** Monitoring parameters of a point (Part 4 §7.21): sampling interval, queue size, deadband. */
export function monitoringOf(point: OPoint, connection: OpcuaConnection): { samplingInterval: number; queueSize: number; deadband?: { type: 'absolute' | 'percent'; value: number } } {
  const a = point.address;
  const samplingInterval = a.samplingInterval ?? connection.samplingInterval ?? connection.interval;
  return { samplingInterval, queueSize: a.queueSize ?? 1, ...(a.deadband !== undefined ? { deadband: a.deadband } : {}) };
}

/**
 * Subscribes `points` (already resolved) of `device`; bad nodes are pushed once as bad results.
 * Resolves when every monitored item was created.
 */
export async function subscribeDevice(
  host: SubscriptionHost,
  device: DeviceRef<OpcuaConnection>,
  points: readonly OPoint[],
  nodes: ReadonlyMap<string, ResolvedNode>,
  sink: SubscriptionSink,
): Promise<Subscription> {
  const { opcua, session } = host;
  const conn = device.connection;
  const bad: ReadResult[] = [];
  const groups = new Map<string, { params: ReturnType<typeof monitoringOf>; points: OPoint[] }>();
  for (const p of points) {
    const n = nodes.get(p.id);
    if (n === undefined || !n.ok) {
      if (n !== undefined) bad.push({ id: p.id, quality: 'bad', error: n.error, ts: host.now() });
      continue;
    }
    const params = monitoringOf(p, conn);
    const key = JSON.stringify(params);
    const g = groups.get(key);
    if (g) g.points.push(p);
    else groups.set(key, { params, points: [p] });
  }
  if (bad.length > 0) sink.values(device.name, bad);
  if (groups.size === 0) return { close: async () => undefined };

  const intervals = [...groups.values()].map((g) => g.params.samplingInterval);
  const publishingInterval = conn.publishingInterval ?? Math.max(10, Math.min(...intervals));
  const subscription: ClientSubscription = await session.createSubscription2({
    requestedPublishingInterval: publishingInterval,
    // Keep-alive every 10 publishing intervals; the server drops the subscription after 60
    // intervals without a Publish request (Part 4 §5.13.1.1: lifetime >= 3 × keep-alive).
    requestedMaxKeepAliveCount: 10,
    requestedLifetimeCount: 60,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 1,
  });
  let closed = false;
  const subscribed: string[] = [];
  /** Points whose monitored item the server refused (e.g. a deadband it does not support). */
  const failed: ReadResult[] = [];
  let pending: ReadResult[] = [];
  let flushScheduled = false;
  const push = (r: ReadResult) => {
    pending.push(r);
    if (flushScheduled) return;
    flushScheduled = true;
    // One sink call per notification burst rather than per item.
    setImmediate(() => {
      flushScheduled = false;
      const batch = pending;
      pending = [];
      if (closed || batch.length === 0) return;
      host.remember(device.name, batch);
      sink.values(device.name, batch);
    });
  };
  const died = (why: string) => {
    if (closed) return;
    closed = true;
    sink.error(device.name, { code: 'Offline', message: `subscription of ${device.name} ended: ${why}` });
    host.lost(`subscription of ${device.name} ended: ${why}`);
  };
  subscription.on('status_changed', (status: { name: string }) => {
    if (status.name !== 'Good') died(status.name);
  });
  subscription.on('terminated', () => died('terminated by the server or the session'));

  try {
    for (const g of groups.values()) {
      const { samplingInterval, queueSize, deadband } = g.params;
      const filter =
        deadband === undefined
          ? null
          : new opcua.DataChangeFilter({
              trigger: opcua.DataChangeTrigger.StatusValue,
              deadbandType: deadband.type === 'absolute' ? opcua.DeadbandType.Absolute : opcua.DeadbandType.Percent,
              deadbandValue: deadband.value,
            });
      const items = g.points.map((p) => ({
        nodeId: (nodes.get(p.id) as Extract<ResolvedNode, { ok: true }>).nodeId,
        attributeId: opcua.AttributeIds.Value,
        ...(p.address.indexRange !== undefined ? { indexRange: p.address.indexRange as never } : {}),
      }));
      const group = (await subscription.monitorItems(items, { samplingInterval, queueSize, discardOldest: true, filter }, opcua.TimestampsToReturn.Both)) as unknown as import('node-opcua-client').ClientMonitoredItemGroup;
      const monitored = (group as unknown as { monitoredItems: ClientMonitoredItemBase[] }).monitoredItems;
      monitored.forEach((item, i) => {
        const p = g.points[i]!;
        if (item.statusCode !== undefined && severity(item.statusCode) === 'bad') {
          failed.push({ id: p.id, quality: 'bad', error: statusError(p.name, item.statusCode, 'monitor'), ts: host.now() });
        } else subscribed.push(p.id);
      });
      group.on('changed', (_item: ClientMonitoredItemBase, dv: DataValue, index: number) => {
        const p = g.points[index];
        if (p !== undefined) push(resultOf(p, dv as never, host.now()));
      });
    }
  } catch (e) {
    closed = true;
    await subscription.terminate().catch(() => undefined);
    throw e;
  }
  if (failed.length > 0) sink.values(device.name, failed);

  return {
    close: async () => {
      if (closed) return;
      closed = true;
      host.forget(device.name, subscribed);
      await subscription.terminate().catch(() => undefined);
    },
  };
}
