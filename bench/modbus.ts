/**
 * Modbus end-to-end benchmark (issue 2, "Benchmark"): prints figures, asserts nothing.
 *
 *   npm run bench:modbus -- [--devices 1000] [--points 100] [--interval 1s] [--duration 60s]
 *     [--warmup 10s] [--window 16] [--per-endpoint 200] [--type float32|uint16]
 *     [--broker embedded|mosquitto|both] [--no-bare] [--no-api] [--profile] [--no-docs]
 *
 * Processes, all on 127.0.0.1 and all killed at the end (also on Ctrl-C and errors):
 * - simulators (bench/lib/sim-child.ts): every device, several unit ids per TCP endpoint; each
 *   device changes all its values at the first read of every interval and stamps `ts`;
 * - the gateway (bench/lib/gateway-child.ts), as `fieldgate run` starts it, with its embedded
 *   aedes or a mosquitto the bench starts; its CPU from /proc/<pid>/stat, peak RSS from VmHWM,
 *   poll overruns from its timers over IPC;
 * - a subscriber (bench/lib/subscriber-child.ts) counting the points it receives and the latency
 *   from each device's value change (`ts`) to arrival;
 * - then the bare loop (bench/lib/bare-child.ts): plain modbus-serial clients with the same
 *   requests at the same rate, decoding and publishing nothing: the upper bound.
 * Figures count only a window of `--duration` after `--warmup`. The table also goes to the
 * `## Modbus` section of docs/performance.md (unless --no-docs).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/devicemodel/duration.ts';
import { endpointCount, gatewayYml, writeBenchConf } from './lib/conf.ts';
import type { BenchLayout, BenchPointType, BrokerChoice } from './lib/conf.ts';
import { summarizeProfile } from './lib/cpuprofile.ts';
import { Child, cpuSeconds, freePort, installCleanup, killAll, memoryMb, startMosquitto, stopProcess } from './lib/proc.ts';
import { machine, resultTable, verdicts, writeModbusSection } from './lib/report.ts';
import type { BareRun, GatewayRun } from './lib/report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(ROOT, 'bench', 'lib');

const { values: opt } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    points: { type: 'string', default: '100' },
    interval: { type: 'string', default: '1s' },
    duration: { type: 'string', default: '60s' },
    warmup: { type: 'string', default: '10s' },
    window: { type: 'string', default: '16' },
    'per-endpoint': { type: 'string', default: '200' },
    type: { type: 'string', default: 'float32' },
    broker: { type: 'string', default: 'embedded' },
    'no-bare': { type: 'boolean', default: false },
    'no-api': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

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

interface Settings {
  layout: BenchLayout;
  durationMs: number;
  warmupMs: number;
  brokers: ('embedded' | 'mosquitto')[];
  bare: boolean;
  api: boolean;
  profile: boolean;
  docs: boolean;
}

function settings(): Settings {
  const type = opt.type as BenchPointType;
  if (type !== 'float32' && type !== 'uint16') throw new Error(`--type: float32 or uint16, got ${opt.type}`);
  const broker = opt.broker;
  if (broker !== 'embedded' && broker !== 'mosquitto' && broker !== 'both') throw new Error(`--broker: embedded, mosquitto or both, got ${broker}`);
  const intervalMs = ms('interval', opt.interval);
  return {
    layout: {
      devices: int('devices', opt.devices, 1, 100_000),
      points: int('points', opt.points, 2, 1000),
      intervalMs,
      timeoutMs: Math.max(2000, 2 * intervalMs),
      window: int('window', opt.window, 1, 64),
      perEndpoint: int('per-endpoint', opt['per-endpoint'], 1, 247),
      pointType: type,
    },
    durationMs: ms('duration', opt.duration),
    warmupMs: ms('warmup', opt.warmup),
    brokers: broker === 'both' ? ['embedded', 'mosquitto'] : [broker],
    bare: !opt['no-bare'],
    api: !opt['no-api'],
    profile: opt.profile,
    docs: !opt['no-docs'],
  };
}

/** Samples a process's RSS every second until `stop` is called; returns the highest sample. */
function sampleRss(pid: number): { stop: () => number } {
  let max = 0;
  const t = setInterval(() => {
    try {
      max = Math.max(max, memoryMb(pid).rss);
    } catch {
      // exited
    }
  }, 1000);
  return { stop: () => (clearInterval(t), max) };
}

async function runGateway(s: Settings, dir: string, broker: 'embedded' | 'mosquitto', tmp: string, simPid: number): Promise<GatewayRun> {
  const port = await freePort();
  let mosq: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  let choice: BrokerChoice = { kind: 'embedded', port };
  if (broker === 'mosquitto') {
    mosq = await startMosquitto(port, path.join(tmp, 'mosquitto.conf'), path.join(tmp, 'mosquitto.log'));
    choice = { kind: 'external', url: `mqtt://127.0.0.1:${port}` };
  }
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYml(choice, s.api));
  const profFile = path.join(tmp, `gateway-${broker}.cpuprofile`);
  log(`gateway (${broker} broker) starting${s.profile ? ', with the CPU profiler over the measured window' : ''}`);
  const { child: gw, ready } = await Child.start('gateway', path.join(LIB, 'gateway-child.ts'), s.profile ? [dir, profFile] : [dir], {
    log: path.join(tmp, `gateway-${broker}.log`),
    // Only for the live-heap figure taken after the measured window.
    nodeArgs: ['--expose-gc'],
  });
  const { child: sub } = await Child.start('subscriber', path.join(LIB, 'subscriber-child.ts'), [String(ready.brokerUrl)], { log: path.join(tmp, 'subscriber.log') });
  // Every link online, then the warm-up (JIT, first reports, connection setup).
  const until = Date.now() + 30_000;
  for (;;) {
    const c = await gw.request('stats');
    if (c.linksOnline === c.links) break;
    if (Date.now() > until) throw new Error(`only ${String(c.linksOnline)} of ${String(c.links)} links online after 30 s; see ${gw.log}`);
    await sleep(200);
  }
  log(`gateway: ${String(ready.devices)} devices on ${String(ready.links)} links online; warming up ${s.warmupMs / 1000} s`);
  await sleep(s.warmupMs);

  const c0 = await gw.request('stats');
  const cpu0 = cpuSeconds(gw.pid);
  const sim0 = cpuSeconds(simPid);
  const b0 = mosq?.pid !== undefined ? cpuSeconds(mosq.pid) : 0;
  await sub.request('start');
  if (s.profile) await gw.request('profileStart');
  const rss = sampleRss(gw.pid);
  const t0 = performance.now();
  log(`measuring ${s.durationMs / 1000} s`);
  await sleep(s.durationMs);
  const st = await sub.request('stats');
  const cpu1 = cpuSeconds(gw.pid);
  const sim1 = cpuSeconds(simPid);
  if (s.profile) await gw.request('profileStop', {}, 120_000);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = await gw.request('stats');
  const b1 = mosq?.pid !== undefined ? cpuSeconds(mosq.pid) : 0;
  const rssMax = rss.stop();
  const hwm = memoryMb(gw.pid).hwm;
  const live = await gw.request('liveHeap');

  await sub.stop();
  await gw.stop();
  if (mosq !== undefined) await stopProcess(mosq);

  const num = (m: Record<string, unknown>, k: string) => Number(m[k] ?? Number.NaN);
  const points = num(st, 'points');
  const cpuS = cpu1 - cpu0;
  const run: GatewayRun = {
    broker,
    seconds,
    points,
    pointsPerSec: points / num(st, 'elapsed'),
    minPerSecond: num(st, 'minPerSecond'),
    cpuS,
    cpuPerMillion: cpuS / (points / 1e6),
    windowRssMb: rssMax,
    peakRssMb: hwm,
    liveHeapMb: num(live, 'heapUsedMb'),
    p50: num(st, 'p50'),
    p99: num(st, 'p99'),
    maxLatency: num(st, 'max'),
    overruns: num(c1, 'overruns') - num(c0, 'overruns'),
    polls: num(c1, 'polls') - num(c0, 'polls'),
    failedPolls: num(c1, 'failedPolls') - num(c0, 'failedPolls'),
    badPoints: num(c1, 'badPoints') - num(c0, 'badPoints'),
    devicesSeen: num(st, 'devices'),
    simCpuS: sim1 - sim0,
    ...(mosq !== undefined ? { brokerCpuS: b1 - b0 } : {}),
  };
  log(
    `gateway (${broker}): ${Math.round(run.pointsPerSec)} points/s, CPU ${cpuS.toFixed(1)} s in ${seconds.toFixed(1)} s, ` +
      `${run.cpuPerMillion.toFixed(2)} s/M points, RSS ${run.windowRssMb.toFixed(1)} MB (peak ${run.peakRssMb.toFixed(1)}), p50 ${run.p50} ms, p99 ${run.p99} ms, ` +
      `overruns ${run.overruns}, polls ${run.polls}, failed ${run.failedPolls}, devices seen ${run.devicesSeen}, simulator CPU ${run.simCpuS.toFixed(1)} s, points read ${num(c1, 'pointsRead') - num(c0, 'pointsRead')}, heap used ${num(c0, 'heapUsedMb').toFixed(1)} → ${num(c1, 'heapUsedMb').toFixed(1)} MB (heap total ${num(c1, 'heapTotalMb').toFixed(1)} MB), external ${num(c1, 'externalMb').toFixed(1)} MB; after a full GC: heap used ${num(live, 'heapUsedMb').toFixed(1)} MB, RSS ${num(live, 'rssMb').toFixed(1)} MB`,
  );
  if (s.profile) printProfile(profFile);
  return run;
}

function printProfile(file: string): void {
  const { totalMs, busyMs, rows, inclusive } = summarizeProfile(file, ROOT, 25);
  process.stdout.write(`\nGateway CPU profile (${file}): ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy; top self time:\n`);
  process.stdout.write('| self % of busy | self ms | function |\n|---:|---:|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.pctBusy.toFixed(1)} | ${r.selfMs.toFixed(0)} | ${r.where} |\n`);
  process.stdout.write('\nInclusive time by file or package (a sample counts for each one on its stack):\n| % of busy | ms | file or package |\n|---:|---:|---|\n');
  for (const r of inclusive) process.stdout.write(`| ${r.pctBusy.toFixed(1)} | ${r.ms.toFixed(0)} | ${r.group} |\n`);
  process.stdout.write('\n');
}

async function runBare(s: Settings, dir: string, tmp: string, simPid: number): Promise<BareRun> {
  log('bare modbus-serial loop starting');
  const { child, ready } = await Child.start('bare', path.join(LIB, 'bare-child.ts'), [dir], { log: path.join(tmp, 'bare.log') });
  log(`bare: ${String(ready.devices)} devices, ${String(ready.endpoints)} clients, ${String(ready.requestsPerPoll)} requests per poll; warming up ${s.warmupMs / 1000} s`);
  await sleep(s.warmupMs);
  await child.request('start');
  const cpu0 = cpuSeconds(child.pid);
  const sim0 = cpuSeconds(simPid);
  const rss = sampleRss(child.pid);
  const t0 = performance.now();
  await sleep(s.durationMs);
  const st = await child.request('stats');
  const cpu1 = cpuSeconds(child.pid);
  const sim1 = cpuSeconds(simPid);
  const seconds = (performance.now() - t0) / 1000;
  const rssMax = rss.stop();
  const hwm = memoryMb(child.pid).hwm;
  await child.stop();
  const points = Number(st.points);
  const cpuS = cpu1 - cpu0;
  const run: BareRun = {
    seconds,
    points,
    pointsPerSec: points / seconds,
    cpuS,
    cpuPerMillion: cpuS / (points / 1e6),
    windowRssMb: rssMax,
    peakRssMb: hwm,
    overruns: Number(st.overruns),
    errors: Number(st.errors),
    requests: Number(st.requests),
    simCpuS: sim1 - sim0,
  };
  log(`bare: ${Math.round(run.pointsPerSec)} points/s, CPU ${cpuS.toFixed(1)} s, ${run.cpuPerMillion.toFixed(2)} s/M points, ${run.requests} requests, ${run.errors} errors, overruns ${run.overruns}, simulator CPU ${run.simCpuS.toFixed(1)} s`);
  return run;
}

function commandLine(): string {
  const args = process.argv.slice(2);
  return args.length === 0 ? 'npm run bench:modbus' : `npm run bench:modbus -- ${args.join(' ')}`;
}

async function main(): Promise<void> {
  if (opt.help) {
    process.stdout.write(`${readHelp()}\n`);
    return;
  }
  const s = settings();
  const m = machine();
  const l = s.layout;
  const eps = endpointCount(l);
  const ports: number[] = [];
  for (let i = 0; i < eps; i++) ports.push(await freePort());
  const dir = writeBenchConf(l, ports, { kind: 'embedded', port: 1 });
  const tmp = path.join(dir, 'bench');
  mkdirSync(tmp);
  installCleanup(() => rmSync(dir, { recursive: true, force: true }));
  log(`${l.devices} devices × ${l.points} points (${l.pointType}) every ${l.intervalMs} ms on ${eps} endpoints, window ${l.window}; config and logs in ${dir}`);
  log(`machine: ${m.nproc} cores, ${m.model}, load ${m.load}`);
  const started = new Date();
  let ok = false;
  try {
    const { child: sim, ready } = await Child.start('simulator', path.join(LIB, 'sim-child.ts'), [dir, String(l.intervalMs), l.pointType], { log: path.join(tmp, 'simulator.log') });
    log(`simulators: ${String(ready.devices)} devices on ${String(ready.endpoints)} endpoints`);
    const runs: GatewayRun[] = [];
    for (const b of s.brokers) runs.push(await runGateway(s, dir, b, tmp, sim.pid));
    const bare = s.bare ? await runBare(s, dir, tmp, sim.pid) : undefined;
    const simStats = await sim.request('stats');
    await sim.stop();
    log(`simulator served ${String(simStats.reads)} reads, ${String(simStats.changes)} value changes`);

    const table = resultTable(runs, bare);
    const verdict = verdicts(runs, bare);
    const section = [
      '## Modbus',
      '',
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.nproc} cores (${m.model}), Node ${m.node}; load average at start ${m.load} (the machine is shared, so figures vary between runs).`,
      '',
      `Command: \`${commandLine()}\``,
      '',
      `Options: ${l.devices} devices × ${l.points} points (${l.points - 1} × ${l.pointType} + a float64 timestamp, holding registers, ABCD) every ${l.intervalMs} ms, every value changing every poll; ` +
        `${eps} Modbus/TCP endpoints with up to ${l.perEndpoint} unit ids each, one link per endpoint, pipelining window ${l.window}, timeout ${l.timeoutMs} ms; ` +
        `REST API and web console ${s.api ? 'on (the default)' : 'off'}; warm-up ${s.warmupMs / 1000} s, measured for ${s.durationMs / 1000} s${s.profile ? '; **with the CPU profiler running in the gateway** (CPU figures inflated)' : ''}.`,
      '',
      table,
      '',
      verdict,
      '',
      `The simulators (their own process, same machine) used ${[...runs.map((r) => `${r.simCpuS.toFixed(1)} s CPU during the ${r.broker} gateway window`), ...(bare ? [`${bare.simCpuS.toFixed(1)} s during the bare loop's`] : [])].join(', ')}.`,
      '',
      'How it is measured: simulators, gateway, subscriber and bare loop each run in their own process on 127.0.0.1. Points/s counts the properties the subscriber receives on `thing/+/+/property/post`. ' +
        'Gateway CPU is utime+stime of its process from /proc (with the embedded broker, aedes runs inside it and is counted). RSS: the highest 1 s sample of VmRSS in the measured window, and VmHWM, the process\'s peak over its life (the gateway runs its TypeScript through tsx, as `fieldgate run` does, so startup compiling counts). ' +
        'Latency runs from the moment a device changed its values, which is the moment the gateway\'s poll read them (the simulator changes values on the first read of each interval), to the subscriber\'s receipt; the wait for the next poll (0 to one interval) comes on top. ' +
        "Overruns are poll ticks the gateway's timers skipped because the previous poll of that device was still running. " +
        'The bare loop is plain modbus-serial clients sending the same requests (same blocks, window and stagger) and discarding the answers.',
    ].join('\n');
    process.stdout.write(`\n${table}\n\n${verdict}\n`);
    if (s.docs) {
      const file = path.join(ROOT, 'docs', 'performance.md');
      writeModbusSection(file, section);
      log(`wrote the Modbus section of ${path.relative(process.cwd(), file)}`);
    }
    ok = true;
  } finally {
    killAll();
    // Keep the logs (and profiles) when something went wrong or was asked for.
    if (ok && !s.profile) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${tmp}`);
  }
}

function readHelp(): string {
  return 'usage: npm run bench:modbus -- [--devices N] [--points M] [--interval 1s] [--duration 60s] [--warmup 10s] [--window 16] [--per-endpoint 200] [--type float32|uint16] [--broker embedded|mosquitto|both] [--no-bare] [--no-api] [--profile] [--no-docs]';
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAll();
    process.exit(1);
  },
);
