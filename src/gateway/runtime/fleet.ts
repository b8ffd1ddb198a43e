/**
 * The running devices: driver instances, their links (one per shared connection), one
 * DeviceRuntime and poll timer per sub-device, and subscriptions. `apply` takes a new set of
 * compiled instances and changes only what differs (hot reload): unchanged devices keep polling
 * without a gap; changed ones restart; removed ones stop and go offline.
 */
import path from 'node:path';
import type { CompiledDevice, CompiledInstance } from '../../devicemodel/compiled.ts';
import type { BaseConnection, Clock, Driver, DriverContext, DriverDescriptor, Logger, Session, Subscription } from '../../drivers/sdk/index.ts';
import type { DriverRegistry } from '../drivers/registry.ts';
import { DeviceRuntime } from './device.ts';
import type { DeviceOptions, DevicePublisher, ShadowSink } from './device.ts';
import { Link } from './link.ts';
import type { PolicyOptions } from './report-policy.ts';
import { PollTimer, staggerOffset } from './scheduler.ts';

type AnyDescriptor = DriverDescriptor<BaseConnection, unknown>;

export interface FleetOptions {
  readonly registry: DriverRegistry;
  /** Raw publishes of drivers (DriverContext.publish), on the gateway's broker link. */
  readonly publish?: DriverContext['publish'];
  /** The descriptor of an instance (default: the registry's driver of its id). */
  readonly descriptorFor?: (inst: CompiledInstance) => Promise<DriverDescriptor<BaseConnection, unknown> | undefined>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly dataDir: string;
  readonly signal: AbortSignal;
  readonly publisher: DevicePublisher;
  readonly policy: PolicyOptions;
  readonly offlineAfter: number;
  readonly shadow?: ShadowSink;
  readonly onPolled?: DeviceOptions['onPolled'];
  readonly onOnline?: DeviceOptions['onOnline'];
}

interface InstanceState {
  readonly instance: CompiledInstance;
  readonly descriptor: AnyDescriptor;
  readonly driver: Driver<BaseConnection, unknown>;
}

interface LinkState {
  readonly link: Link<BaseConnection>;
  readonly peers: DeviceRuntime[];
  readonly descriptor: AnyDescriptor;
}

/** What a reload changed, by device name. */
export interface ReloadSummary {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
}

export class Fleet {
  readonly devices = new Map<string, DeviceRuntime>();
  readonly links = new Map<string, Link<BaseConnection>>();
  readonly timers = new Map<string, PollTimer>();
  private readonly instances = new Map<string, InstanceState>();
  private readonly linkStates = new Map<string, LinkState>();
  private readonly deviceLink = new Map<string, string>();
  private readonly fingerprints = new Map<string, string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private started = false;

  constructor(private readonly opts: FleetOptions) {}

  /** Drivers in use with their instances and device counts. */
  drivers(): { descriptor: AnyDescriptor; instances: string[]; devices: number }[] {
    const out = new Map<string, { descriptor: AnyDescriptor; instances: string[]; devices: number }>();
    for (const s of this.instances.values()) {
      const e = out.get(s.descriptor.id) ?? { descriptor: s.descriptor, instances: [], devices: 0 };
      e.instances.push(s.instance.name);
      e.devices += s.instance.devices.length;
      out.set(s.descriptor.id, e);
    }
    return [...out.values()];
  }

  linkOf(device: string): Link<BaseConnection> | undefined {
    const key = this.deviceLink.get(device);
    return key === undefined ? undefined : this.links.get(key);
  }

  /** First start: create everything, then connect links and start timers (staggered). */
  async start(instances: readonly CompiledInstance[]): Promise<void> {
    for (const inst of instances) {
      const s = await this.openInstance(inst);
      for (const d of inst.devices) this.addDevice(s, d);
    }
    this.started = true;
    for (const l of this.links.values()) l.start();
    const byInterval = new Map<number, DeviceRuntime[]>();
    for (const d of this.devices.values()) {
      const g = byInterval.get(d.ref.connection.interval) ?? [];
      g.push(d);
      byInterval.set(d.ref.connection.interval, g);
    }
    for (const [interval, group] of byInterval) group.forEach((d, i) => this.startTimer(d, staggerOffset(i, group.length, interval)));
  }

  /**
   * Applies a new configuration: only devices whose compiled definition changed (or whose
   * instance's driver changed) are restarted. The caller has validated `instances` as a whole.
   */
  async apply(instances: readonly CompiledInstance[]): Promise<ReloadSummary> {
    const next = new Map<string, { inst: CompiledInstance; device: CompiledDevice }>();
    for (const inst of instances) for (const d of inst.devices) next.set(d.name, { inst, device: d });
    const summary: ReloadSummary = { added: [], removed: [], changed: [], unchanged: [] };
    for (const name of [...this.devices.keys()]) {
      const n = next.get(name);
      if (n === undefined) {
        await this.removeDevice(name, true);
        summary.removed.push(name);
      } else if (fingerprint(n.inst, n.device) !== this.fingerprints.get(name)) {
        await this.removeDevice(name, false);
        summary.changed.push(name);
      } else summary.unchanged.push(name);
    }
    // Instances: replace those whose driver or folder changed and that lost all their devices.
    for (const inst of instances) {
      const cur = this.instances.get(inst.name);
      if (cur !== undefined && (cur.instance.driver !== inst.driver || cur.instance.driverConfig !== inst.driverConfig)) {
        for (const d of cur.instance.devices) if (this.devices.has(d.name)) await this.removeDevice(d.name, false);
        await cur.driver.close?.();
        this.instances.delete(inst.name);
      }
    }
    for (const [name, cur] of [...this.instances]) {
      if (!instances.some((i) => i.name === name)) {
        await cur.driver.close?.();
        this.instances.delete(name);
      }
    }
    for (const inst of instances) {
      const s = this.instances.get(inst.name) ?? (await this.openInstance(inst));
      this.instances.set(inst.name, { ...s, instance: inst });
      for (const d of inst.devices) {
        if (this.devices.has(d.name)) continue;
        if (!summary.changed.includes(d.name)) summary.added.push(d.name);
        const rt = this.addDevice(this.instances.get(inst.name)!, d);
        const ls = this.linkStates.get(this.deviceLink.get(d.name)!)!;
        if (ls.link.state === 'idle') ls.link.start();
        else if (ls.link.current) this.subscribe(ls.descriptor, ls.link.current, rt);
        this.startTimer(rt, hashOffset(d.name, rt.ref.connection.interval));
      }
    }
    return summary;
  }

  /** What {@link apply} would do with `instances`, without doing it. */
  plan(instances: readonly CompiledInstance[]): ReloadSummary {
    const next = new Map<string, string>();
    for (const inst of instances) for (const d of inst.devices) next.set(d.name, fingerprint(inst, d));
    const summary: ReloadSummary = { added: [], removed: [], changed: [], unchanged: [] };
    for (const name of this.devices.keys()) {
      const f = next.get(name);
      if (f === undefined) summary.removed.push(name);
      else if (f !== this.fingerprints.get(name)) summary.changed.push(name);
      else summary.unchanged.push(name);
    }
    for (const name of next.keys()) if (!this.devices.has(name)) summary.added.push(name);
    return summary;
  }

  /** Stops every timer and closes links and drivers; publishes nothing (the caller does). */
  async stop(): Promise<void> {
    for (const t of this.timers.values()) t.stop();
    await Promise.allSettled([...this.subscriptions.values()].map((s) => s.close()));
    await Promise.allSettled([...this.links.values()].map((l) => l.close()));
    await Promise.allSettled([...this.instances.values()].map((s) => s.driver.close?.()));
  }

  private async openInstance(inst: CompiledInstance): Promise<InstanceState> {
    const descriptor = (await (this.opts.descriptorFor?.(inst) ?? this.opts.registry.get(inst.driver))) as AnyDescriptor | undefined;
    if (descriptor === undefined) throw new Error(`driver ${inst.driver} of instance ${inst.name} is not available`);
    const ctx: DriverContext = {
      log: this.opts.log.child({ driver: descriptor.id, instance: inst.name }),
      clock: this.opts.clock,
      metrics: { count: () => undefined },
      signal: this.opts.signal,
      dataDir: path.join(this.opts.dataDir, 'drivers', inst.name),
      ...(this.opts.publish !== undefined ? { publish: this.opts.publish } : {}),
    };
    const s = { instance: inst, descriptor, driver: descriptor.create(ctx) };
    this.instances.set(inst.name, s);
    return s;
  }

  private addDevice(s: InstanceState, device: CompiledDevice): DeviceRuntime {
    if (this.devices.has(device.name)) throw new Error(`device name ${device.name} is used twice (instances must not share names)`);
    const connection = device.connection as BaseConnection;
    const spec = s.descriptor.link(connection);
    const key = `${s.instance.name}/${spec.key}`;
    let ls = this.linkStates.get(key);
    if (ls === undefined) {
      const peers: DeviceRuntime[] = [];
      const descriptor = s.descriptor;
      const link = new Link<BaseConnection>({
        key,
        window: spec.window,
        driver: s.driver,
        connection,
        clock: this.opts.clock,
        log: this.opts.log.child({ link: key }),
        deviceCount: () => peers.length,
        onState: (state, error) => {
          if (state === 'backoff' || state === 'closed') for (const d of peers) void d.linkDown(error);
        },
        onSession: (session) => {
          for (const d of peers) this.subscribe(descriptor, session, d);
        },
      });
      ls = { link, peers, descriptor };
      this.linkStates.set(key, ls);
      this.links.set(key, link);
    }
    const o = this.opts;
    const runtime = new DeviceRuntime({
      device,
      descriptor: s.descriptor,
      link: ls.link,
      publisher: o.publisher,
      clock: o.clock,
      log: o.log.child({ device: device.name }),
      policy: o.policy,
      offlineAfter: o.offlineAfter,
      ...(o.shadow ? { shadow: o.shadow } : {}),
      ...(o.onPolled ? { onPolled: o.onPolled } : {}),
      ...(o.onOnline ? { onOnline: o.onOnline } : {}),
    });
    this.devices.set(device.name, runtime);
    this.deviceLink.set(device.name, key);
    this.fingerprints.set(device.name, fingerprint(s.instance, device));
    ls.peers.push(runtime);
    return runtime;
  }

  private async removeDevice(name: string, publishOffline: boolean): Promise<void> {
    const d = this.devices.get(name);
    if (d === undefined) return;
    this.timers.get(name)?.stop();
    this.timers.delete(name);
    await this.subscriptions.get(name)?.close().catch(() => undefined);
    this.subscriptions.delete(name);
    const key = this.deviceLink.get(name)!;
    const ls = this.linkStates.get(key)!;
    ls.peers.splice(ls.peers.indexOf(d), 1);
    if (ls.peers.length === 0) {
      await ls.link.close();
      this.linkStates.delete(key);
      this.links.delete(key);
    }
    this.devices.delete(name);
    this.deviceLink.delete(name);
    this.fingerprints.delete(name);
    if (publishOffline && d.isOnline) await d.linkDown({ code: 'Offline', message: 'removed from the configuration' });
  }

  private startTimer(d: DeviceRuntime, offset: number): void {
    const timer = new PollTimer({
      clock: this.opts.clock,
      interval: d.ref.connection.interval,
      offset,
      poll: () => d.poll(),
      onOverrun: (n) => {
        d.counters.overruns += n;
      },
    });
    this.timers.set(d.name, timer);
    if (this.started) timer.start();
  }

  /** After every (re)connect, subscribe a device when the driver can push values. */
  private subscribe(descriptor: AnyDescriptor, session: Session<BaseConnection, unknown>, d: DeviceRuntime): void {
    if (!descriptor.capabilities.subscribe || session.subscribe === undefined) return;
    const conn = d.ref.connection as BaseConnection & { subscribe?: boolean };
    if (conn.subscribe === false) return;
    const points = d.device.points.map((p) => ({ id: p.id, name: p.name, type: p.type, address: p.address }));
    const log = this.opts.log;
    session
      .subscribe(d.ref, points, {
        values: (_device, results) => void d.pushed(results).catch((e: unknown) => log.debug({ device: d.name, err: String(e) }, 'pushed values dropped')),
        error: (_device, error) => log.warn({ device: d.name, code: error.code, error: error.message }, 'subscription error'),
        event: (_device, events, ts) =>
          void d.raised(events, ts).catch((e: unknown) => log.warn({ device: d.name, err: String(e) }, 'event not published')),
      })
      .then(
        (sub) => {
          if (this.devices.get(d.name) !== d) return void sub.close().catch(() => undefined);
          this.subscriptions.set(d.name, sub);
        },
        (e: unknown) => log.warn({ device: d.name, err: String(e) }, 'subscribe failed'),
      );
  }
}

/** A device's identity for reload: everything compiled about it plus its instance's driver. */
function fingerprint(inst: CompiledInstance, d: CompiledDevice): string {
  return JSON.stringify({ driver: inst.driver, instance: inst.name, config: inst.driverConfig, d }, (_k, v: unknown) => {
    if (v instanceof Map) return [...v.entries()];
    if (typeof v === 'bigint') return `${v}n`;
    return v;
  });
}

/** A stable offset for a device added at run time. */
function hashOffset(name: string, interval: number): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % Math.max(1, interval);
}
