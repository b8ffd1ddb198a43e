/**
 * BACnet/IP end-to-end benchmark (issue 5, "Benchmark"): prints figures, asserts nothing.
 *
 *   npm run bench:bacnet -- [--devices 50] [--objects 200] [--interval 1s] [--duration 30s]
 *     [--warmup 5s] [--mode both|poll|cov] [--window 4] [--sparse 20] [--profile] [--no-docs]
 *
 * Processes, all on 127.0.0.1 and all killed at the end (also on Ctrl-C and errors):
 * - the simulators (bench/bacnet/sim-child.ts): every device on its own UDP port;
 * - the gateway (bench/lib/gateway-child.ts), as `fieldgate run` starts it, with its embedded
 *   broker; its CPU from /proc/<pid>/stat, its RSS at the start and end of the measured window,
 *   its live heap after a full GC at the end, and the BACnet sessions' COV queue counters;
 * - a subscriber (bench/lib/subscriber-child.ts) counting the points it receives and the latency
 *   from each device's `ts` object (the simulator's clock when it changed the values).
 * Runs, each with fresh simulators and gateway: polling with ReadPropertyMultiple every
 * `--interval`; COV (every object subscribed; the simulators change every value every interval
 * and notify); and COV again with only `--sparse` objects per device changing per interval (0 =
 * no such run), the load COV is meant for. Figures count only `--duration` after `--warmup`. The table also goes to
 * the `## BACnet/IP` section of docs/performance.md (unless --no-docs).
 */
import dgram from 'node:dgram';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/devicemodel/duration.ts';
import { summarizeProfile } from './lib/cpuprofile.ts';
import { Child, cpuSeconds, freePort, installCleanup, killAll, memoryMb } from './lib/proc.ts';
import { machine } from './lib/report.ts';
import { rewriteMode, writeBacnetBenchConf } from './bacnet/conf.ts';
import type { BacnetBenchLayout, BacnetBenchMode } from './bacnet/conf.ts';
import { bacnetTable, HEADING, writeBacnetSection } from './bacnet/report.ts';
import type { BacnetRun } from './bacnet/report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opt } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    objects: { type: 'string', default: '200' },
    interval: { type: 'string', default: '1s' },
    duration: { type: 'string', default: '30s' },
    warmup: { type: 'string', default: '5s' },
    mode: { type: 'string', default: 'both' },
    window: { type: 'string', default: '4' },
    sparse: { type: 'string', default: '20' },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

const USAGE = 'usage: npm run bench:bacnet -- [--devices 50] [--objects 200] [--interval 1s] [--duration 30s] [--warmup 5s] [--mode both|poll|cov] [--window 4] [--sparse 20] [--profile] [--no-docs]';

function ms(name: string, v: string): number {
  const x = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : parseDuration(v);
  if (x === undefined || !(x > 0)) throw new Error(`--${name}: expected a duration such as 1s, 500ms, 2m (a bare number is seconds), got ${v}`);
  return x;
}
function int(name: string, v: string, min: number, max: number): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < min || x > max) throw new Error(`--${name}: expected an integer in ${min}..${max}, got ${v}`);
  return x;
}

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const num = (m: Record<string, unknown>, k: string) => Number(m[k] ?? Number.NaN);

/** A UDP port of 127.0.0.1 that is free now. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 250 ms until it is true; throws after `ms` with `what`. */
async function until(check: () => Promise<boolean>, msec: number, what: () => Promise<string>): Promise<void> {
  const end = Date.now() + msec;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${msec / 1000} s: ${await what()}`);
    await sleep(250);
  }
}

/** One measured run: the mode, and how many value objects per device change per interval. */
interface RunSpec {
  mode: BacnetBenchMode;
  changes: number;
}

interface Settings {
  layout: BacnetBenchLayout;
  runs: RunSpec[];
  durationMs: number;
  warmupMs: number;
  /** Run the gateway's CPU profiler over the measured window and print its top functions. */
  profile: boolean;
  docs: boolean;
}

async function runMode(s: Settings, spec: RunSpec, dir: string, ports: readonly number[], tmp: string): Promise<BacnetRun> {
  const l = s.layout;
  const { mode, changes } = spec;
  rewriteMode(dir, l, ports, mode, await freePort());
  log(`${mode}: simulators starting${changes < l.objects ? ` (${changes} of ${l.objects} objects changing)` : ''}`);
  const { child: sim } = await Child.start(`simulators-${mode}`, path.join(ROOT, 'bench', 'bacnet', 'sim-child.ts'), [dir, mode, String(l.intervalMs), String(changes)], { log: path.join(tmp, `simulators-${mode}-${changes}.log`) });
  log(`${mode}: gateway starting`);
  const profFile = path.join(tmp, `gateway-${mode}.cpuprofile`);
  const { child: gw, ready } = await Child.start(`gateway-${mode}`, path.join(ROOT, 'bench', 'lib', 'gateway-child.ts'), s.profile ? [dir, profFile] : [dir], { log: path.join(tmp, `gateway-${mode}.log`), nodeArgs: ['--expose-gc'] });
  const objects = l.devices * (l.objects + 1);
  // Every link online; with COV also every object subscribed.
  await until(
    async () => {
      const c = await gw.request('stats');
      if (num(c, 'linksOnline') !== num(c, 'links')) return false;
      return mode === 'poll' || num(await sim.request('stats'), 'subscriptions') >= objects;
    },
    180_000,
    async () => `gateway ${JSON.stringify(await gw.request('stats'))}, simulators ${JSON.stringify(await sim.request('stats'))}; see ${gw.log}`,
  );
  await sim.request('start');
  const { child: sub } = await Child.start(`subscriber-${mode}`, path.join(ROOT, 'bench', 'lib', 'subscriber-child.ts'), [String(ready.brokerUrl)], { log: path.join(tmp, `subscriber-${mode}.log`) });
  log(`${mode}: ${String(ready.devices)} devices on ${String(ready.links)} links online; warming up ${s.warmupMs / 1000} s`);
  await sleep(s.warmupMs);

  const g0 = await gw.request('stats');
  const s0 = await sim.request('stats');
  const cpu0 = cpuSeconds(gw.pid);
  const simCpu0 = cpuSeconds(sim.pid);
  const cov0 = await gw.request('bacnetCov');
  const rssStart = memoryMb(gw.pid).rss;
  await sub.request('start');
  if (s.profile) await gw.request('profileStart');
  const t0 = performance.now();
  let rss = 0;
  log(`${mode}: measuring ${s.durationMs / 1000} s`);
  for (let left = s.durationMs; left > 0; left -= 1000) {
    await sleep(Math.min(1000, left));
    rss = Math.max(rss, memoryMb(gw.pid).rss);
  }
  const st = await sub.request('stats');
  const cpu1 = cpuSeconds(gw.pid);
  const simCpu1 = cpuSeconds(sim.pid);
  const seconds = (performance.now() - t0) / 1000;
  const g1 = await gw.request('stats');
  const s1 = await sim.request('stats');
  const cov1 = await gw.request('bacnetCov');
  const rssEnd = memoryMb(gw.pid).rss;
  const peak = memoryMb(gw.pid).hwm;
  const heap = await gw.request('liveHeap', {}, 60_000);
  if (s.profile) {
    await gw.request('profileStop', {}, 120_000);
    printProfile(profFile);
  }
  await sub.stop();
  await gw.stop();
  await sim.stop();

  const points = num(st, 'points');
  const cpuS = cpu1 - cpu0;
  const d = (k: string, a: Record<string, unknown>, b: Record<string, unknown>) => num(b, k) - num(a, k);
  const requests = mode === 'poll' ? d('readPropertyMultiple', s0, s1) + d('readProperty', s0, s1) : d('covNotifications', s0, s1);
  const run: BacnetRun = {
    mode,
    changes,
    objects: l.objects,
    seconds,
    pointsPerSec: points / num(st, 'elapsed'),
    minPerSecond: num(st, 'minPerSecond'),
    reportsPerSec: num(st, 'messages') / num(st, 'elapsed'),
    requestsPerSec: requests / seconds,
    cpuS,
    cpuPerMillion: cpuS / (points / 1e6),
    rssMb: rss,
    peakRssMb: peak,
    p50: num(st, 'p50'),
    p99: num(st, 'p99'),
    maxLatency: num(st, 'max'),
    latencySamples: num(st, 'latencyCount'),
    polls: d('polls', g0, g1),
    failedPolls: d('failedPolls', g0, g1),
    overruns: d('overruns', g0, g1),
    badPoints: d('badPoints', g0, g1),
    simCpuS: simCpu1 - simCpu0,
    rssStartMb: rssStart,
    rssEndMb: rssEnd,
    liveHeapMb: num(heap, 'heapUsedMb'),
    cov: {
      receivedPerSec: d('received', cov0, cov1) / seconds,
      deliveredPerSec: d('delivered', cov0, cov1) / seconds,
      coalescedPerSec: d('coalesced', cov0, cov1) / seconds,
      socketDropsPerSec: d('socketDrops', cov0, cov1) / seconds,
      maxPending: num(cov1, 'maxPending'),
      subscriptions: num(cov1, 'subscriptions'),
    },
  };
  log(
    `${mode}: ${Math.round(run.pointsPerSec)} points/s, ${Math.round(run.requestsPerSec)} ${mode === 'poll' ? 'requests' : 'notifications'}/s, CPU ${cpuS.toFixed(1)} s in ${seconds.toFixed(1)} s ` +
      `(${run.cpuPerMillion.toFixed(2)} s/M points), p50 ${run.p50} ms, p99 ${run.p99} ms over ${run.latencySamples} samples, polls ${run.polls}, failed ${run.failedPolls}, bad points ${run.badPoints}, devices seen ${String(st.devices)}; ` +
      `RSS ${rssStart.toFixed(1)} → ${rssEnd.toFixed(1)} MB, live heap ${run.liveHeapMb.toFixed(1)} MB` +
      (mode === 'cov' ? `; COV queue ${JSON.stringify(run.cov, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}` : ''),
  );
  return run;
}

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

/** One COV run in words: what the devices sent, what the driver kept, dropped and delivered, memory. */
function covBullet(r: BacnetRun, poll: BacnetRun | undefined): string {
  const c = r.cov;
  return (
    `- COV with ${r.changes === r.objects ? 'every object' : `${r.changes} of ${r.objects} objects`} changing: the devices sent ${n0(r.requestsPerSec)} notifications/s; ` +
    `the driver received ${n0(c.receivedPerSec)}/s (the kernel dropped ${n0(c.socketDropsPerSec)}/s on the sockets), coalesced ${n0(c.coalescedPerSec)}/s and delivered ${n0(c.deliveredPerSec)}/s, ` +
    `with at most ${n0(c.maxPending)} notifications waiting on a link (${n0(c.subscriptions)} subscriptions); the subscriber received ${n0(r.pointsPerSec)} points/s in ${n0(r.reportsPerSec)} reports/s. ` +
    `Gateway CPU ${r.cpuPerMillion.toFixed(0)} s per million points${poll ? ` against ${poll.cpuPerMillion.toFixed(0)} when polling` : ''}; RSS ${r.rssStartMb.toFixed(0)} MB at the start of the measured window, ${r.rssEndMb.toFixed(0)} MB at its end, live heap ${r.liveHeapMb.toFixed(0)} MB after a full GC.`
  );
}

function printProfile(file: string): void {
  const { totalMs, busyMs, rows } = summarizeProfile(file, ROOT, 20);
  process.stdout.write(`\nGateway CPU profile (${file}): ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy; top self time:\n| self % of busy | self ms | function |\n|---:|---:|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.pctBusy.toFixed(1)} | ${r.selfMs.toFixed(0)} | ${r.where} |\n`);
}

function commandLine(): string {
  const args = process.argv.slice(2);
  return args.length === 0 ? 'npm run bench:bacnet' : `npm run bench:bacnet -- ${args.join(' ')}`;
}

async function main(): Promise<void> {
  if (opt.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const mode = opt.mode;
  if (mode !== 'both' && mode !== 'poll' && mode !== 'cov') throw new Error(`--mode: both, poll or cov, got ${mode}`);
  const intervalMs = ms('interval', opt.interval);
  const s: Settings = {
    layout: {
      devices: int('devices', opt.devices, 1, 2000),
      objects: int('objects', opt.objects, 1, 5000),
      intervalMs,
      timeoutMs: Math.max(1000, intervalMs),
      window: int('window', opt.window, 1, 32),
    },
    runs: [],
    durationMs: ms('duration', opt.duration),
    warmupMs: ms('warmup', opt.warmup),
    profile: opt.profile,
    docs: !opt['no-docs'] && !opt.profile,
  };
  const l = s.layout;
  const sparse = int('sparse', opt.sparse, 0, l.objects);
  if (mode !== 'cov') s.runs.push({ mode: 'poll', changes: l.objects });
  if (mode !== 'poll') {
    s.runs.push({ mode: 'cov', changes: l.objects });
    if (sparse > 0 && sparse < l.objects) s.runs.push({ mode: 'cov', changes: sparse });
  }
  const m = machine();
  const ports: number[] = [];
  for (let i = 0; i < l.devices; i++) ports.push(await freeUdpPort());
  const dir = writeBacnetBenchConf(l, ports, s.runs[0]!.mode, await freePort());
  const tmp = path.join(dir, 'bench');
  mkdirSync(tmp);
  installCleanup(() => rmSync(dir, { recursive: true, force: true }));
  log(`${l.devices} devices × ${l.objects} objects (+ ts) every ${l.intervalMs} ms, runs ${s.runs.map((r) => `${r.mode}${r.changes < l.objects ? ` (${r.changes} changing)` : ''}`).join(', ')}; config and logs in ${dir}`);
  log(`machine: ${m.nproc} cores, ${m.model}, load ${m.load}`);
  const started = new Date();
  let ok = false;
  try {
    const runs: BacnetRun[] = [];
    for (const r of s.runs) runs.push(await runMode(s, r, dir, ports, tmp));
    const table = bacnetTable(runs);
    const section = [
      HEADING,
      '',
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.nproc} cores (${m.model}), Node ${m.node}; load average at start ${m.load} (the machine is shared, so figures vary between runs).`,
      '',
      `Command: \`${commandLine()}\``,
      '',
      `Options: ${l.devices} simulated devices × ${l.objects} analog-input objects (float32) + one large-analog-value \`ts\` object (float64), every value changing every ${l.intervalMs} ms (in the sparse COV run, only the number of objects its row names); ` +
        `one UDP port and one link per device on 127.0.0.1, max-APDU 1476 without segmentation, status-flags read with every present-value, window ${l.window}, timeout ${l.timeoutMs} ms; ` +
        `warm-up ${s.warmupMs / 1000} s, measured for ${s.durationMs / 1000} s per run.`,
      '',
      table,
      '',
      ...runs.filter((r) => r.mode === 'cov').map((r) => covBullet(r, runs.find((x) => x.mode === 'poll'))),
      '',
      'How it is measured: simulators, gateway (with its embedded aedes broker) and an MQTT subscriber each run in their own process on 127.0.0.1. Points/s counts the properties the subscriber receives on `thing/+/+/property/post`. ' +
        'Gateway CPU is utime+stime of its process from /proc (the broker runs inside it and is counted). Requests/s are those the simulated devices served: ReadPropertyMultiple (and ReadProperty) when polling, COV notifications sent with COV. ' +
        "Latency runs from the simulator's clock when it changed a device's values to the subscriber's receipt of that device's `ts`: when polling the values change at the first ReadPropertyMultiple of each interval, so the wait for the next poll (0 to one interval) is not included; " +
        "with COV the devices change every value each interval (staggered over it) and notify at once, and `ts` is notified last, so its latency includes the gateway's handling of the device's other notifications. " +
        "With COV the devices' poll interval is an hour: the measured window sees COV traffic only.",
    ].join('\n');
    process.stdout.write(`\n${table}\n\n${commandLine()}\n`);
    if (s.docs) {
      const file = path.join(ROOT, 'docs', 'performance.md');
      writeBacnetSection(file, section);
      log(`wrote the ${HEADING.slice(3)} section of ${path.relative(process.cwd(), file)}`);
    }
    ok = true;
  } finally {
    killAll();
    if (ok && !s.profile) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${tmp}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAll();
    process.exit(1);
  },
);
