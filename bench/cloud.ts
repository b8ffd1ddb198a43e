/**
 * Cloud sync benchmark: prints figures, asserts nothing.
 *   node --import tsx bench/cloud.ts [--seconds 60] [--points 10000] [--per-message 10] [--devices 100]
 *                                    [--drain-rate 1000000] [--in-flight 1000] [--updates 1000000]
 *                                    [--cloud-in-process]
 * 1. Outbox drain after a backlog: with the cloud simulator down, `seconds` of `points` property
 *    updates per second are reported (store.report + CloudSync.reported, `per-message` updates per
 *    report message, devices in round robin); then the cloud comes back and the backlog drains to it.
 *    Prints the backlog (messages, MB), the append cost, messages/s of the drain and how long it took.
 *    The cloud simulator (its broker and shadows) runs in a child process, as a real cloud would be
 *    elsewhere, so the CPU printed is the gateway side's alone; `--cloud-in-process` puts it in this
 *    process instead (the figure of the first runs: everything shares one thread).
 *    The figure is `--seconds 600` (10 minutes at 10,000 points/s = 6M points).
 * 2. Shadow write cost: CPU per million property updates, store.report alone and with the cloud
 *    outbox append (CloudSync.reported), batches committing in the background as in the gateway.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '../src/drivers/sdk/types.ts';
import { openShadowStore } from '../src/shadow/store.ts';
import type { ShadowStore } from '../src/shadow/store-api.ts';
import type { PropertyUpdate } from '../src/shadow/state.ts';
import { CloudSync } from '../src/shadow/sync/cloud-sync.ts';
import { startCloudSimulator } from '../simulators/cloud/index.ts';
import { startCloudChild } from './lib/cloud-child.ts';
import type { CloudHandle } from './lib/cloud-child.ts';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    points: { type: 'string', default: '10000' },
    'per-message': { type: 'string', default: '10' },
    devices: { type: 'string', default: '100' },
    'drain-rate': { type: 'string', default: '1000000' },
    'in-flight': { type: 'string', default: '1000' },
    updates: { type: 'string', default: '1000000' },
    'cloud-in-process': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(a.seconds);
const POINTS = Number(a.points);
const PER_MESSAGE = Number(a['per-message']);
const DEVICES = Number(a.devices);
const DRAIN_RATE = Number(a['drain-rate']);
const IN_FLIGHT = Number(a['in-flight']);
const UPDATES = Number(a.updates);
const CLOUD_IN_PROCESS = a['cloud-in-process'] === true;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o), child: () => quiet };
const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d });
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function updates(round: number): Record<string, PropertyUpdate> {
  const ts = Date.now();
  const out: Record<string, PropertyUpdate> = {};
  for (let k = 0; k < PER_MESSAGE; k++) out[`p${k}`] = { value: round * 1000 + k, ts, quality: 'good' };
  return out;
}

async function waitFor(pred: () => boolean, ms: number, refresh: () => Promise<void>): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
    await refresh();
  }
  return true;
}

/** The in-process simulator behind the same handle as the child. */
function inProcessCloud(sim: Awaited<ReturnType<typeof startCloudSimulator>>): CloudHandle {
  return {
    url: sim.url,
    stop: () => sim.stop(),
    start: () => sim.start(),
    stats: () => Promise.resolve(sim.stats()),
    close: () => sim.close(),
  };
}

async function drainBench(dir: string): Promise<void> {
  const messages = Math.ceil((SECONDS * POINTS) / PER_MESSAGE);
  console.log(`\n== outbox drain: ${f(SECONDS)} s at ${f(POINTS)} points/s = ${f(SECONDS * POINTS)} points = ${f(messages)} messages of ${PER_MESSAGE} points, ${DEVICES} devices`);
  const cloud: CloudHandle = CLOUD_IN_PROCESS ? inProcessCloud(await startCloudSimulator({ port: 0 })) : await startCloudChild();
  await cloud.stop();
  const store = openShadowStore(join(dir, 'drain.db'), { batchMs: 50, outboxMax: messages * 2 });
  const sync = new CloudSync({
    link: { url: cloud.url, clientId: 'bench', reconnectMinMs: 50, reconnectMaxMs: 200 },
    node: 'bench',
    store,
    log: quiet,
    drainRatePerSec: DRAIN_RATE,
    maxInFlight: IN_FLIGHT,
  });
  sync.start();
  const names = Array.from({ length: DEVICES }, (_, i) => `dev-${i}`);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) {
    const d = names[i % DEVICES]!;
    const u = updates(Math.floor(i / DEVICES));
    store.report(d, u);
    sync.reported(d, u);
    if (i % 5000 === 4999) await tick(); // let the batches commit, as they would between polls
  }
  store.flush();
  const appendMs = performance.now() - t0;
  const appendCpu = cpuMs(process.cpuUsage(c0));
  const bytes = statSync(join(dir, 'drain.db')).size + (statSync(join(dir, 'drain.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
  console.log(`backlog built: ${f(store.stats().outbox.size)} rows, database ${f(bytes / 1e6)} MB; ${f(appendMs)} ms wall, ${f(appendCpu)} ms CPU (${f((appendCpu * 1e6) / (messages * PER_MESSAGE))} ms CPU per million points incl. outbox)`);

  await cloud.start();
  const d0 = performance.now();
  const c1 = process.cpuUsage();
  let s = await cloud.stats();
  const ok = await waitFor(() => s.reports >= messages && store.stats().outbox.size === 0, 600_000, async () => {
    s = await cloud.stats();
  });
  const drainMs = performance.now() - d0;
  const drainCpu = cpuMs(process.cpuUsage(c1));
  console.log(
    `drain${ok ? '' : ' (TIMED OUT)'}: ${f(s.reports)} messages at the cloud in ${f(drainMs / 1000, 2)} s = ${f((s.reports * 1000) / drainMs, 0)} messages/s ` +
      `(${f((s.reports * PER_MESSAGE * 1000) / drainMs, 0)} points/s); cap ${f(DRAIN_RATE)}/s, in flight ${IN_FLIGHT}; ` +
      `duplicates ${s.duplicates}, gaps ${s.gaps}; CPU ${f(drainCpu)} ms = ${f((drainCpu * 1000) / Math.max(1, s.reports), 1)} µs per message ` +
      (CLOUD_IN_PROCESS ? '(gateway, broker and cloud share this process)' : '(gateway side only; the cloud runs in its own process)'),
  );
  const cloudCpu = cloud.cpu?.();
  if (cloudCpu !== undefined) console.log(`cloud simulator process: ${f(cloudCpu, 2)} CPU s in all (its broker and shadows)`);
  await sync.stop();
  store.close();
  await cloud.close();
}

async function writeCost(dir: string, withSync: boolean): Promise<void> {
  const store: ShadowStore = openShadowStore(join(dir, `write-${withSync}.db`), { batchMs: 50, outboxMax: UPDATES });
  const sync = withSync
    ? new CloudSync({ link: { url: 'mqtt://127.0.0.1:1', clientId: 'bench-w' }, node: 'bench', store, log: quiet })
    : undefined; // never started: only the outbox append is measured
  const names = Array.from({ length: DEVICES }, (_, i) => `dev-${i}`);
  const rounds = Math.ceil(UPDATES / PER_MESSAGE);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const d = names[i % DEVICES]!;
    const u = updates(Math.floor(i / DEVICES));
    store.report(d, u);
    sync?.reported(d, u);
    if (i % 5000 === 4999) await tick();
  }
  store.flush();
  const cpu = cpuMs(process.cpuUsage(c0));
  const wall = performance.now() - t0;
  const n = rounds * PER_MESSAGE;
  console.log(
    `${withSync ? 'store.report + CloudSync.reported (outbox)' : 'store.report only'}: ${f(n)} updates in ${f(wall)} ms wall = ${f((n * 1000) / wall, 0)} updates/s; ` +
      `${f((cpu * 1e6) / n)} ms CPU per million updates`,
  );
  store.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-cloud-'));
  try {
    await drainBench(dir);
    console.log(`\n== shadow write cost: ${f(UPDATES)} property updates, ${PER_MESSAGE} per report, ${DEVICES} devices`);
    await writeCost(dir, false);
    await writeCost(dir, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
