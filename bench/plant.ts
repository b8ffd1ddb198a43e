/**
 * The whole-gateway scale benchmark (issue 9): one gateway with every protocol at once, one
 * mosquitto, the cloud simulator; prints figures next to the issue's targets, asserts nothing.
 *
 *   npm run bench:plant -- [--duration 5m] [--warmup 30s] [--scale 1] [--modbus 1000] [--opcua 50]
 *     [--bacnet 20] [--iec104 10] [--cameras 4] [--iec104-rate N] [--idle-duration 60s] [--no-idle] [--no-docs]
 *     [--profile load|idle]
 *
 * Processes, all on 127.0.0.1, all killed at the end (also on Ctrl-C and errors): mosquitto,
 * the cloud simulator, one simulator process per protocol (the single-protocol benches' children),
 * the cameras (when their driver and simulator exist), the gateway (bench/lib/gateway-child.ts, as
 * `fieldgate run` starts it) and a subscriber counting points per protocol. After every link is
 * online and a warm-up, the loaded window; then the idle phase with every simulator frozen. The
 * tables go to the `## Plant` section of docs/performance.md (unless --no-docs or --profile, which
 * runs the gateway's CPU profiler over one phase, prints its hot spots and keeps the logs folder).
 * --scale 0.05 --duration 20s --warmup 5s --idle-duration 10s is a quick smoke run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSection } from './iec104/report.ts';
import { installCleanup, killAll, stopProcess } from './lib/proc.ts';
import { summarizeProfile } from './lib/cpuprofile.ts';
import { machine } from './lib/report.ts';
import { DRIVER_ID, writeGatewayYaml, writeProtocolFolders } from './plant/conf.ts';
import type { PlantConf } from './plant/conf.ts';
import { log, measureIdle, measureLoad } from './plant/measure.ts';
import type { Plant } from './plant/measure.ts';
import { offered, parsePlantArgs, PROTOCOLS, SHAPE, TITLE, USAGE } from './plant/options.ts';
import type { PlantSettings, Protocol } from './plant/options.ts';
import { camerasMissing, ROOT, simulatorPorts, startBroker, startCameras, startCloud, startGatewayChild, startSimulators, startSubscriber } from './plant/processes.ts';
import { f0, f2, plantSection, protocolTable, targetsTable } from './plant/report.ts';
import type { PlantResult } from './plant/report.ts';
import type { DriverCounters } from './lib/gateway-counters.ts';

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** Waits until every link is online and every IEC 104 station's interrogation is in (at most 180 s). */
async function waitOnline(p: Pick<Plant, 'gateway' | 'counts'>): Promise<void> {
  const end = Date.now() + 180_000;
  const t0 = performance.now();
  for (;;) {
    const c = await p.gateway.request('stats');
    const by = c.byDriver as Record<string, DriverCounters>;
    const gi = (by.iec104?.pointsRead ?? 0) >= p.counts.iec104 * SHAPE.iec104Points;
    if (c.linksOnline === c.links && gi) {
      log(`gateway: ${String(c.links)} links online in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
    if (Date.now() > end) throw new Error(`gateway not settled after 180 s: ${String(c.linksOnline)} of ${String(c.links)} links online; see ${p.gateway.log}`);
    await sleep(500);
  }
}

function printProfile(file: string, phase: string): void {
  const { totalMs, busyMs, rows, inclusive } = summarizeProfile(file, ROOT, 25);
  process.stdout.write(`\nGateway CPU profile over the ${phase} (${file}): ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy; top self time:\n`);
  process.stdout.write('| self % of busy | self ms | function |\n|---:|---:|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.pctBusy.toFixed(1)} | ${r.selfMs.toFixed(0)} | ${r.where} |\n`);
  process.stdout.write('\nInclusive time by file or package:\n| % of busy | ms | file or package |\n|---:|---:|---|\n');
  for (const r of inclusive) process.stdout.write(`| ${r.pctBusy.toFixed(1)} | ${r.ms.toFixed(0)} | ${r.group} |\n`);
}

function commandLine(s: PlantSettings): string {
  return s.argv.length === 0 ? 'npm run bench:plant' : `npm run bench:plant -- ${s.argv.join(' ')}`;
}

function optionsText(s: PlantSettings, protocols: readonly Protocol[]): string {
  const c = s.counts;
  const parts = protocols.map((k) => {
    switch (k) {
      case 'modbus':
        return `${f0(c.modbus)} Modbus/TCP devices × ${SHAPE.modbusPoints} points (${SHAPE.modbusPoints - 1} float32 and a float64 \`ts\`, holding registers) polled every ${SHAPE.modbusIntervalMs / 1000} s, every value changing at every poll, up to 200 unit ids per endpoint`;
      case 'opcua':
        return `${f0(c.opcua)} OPC UA sessions × ${SHAPE.opcuaItems} monitored items sampled every ${SHAPE.opcuaMs} ms, all but the setpoint changing every ${SHAPE.opcuaMs} ms`;
      case 'bacnet':
        return `${f0(c.bacnet)} BACnet/IP devices × ${SHAPE.bacnetObjects} analog inputs + a \`ts\` object polled (ReadPropertyMultiple) every ${SHAPE.bacnetIntervalMs / 1000} s, every value changing at every poll`;
      case 'iec104':
        return `${f0(c.iec104)} IEC 104 stations × ${f0(SHAPE.iec104Points)} float points sending ${f0(s.iec104Rate)} spontaneous changes/s in total`;
      case 'cameras':
        return `${f0(c.cameras)} simulated cameras polled every ${SHAPE.cameraIntervalMs / 1000} s for their info and profile`;
    }
  });
  const which = s.fullLoad ? "the issue's default" : `scale ${s.scale} or other counts; the throughput target applies to the default load only`;
  return `Load (${which}): ${parts.join('; ')}. Warm-up ${s.warmupMs / 1000} s, measured for ${s.durationMs / 1000} s${s.idle ? `, idle phase ${s.idleMs / 1000} s` : ', no idle phase'}.`;
}

function notes(s: PlantSettings, r: PlantResult, load0: number, nproc: number, extra: readonly string[]): string[] {
  const out = [...extra];
  const simCores = r.protocols.reduce((n, p) => n + (Number.isFinite(p.simCores) ? p.simCores : 0), 0);
  out.push(
    `CPU in the window, in cores of this ${nproc}-core machine: gateway ${f2(r.cpuS / r.seconds)}, simulators ${f2(simCores)} (${r.protocols.filter((p) => Number.isFinite(p.simCores)).map((p) => `${TITLE[p.protocol]} ${f2(p.simCores)}`).join(', ')}), mosquitto ${f2(r.mosquittoCores)}, cloud simulator ${f2(r.cloudCores)}.`,
  );
  if (load0 > nproc) out.push(`**The machine was busy before the run (load average ${load0.toFixed(1)} on ${nproc} cores): every process got a fraction of a core, so these figures understate the gateway.**`);
  const short = r.protocols.filter((p) => p.offered > 0 && p.pointsPerSec < 0.9 * p.offered);
  if (short.length > 0) {
    out.push(`Below 90 % of what the simulators were asked to offer: ${short.map((p) => `${TITLE[p.protocol]} ${f0(p.pointsPerSec)} of ${f0(p.offered)}`).join(', ')} points/s. With every process on ${nproc} cores, a shortfall is the simulators' or the gateway's; the simulators' CPU above and the gateway's points read/s tell which.`);
  }
  if (r.idle !== undefined) out.push(`Idle (${f0(r.idle.seconds)} s, every simulator frozen, polls going on): gateway CPU ${f2(r.idle.cpuPct)} % of one core; ${f2(r.idle.pointsPerSec)} points/s published; outbox depth ${f0(r.idle.outboxEnd)} at the end.`);
  return out;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parsePlantArgs>;
  try {
    parsed = parsePlantArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench:plant: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let s = parsed;
  const m = machine();
  const load0 = os.loadavg()[0]!;
  const extraNotes: string[] = [];
  if (s.counts.cameras > 0) {
    const why = camerasMissing();
    if (why !== undefined) {
      log(why);
      extraNotes.push(why + '.');
      s = { ...s, counts: { ...s.counts, cameras: 0 } };
    }
  }
  const protocols = PROTOCOLS.filter((k) => s.counts[k] > 0);
  const logs = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-plant-logs-'));
  let conf: PlantConf | undefined;
  // The gateway's folder and each protocol's (the cameras' is inside the gateway's).
  const cleanup = () => {
    if (conf !== undefined) for (const d of [conf.root, ...Object.values(conf.parts)]) rmSync(d, { recursive: true, force: true });
  };
  installCleanup(cleanup);
  log(`${protocols.map((k) => `${TITLE[k]} ${f0(s.counts[k])}`).join(', ')}; logs in ${logs}`);
  log(`machine: ${m.nproc} cores (simulators, broker and cloud share them with the gateway), ${m.model}, load ${m.load}`);
  const started = new Date();
  let ok = false;
  try {
    // Everything that does not depend on another part starts at once (startup is mostly loading
    // modules: node-opcua takes seconds), then the gateway and the subscriber.
    conf = writeProtocolFolders(s.counts, await simulatorPorts(s.counts));
    log(`configuration in ${conf.root}; simulators, broker and cloud starting`);
    const [sims, broker, cloud, cameras] = await Promise.all([
      startSimulators(conf, s.iec104Rate, logs),
      startBroker(logs),
      startCloud(logs),
      s.counts.cameras > 0 ? startCameras(s.counts.cameras, logs) : undefined,
    ]);
    conf = writeGatewayYaml(conf, cameras?.ports ?? [], broker.url, cloud.url);
    const profileFile = s.profile === undefined ? undefined : path.join(logs, `gateway-${s.profile}.cpuprofile`);
    const [{ child: gateway, ready }, subscriber] = await Promise.all([startGatewayChild(conf, logs, profileFile), startSubscriber(broker.url, protocols, logs)]);
    log(`gateway: ${String(ready.devices)} devices on ${String(ready.links)} links; API ${String(ready.apiUrl)}`);
    // The cameras' process counts as their simulators (CPU, freeze, stop).
    if (cameras !== undefined) sims.cameras = cameras.child;
    const plant: Plant = { gateway, subscriber, sims, mosquitto: broker.proc, cloud: cloud.child, protocols, counts: s.counts, offered: offered(s), profile: s.profile };
    await waitOnline(plant);
    for (const k of ['opcua', 'iec104'] as const) await sims[k]?.request('start');
    log(`values changing; warming up ${s.warmupMs / 1000} s`);
    await sleep(s.warmupMs);
    const load = await measureLoad(plant, s.durationMs);
    const idle = s.idle ? await measureIdle(plant, s.idleMs) : undefined;
    const result: PlantResult = { ...load, idle };
    const cloudStats = await cloud.child.request('stats');
    await subscriber.stop();
    await gateway.stop();
    await Promise.all(Object.values(sims).map((c) => c.stop()));
    await cloud.child.stop();
    await stopProcess(broker.proc);

    const allNotes = notes(s, result, load0, m.nproc, [
      ...extraNotes,
      `The cloud simulator received ${f0(Number(cloudStats.reports))} reports (${f0(Number(cloudStats.duplicates))} duplicates, ${f0(Number(cloudStats.gaps))} gaps) over the whole run.`,
    ]);
    const table = targetsTable(result, s.fullLoad);
    const perProtocol = protocolTable(result);
    process.stdout.write(`\n${table}\n\n${perProtocol}\n\n${allNotes.map((n) => `- ${n}`).join('\n')}\n`);
    // One line per protocol for scripts (and the smoke test).
    for (const p of result.protocols) process.stdout.write(`plant: ${p.protocol} ${Math.round(p.pointsPerSec)} points/s (read ${Math.round(p.readPerSec)}/s by the gateway; ${DRIVER_ID[p.protocol]} driver)\n`);
    process.stdout.write(`plant: total ${Math.round(result.pointsPerSec)} points/s\n`);
    if (profileFile !== undefined) printProfile(profileFile, s.profile === 'idle' ? 'idle phase' : 'loaded window');
    if (s.docs) {
      const file = path.join(ROOT, 'docs', 'performance.md');
      const section = plantSection({ result, fullLoad: s.fullLoad, started, machine: m, command: commandLine(s), options: optionsText(s, protocols), notes: allNotes });
      writeSection(file, '## Plant', section);
      log(`wrote the Plant section of ${path.relative(process.cwd(), file)}`);
    }
    ok = true;
  } finally {
    killAll();
    cleanup();
    if (ok && s.profile === undefined) rmSync(logs, { recursive: true, force: true });
    else log(`logs kept in ${logs}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:plant failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAll();
    process.exit(1);
  },
);
