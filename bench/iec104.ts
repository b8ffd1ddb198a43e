/**
 * IEC 60870-5-104 benchmark: simulated controlled stations → gateway → embedded broker →
 * subscriber, each in its own process. Prints a table and writes it into docs/performance.md
 * (section "IEC 60870-5-104"); asserts nothing.
 *
 *   npm run bench:iec104 -- [--stations 20] [--points 5000] [--rate 50000] [--duration 60]
 *                           [--warmup 10] [--tick 10] [--no-doc]
 *
 * - stations: one device per station, one TCP link each; `points` float AI points per device.
 * - rate: spontaneous changes per second over all stations (M_ME_TF_1 with CP56Time2a tags),
 *   sent every `tick` ms; see bench/iec104/sim-child.ts.
 * - Measured over `duration` s after `warmup` s of changes (the general interrogation after
 *   connecting is over before the warmup starts): points/s at the subscriber; latency from a
 *   value's generation in the station to its arrival at the subscriber (the value is its
 *   generation time); gateway CPU (its process, which embeds the broker) per million points it
 *   published; its RSS.
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Child, cpuSeconds, freePort, installCleanup, memoryMb } from './lib/proc.ts';
import { writeIec104BenchConf } from './iec104/conf.ts';
import { writeSection } from './iec104/report.ts';

const { values: a } = parseArgs({
  options: {
    stations: { type: 'string', default: '20' },
    points: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '50000' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    tick: { type: 'string', default: '10' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const STATIONS = Number(a.stations);
const POINTS = Number(a.points);
const RATE = Number(a.rate);
const DURATION = Number(a.duration);
const WARMUP = Number(a.warmup);
const TICK = Number(a.tick);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const num = (m: Record<string, unknown>, k: string) => Number(m[k] ?? 0);
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

async function main(): Promise<void> {
  if (![STATIONS, POINTS, RATE, DURATION, TICK].every((n) => Number.isFinite(n) && n > 0) || !(WARMUP >= 0)) throw new Error('every option must be a positive number');
  installCleanup();
  const logs = mkdtempSync(path.join(tmpdir(), 'fieldgate-bench104-logs-'));
  const ports = await Promise.all(Array.from({ length: STATIONS }, () => freePort()));
  const conf = writeIec104BenchConf({ stations: STATIONS, points: POINTS, ports, brokerPort: await freePort() });
  const load0 = loadavg()[0]!;
  console.log(`IEC 104 bench: ${STATIONS} stations × ${POINTS} points, ${RATE} changes/s, ${WARMUP} s warmup + ${DURATION} s; load average ${load0.toFixed(2)}; logs in ${logs}`);

  const { child: sim } = await Child.start('simulators', 'bench/iec104/sim-child.ts', [conf, String(RATE), String(TICK)], { log: path.join(logs, 'sim.log') });
  const { child: gw, ready } = await Child.start('gateway', 'bench/lib/gateway-child.ts', [conf], { log: path.join(logs, 'gateway.log') });
  // Connected, data transfer started and the first general interrogation in (every point read once).
  const settleEnd = Date.now() + 180_000;
  for (;;) {
    const c = await gw.request('stats');
    if (num(c, 'linksOnline') === STATIONS && num(c, 'devicesOnline') === STATIONS && num(c, 'pointsRead') >= STATIONS * POINTS) break;
    if (Date.now() > settleEnd) throw new Error(`gateway not settled after 180 s: ${JSON.stringify(c)}`);
    await sleep(500);
  }
  const { child: sub } = await Child.start('subscriber', 'bench/iec104/subscriber-child.ts', [String(ready.brokerUrl)], { log: path.join(logs, 'subscriber.log') });

  await sim.request('start');
  await sleep(WARMUP * 1000);
  await sub.request('start');
  const g0 = await gw.request('stats');
  const s0 = await sim.request('stats');
  const cpu0 = cpuSeconds(gw.pid);
  const simCpu0 = cpuSeconds(sim.pid);
  const t0 = performance.now();
  for (let left = DURATION; left > 0; left -= 10) {
    await sleep(Math.min(10, left) * 1000);
    const s = await sub.request('stats');
    process.stdout.write(`  ${f(num(s, 'elapsed'))} s: ${f(num(s, 'points') / num(s, 'elapsed'))} points/s at the broker, p99 ${f(num(s, 'p99'))} ms\n`);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const st = await sub.request('stats');
  const g1 = await gw.request('stats');
  const s1 = await sim.request('stats');
  const cpu = cpuSeconds(gw.pid) - cpu0;
  const simCpu = cpuSeconds(sim.pid) - simCpu0;
  const mem = memoryMb(gw.pid);
  // Gateway before stations, so that it does not log every link the stations close.
  await sub.stop();
  await gw.stop();
  await sim.stop();
  rmSync(conf, { recursive: true, force: true });

  const offered = (num(s1, 'changes') - num(s0, 'changes')) / elapsed;
  const published = num(g1, 'published') - num(g0, 'published');
  const read = num(g1, 'pointsRead') - num(g0, 'pointsRead');
  const atBroker = num(st, 'points') / num(st, 'elapsed');
  const rows: [string, string][] = [
    ['stations × points', `${STATIONS} × ${f(POINTS)} = ${f(STATIONS * POINTS)}`],
    ['spontaneous changes offered', `${f(offered)} points/s`],
    ['points received by the gateway', `${f(read / elapsed)} points/s`],
    ['points published by the gateway', `${f(published / elapsed)} points/s`],
    ['points at the subscriber', `${f(atBroker)} points/s (slowest second ${f(num(st, 'minPerSecond'))}, fastest ${f(num(st, 'maxPerSecond'))}; ${f(num(st, 'messages') / num(st, 'elapsed'))} reports/s)`],
    ['latency station → subscriber', `p50 ${f(num(st, 'p50'))} ms, p99 ${f(num(st, 'p99'))} ms, max ${f(num(st, 'max'))} ms (${f(num(st, 'samples'))} values)`],
    ['gateway CPU (with the embedded broker)', `${f(cpu / (published / 1e6), 1)} s per million points published; ${f((100 * cpu) / elapsed)} % of one core`],
    ['gateway memory', `RSS ${f(mem.rss)} MB (peak ${f(mem.hwm)} MB)`],
    ['simulators CPU', `${f((100 * simCpu) / elapsed)} % of one core`],
  ];
  const table = ['| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  const cmd = `npm run bench:iec104${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, load average ${load0.toFixed(2)} at the start`;
  const busy =
    load0 > cpus().length
      ? `\n**The machine was busy with other work (load average ${load0.toFixed(1)} on ${cpus().length} cores), so every process got a fraction of a core: these figures understate the gateway. Run again on a quiet machine.**\n`
      : '';
  const queued =
    published / elapsed > 1.5 * atBroker
      ? `\nThe gateway published ${f(published / elapsed)} points/s but the subscriber received ${f(atBroker)}: the rest queued on the way through the embedded broker (aedes, in the gateway's process), which is where the latency grows.\n`
      : '';
  console.log(`\n${table}\n\n${cmd}; ${f(elapsed)} s measured after ${WARMUP} s warmup; ${machine}`);
  if (!a['no-doc']) {
    writeSection(
      path.resolve('docs/performance.md'),
      '## IEC 60870-5-104',
      `## IEC 60870-5-104

\`${cmd}\` (${new Date().toISOString().slice(0, 10)}; ${machine}).

Simulated controlled stations (one process), the gateway with its embedded broker (one process)
and an MQTT subscriber (one process), all on 127.0.0.1. Each station is one device on its own
link with ${f(POINTS)} float AI points, each mapped 1:1 to an attribute with no deviation, so every
change is published. After connecting (STARTDT and a general interrogation of every point) the
stations send ${f(RATE)} changes/s in total as spontaneous M_ME_TF_1 with CP56Time2a time tags, every
${TICK} ms; the figures cover ${f(elapsed)} s after ${WARMUP} s of warmup. Latency runs from a value's
generation in the station to its arrival at the subscriber: each value is its own generation time
(epoch ms modulo 10^7, exact in a float32). Gateway CPU counts its whole process, including the
embedded broker (aedes) delivering every report to the subscriber.
${busy}
${table}
${queued}
`,
    );
    console.log('written to docs/performance.md (section "IEC 60870-5-104")');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench:iec104 failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
