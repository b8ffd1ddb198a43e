/**
 * Benchmark child: the BACnet simulators for every device of the bench configuration (each on
 * its configured UDP port of 127.0.0.1), in a process of their own so that their CPU is not
 * counted as the gateway's.
 *
 *   node --import tsx bench/bacnet/sim-child.ts <confDir> <poll|cov> <intervalMs> [changes]
 *
 * - poll: a device changes every value on the first ReadPropertyMultiple that comes at least half
 *   an interval after its last change, and sets `ts` to `Date.now()`: every poll sees new values,
 *   and the latency the subscriber measures starts when the gateway's poll reached the device
 *   (the gateway's own delay, without the wait for the next poll, which the configuration sets).
 * - cov: every interval each device changes `changes` of its values (default all; a rotating
 *   window), `ts` last, and notifies its subscribers at once; devices are staggered over the
 *   interval. The latency of `ts` includes the gateway's
 *   handling of the device's other notifications sent just before it.
 *
 * Requests: `start` (cov: begin changing values), `stats` (requests served by service,
 * notifications, value changes, subscriptions), `freeze` (values stop changing, in both modes).
 */
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { startBacnetSimulator } from '../../simulators/bacnet/index.ts';
import type { BacnetSimDevice } from '../../simulators/bacnet/index.ts';
import { runChild, serveParent } from '../lib/proc.ts';
import { TS_INSTANCE } from './conf.ts';

const [confDir, modeArg, intervalArg, changesArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
const mode = modeArg === 'cov' ? 'cov' : 'poll';

let changeCount = 0;
/** While true, no value changes (see `freeze`). */
let frozen = false;

/** Gives `changes` value objects of `dev` (default all) a new value (exact in a float32), then `ts` the time. */
function changer(dev: BacnetSimDevice, changes?: number): () => void {
  const objects = dev.objects();
  const values = objects.filter((o) => o.instance !== TS_INSTANCE);
  const ts = objects.find((o) => o.instance === TS_INSTANCE);
  if (ts === undefined) throw new Error(`${dev.name}: no ts object`);
  const n = Math.min(values.length, changes ?? values.length);
  let k = 0;
  return () => {
    if (frozen) return;
    k++;
    for (let j = 0; j < n; j++) {
      const i = (k * n + j) % values.length;
      values[i]!.setGenerated((k % 100_000) + i / 8);
    }
    ts.setGenerated(Date.now());
    changeCount++;
  };
}

/**
 * Runs `onRead` when the device counts a ReadPropertyMultiple: the simulator increments
 * `stats.readPropertyMultiple` before it builds the answer, so an accessor on that counter is a
 * hook that needs no change to the simulator.
 */
function onRpm(dev: BacnetSimDevice, onRead: () => void): void {
  let n = dev.stats.readPropertyMultiple;
  Object.defineProperty(dev.stats, 'readPropertyMultiple', {
    get: () => n,
    set: (v: number) => {
      n = v;
      onRead();
    },
    enumerable: true,
  });
}

async function main(): Promise<void> {
  if (confDir === undefined || !(intervalMs > 0)) throw new Error('usage: sim-child.ts <confDir> <poll|cov> <intervalMs>');
  const r = await loadConfig(confDir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const devices = r.instances.flatMap((i) => i.devices);
  const sim = await startBacnetSimulator({ devices, tickMs: 0, host: '127.0.0.1' });
  const timers: NodeJS.Timeout[] = [];
  // COV changes begin on `start`, once the gateway has subscribed (a flood of notifications
  // while it subscribes would delay the SubscribeCOV acknowledgements into timeouts).
  const covStarts: (() => void)[] = [];
  const list = sim.devices();
  list.forEach((dev, i) => {
    const change = changer(dev, changesArg === undefined ? undefined : Number(changesArg));
    if (mode === 'poll') {
      let last = Number.NEGATIVE_INFINITY;
      onRpm(dev, () => {
        const now = performance.now();
        if (now - last < intervalMs / 2) return;
        last = now;
        change();
      });
      return;
    }
    const offset = Math.floor((i * intervalMs) / list.length);
    covStarts.push(() =>
      timers.push(
        setTimeout(() => {
          const tick = () => {
            change();
            dev.notifyChanges();
          };
          tick();
          timers.push(setInterval(tick, intervalMs));
        }, offset),
      ),
    );
  });
  serveParent({
    start: () => {
      for (const f of covStarts.splice(0)) f();
    },
    freeze: () => {
      frozen = true;
    },
    stats: () => {
      const s = { readPropertyMultiple: 0, readProperty: 0, subscribeCov: 0, covNotifications: 0, subscriptions: 0, changes: changeCount };
      for (const d of list) {
        s.readPropertyMultiple += d.stats.readPropertyMultiple;
        s.readProperty += d.stats.readProperty;
        s.subscribeCov += d.stats.subscribeCov;
        s.covNotifications += d.stats.covNotifications;
        s.subscriptions += d.subscriptions.size;
      }
      return s;
    },
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await sim.stop();
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', devices: devices.length, objects: list.reduce((n, d) => n + d.objects().length, 0) });
}

runChild(main);
