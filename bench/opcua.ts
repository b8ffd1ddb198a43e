/**
 * OPC UA end-to-end benchmark (issue 4, "Benchmark"): prints figures, asserts nothing.
 *
 *   npm run bench:opcua -- [--devices 100] [--items 100] [--change 100ms] [--sampling 50ms]
 *     [--servers 4] [--writes 20] [--duration 30s] [--warmup 10s] [--no-docs]
 *
 * Processes, all on 127.0.0.1 and all killed at the end (also on Ctrl-C and errors):
 * - the OPC UA simulators (bench/opcua/sim-child.ts): `--servers` endpoints; every device has
 *   its own user, hence its own session (link) in the gateway; every `--change` all value points
 *   of every device change and `ts` takes the simulator's Date.now();
 * - the gateway (bench/lib/gateway-child.ts) as `fieldgate run` starts it, embedded aedes, every
 *   device in subscribe mode (monitored items sampled every `--sampling`); its CPU from
 *   /proc/<pid>/stat, its RSS from /proc/<pid>/status;
 * - a subscriber (bench/lib/subscriber-child.ts) counting the points it receives and the
 *   latency from each change (`ts`) to arrival;
 * - in this process, a writer: `--writes` deltas per second (round robin over the devices) on
 *   the delta topic, each timed until the report carrying the written value arrives.
 * Figures count only a window of `--duration` after `--warmup`. The table also goes to the
 * `## OPC UA` section of docs/performance.md (unless --no-docs).
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { parseDuration } from '../src/devicemodel/duration.ts';
import { Child, cpuSeconds, freePort, installCleanup, killAll, memoryMb } from './lib/proc.ts';
import { machine } from './lib/report.ts';
import { benchDevice, writeOpcuaBenchConf } from './opcua/conf.ts';
import { writeOpcuaSection } from './opcua/report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opt } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    items: { type: 'string', default: '100' },
    change: { type: 'string', default: '100ms' },
    sampling: { type: 'string', default: '50ms' },
    servers: { type: 'string', default: '4' },
    writes: { type: 'string', default: '20' },
    duration: { type: 'string', default: '30s' },
    warmup: { type: 'string', default: '10s' },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

const USAGE = 'usage: npm run bench:opcua -- [--devices 100] [--items 100] [--change 100ms] [--sampling 50ms] [--servers 4] [--writes 20] [--duration 30s] [--warmup 10s] [--no-docs]';

function ms(name: string, v: string): number {
  const x = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : parseDuration(v);
  if (x === undefined || !(x > 0)) throw new Error(`--${name}: expected a duration such as 1s, 100ms (a bare number is seconds), got ${v}`);
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
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Deltas on the delta topic, each timed until the report with the written value arrives. */
class Writer {
  private readonly pending = new Map<string, { value: number; t0: number }>();
  readonly rtts: number[] = [];
  sent = 0;
  lost = 0;
  private timer: NodeJS.Timeout | undefined;
  private k = 0;

  private constructor(private readonly client: mqtt.MqttClient) {
    client.on('message', (topic, payload) => {
      const device = topic.split('/')[2]!;
      const p = this.pending.get(device);
      if (p === undefined) return;
      const props = (JSON.parse(payload.toString('utf8')) as { content: { blink: { properties: Record<string, unknown> } } }).content.blink.properties;
      if (props.sp === p.value) {
        this.rtts.push(performance.now() - p.t0);
        this.pending.delete(device);
      }
    });
  }

  static async connect(url: string): Promise<Writer> {
    const client = mqtt.connect(url, { clientId: `bench-writer-${process.pid}`, reconnectPeriod: 500 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('thing/+/+/property/post', { qos: 0 });
    return new Writer(client);
  }

  /** Sends `perSecond` deltas per second over `devices`, skipping a device with one in flight. */
  start(devices: number, perSecond: number): void {
    if (perSecond <= 0) return;
    this.timer = setInterval(() => {
      const name = benchDevice(this.k++ % devices);
      const now = performance.now();
      const old = this.pending.get(name);
      if (old !== undefined) {
        if (now - old.t0 < 5000) return;
        this.lost++;
      }
      // Float values that float32 keeps exactly.
      const value = (this.sent % 1000) + 0.5;
      this.sent++;
      this.pending.set(name, { value, t0: now });
      const msg = { kind: 'deviceDelta', meta: { device: name }, content: { blink: { reqId: `w-${this.sent}`, method: 'thing.property.invoke', version: '1.0', timestamp: Date.now(), properties: { sp: value } } } };
      this.client.publish(`thing/uabench/${name}/property/invoke`, JSON.stringify(msg), { qos: 1 });
    }, 1000 / perSecond);
  }

  stop(): void {
    clearInterval(this.timer);
    this.lost += [...this.pending.values()].filter((p) => performance.now() - p.t0 >= 5000).length;
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

async function main(): Promise<void> {
  if (opt.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const devices = int('devices', opt.devices, 1, 1000);
  const items = int('items', opt.items, 3, 1000);
  const changeMs = ms('change', opt.change);
  const samplingMs = ms('sampling', opt.sampling);
  const servers = int('servers', opt.servers, 1, 100);
  const writes = int('writes', opt.writes, 0, 1000);
  const durationMs = ms('duration', opt.duration);
  const warmupMs = ms('warmup', opt.warmup);
  const m = machine();
  const ports: number[] = [];
  for (let i = 0; i < Math.min(servers, devices); i++) ports.push(await freePort());
  const dir = writeOpcuaBenchConf({ devices, items, ports, samplingMs, brokerPort: await freePort() });
  const logs = path.join(dir, 'logs');
  mkdirSync(logs);
  installCleanup(() => rmSync(dir, { recursive: true, force: true }));
  log(`${devices} devices (sessions) × ${items} monitored items, changing every ${changeMs} ms, sampled every ${samplingMs} ms, on ${ports.length} server(s); ${writes} writes/s; config and logs in ${dir}`);
  log(`machine: ${m.nproc} cores, ${m.model}, load ${m.load}`);
  const started = new Date();
  let ok = false;
  try {
    const { child: sim, ready: simReady } = await Child.start('simulator', path.join(ROOT, 'bench/opcua/sim-child.ts'), [dir, String(changeMs)], { log: path.join(logs, 'simulator.log') });
    log(`simulators: ${String(simReady.devices)} devices on ${String(simReady.servers)} servers`);
    const { child: gw, ready } = await Child.start('gateway', path.join(ROOT, 'bench/lib/gateway-child.ts'), [dir], { log: path.join(logs, 'gateway.log'), nodeArgs: ['--expose-gc'] });
    const connectStart = performance.now();
    const until = Date.now() + 120_000;
    for (;;) {
      const c = await gw.request('stats');
      if (c.linksOnline === c.links) break;
      if (Date.now() > until) throw new Error(`only ${String(c.linksOnline)} of ${String(c.links)} sessions online after 120 s; see ${gw.log}`);
      await sleep(200);
    }
    const connectS = (performance.now() - connectStart) / 1000;
    log(`gateway: ${String(ready.devices)} devices on ${String(ready.links)} sessions online in ${connectS.toFixed(1)} s`);
    const { child: sub } = await Child.start('subscriber', path.join(ROOT, 'bench/lib/subscriber-child.ts'), [String(ready.brokerUrl)], { log: path.join(logs, 'subscriber.log') });
    const writer = await Writer.connect(String(ready.brokerUrl));
    await sim.request('start');
    log(`values changing; warming up ${warmupMs / 1000} s`);
    await sleep(warmupMs);

    const s0 = await sim.request('stats');
    const cpu0 = cpuSeconds(gw.pid);
    const simCpu0 = cpuSeconds(sim.pid);
    await sub.request('start');
    writer.start(devices, writes);
    let rssMax = 0;
    const rssTimer = setInterval(() => {
      rssMax = Math.max(rssMax, memoryMb(gw.pid).rss);
    }, 1000);
    const t0 = performance.now();
    log(`measuring ${durationMs / 1000} s`);
    for (let left = durationMs; left > 0; left -= 10_000) {
      await sleep(Math.min(10_000, left));
      const s = await sub.request('stats');
      log(`  ${f(num(s, 'elapsed'))} s: ${f(num(s, 'points') / num(s, 'elapsed'))} points/s, p99 ${f(num(s, 'p99'))} ms, writes ${writer.rtts.length}`);
    }
    const st = await sub.request('stats');
    writer.stop();
    const cpuS = cpuSeconds(gw.pid) - cpu0;
    const simCpuS = cpuSeconds(sim.pid) - simCpu0;
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(rssTimer);
    const s1 = await sim.request('stats');
    const { hwm } = memoryMb(gw.pid);
    const live = await gw.request('liveHeap');
    const gc = await gw.request('stats');
    await writer.close();
    await sub.stop();
    await gw.stop();
    await sim.stop();

    const points = num(st, 'points');
    const pps = points / num(st, 'elapsed');
    const changed = (num(s1, 'values') - num(s0, 'values')) / seconds;
    const rtts = [...writer.rtts].sort((a, b) => a - b);
    const row = {
      pps,
      minPerSecond: num(st, 'minPerSecond'),
      changed,
      cpuPerMillion: cpuS / (points / 1e6),
      cores: cpuS / seconds,
      rssMax,
      hwm,
      liveHeap: num(live, 'heapUsedMb'),
      p50: num(st, 'p50'),
      p99: num(st, 'p99'),
      max: num(st, 'max'),
      wp50: pct(rtts, 50),
      wp99: pct(rtts, 99),
      wn: rtts.length,
    };
    const table = [
      '| points/s end to end (min 1 s) | values changed/s in the simulators | gateway CPU s per million points (cores busy) | gateway RSS MB: window max / lifetime peak | change → publish p50 / p99 (max) ms | p99 beyond the sampling interval | write round trip p50 / p99 ms (n) |',
      '|---|---|---|---|---|---|---|',
      `| ${f(row.pps)} (${f(row.minPerSecond)}) | ${f(row.changed)} | ${f(row.cpuPerMillion, 2)} (${f(row.cores, 2)}) | ${f(row.rssMax, 1)} / ${f(row.hwm, 1)} | ${f(row.p50, 1)} / ${f(row.p99, 1)} (${f(row.max)}) | ${f(row.p99 - samplingMs, 1)} ms | ${f(row.wp50, 1)} / ${f(row.wp99, 1)} (${row.wn}${writer.lost > 0 ? `, ${writer.lost} unanswered` : ''}) |`,
    ].join('\n');
    const ok3 = (b: boolean) => (b ? 'met' : '**missed**');
    const verdict = [
      `- ${f(row.pps)} points/s (target 100,000: ${ok3(row.pps >= 99_000)}); p99 change → publish ${f(row.p99, 1)} ms with a ${samplingMs} ms sampling interval (target ≤ sampling + 20 ms: ${ok3(row.p99 <= samplingMs + 20)}); write round trip p99 ${f(row.wp99, 1)} ms (target ≤ 20 ms: ${ok3(row.wp99 <= 20)}).`,
      `- The simulators (their own process, same machine) used ${f(simCpuS, 1)} s CPU in the ${f(seconds, 1)} s window (${f(simCpuS / seconds, 2)} cores); ${String(num(s1, 'lateTicks') - num(s0, 'lateTicks'))} of their change ticks ran late by more than half a period.`,
      ...(simCpuS / seconds >= 0.85 || row.changed < 0.9 * ((devices * (items - 1) * 1000) / changeMs)
        ? [
            `- **The simulators could not keep up**: they made ${f(row.changed)} of the ${f((devices * (items - 1) * 1000) / changeMs)} value changes/s asked for (their process used ${f(simCpuS / seconds, 2)} cores: node-opcua's server samples every monitored item on a timer of its own, on one thread, ` +
              `and shares the machine with the gateway and whatever else runs), while the gateway was ${f(row.cores, 2)} cores busy. Points/s and latency therefore measure the simulators on this machine; the gateway's own figures are its CPU per point and its RSS.`,
          ]
        : []),
      `- After a full garbage collection at the end of the window the gateway's live JS heap was ${f(row.liveHeap, 1)} MB; ${String(gc.devicesOnline)} of ${devices} devices online at the end; ${f(connectS, 1)} s to open all ${devices} sessions (certificate creation included).`,
    ].join('\n');
    process.stdout.write(`\n${table}\n\n${verdict}\n`);
    const args = process.argv.slice(2);
    const section = [
      '## OPC UA',
      '',
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.nproc} cores (${m.model}), Node ${m.node}; load average at start ${m.load} (the machine is shared, so figures vary between runs).`,
      '',
      `Command: \`${args.length === 0 ? 'npm run bench:opcua' : `npm run bench:opcua -- ${args.join(' ')}`}\``,
      '',
      `Options: ${devices} devices, each its own OPC UA session (own user, security None) on ${ports.length} simulator endpoint(s), × ${items} monitored items (${items - 2} Double values, a Double timestamp, a Float setpoint); ` +
        `every value point of every device changes every ${changeMs} ms; monitored items sampled every ${samplingMs} ms (queue size 1, publishing interval = sampling interval); ` +
        `${writes} writes/s round robin over the devices; warm-up ${warmupMs / 1000} s, measured for ${f(seconds, 1)} s.`,
      '',
      table,
      '',
      verdict,
      '',
      'How it is measured: simulators, gateway (with its embedded aedes broker) and subscriber each run in their own process on 127.0.0.1; the writer runs in the bench process. ' +
        'Points/s counts the properties the subscriber receives on `thing/+/+/property/post`. Gateway CPU is utime+stime of its process from /proc, divided by the points received. ' +
        "Latency runs from the simulator's change (the `ts` value, its Date.now()) to the subscriber's receipt; it includes the server's sampling delay (0 to one sampling interval) and its publishing interval. " +
        'A write round trip runs from publishing a delta (`sp`) to the arrival of the report carrying the written value: broker, command validation, the OPC UA Write with the node\'s DataType, the re-read and the report.',
    ].join('\n');
    if (!opt['no-docs']) {
      writeOpcuaSection(path.join(ROOT, 'docs', 'performance.md'), section);
      log('wrote the OPC UA section of docs/performance.md');
    }
    ok = true;
  } finally {
    killAll();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${logs}`);
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
