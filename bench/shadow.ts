/**
 * Shadow store benchmark: prints figures, asserts nothing.
 *   node --import tsx bench/shadow.ts [updates=1000000] [devices=1000] [propsPerReport=10]
 * - report path: `store.report()` calls (each with `propsPerReport` changed properties, devices in
 *   round robin) with the background batch running (batchMs 50), as the gateway would do it;
 *   updates/s by wall time and CPU per million updates, batch (flush) latency p50/p99/max.
 * - outbox: append rate, then drain rate with peek(1000) + ackUpTo (what the cloud link does after PUBACKs).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShadowStore } from '../src/shadow/store.ts';
import type { PropertyUpdate } from '../src/shadow/state.ts';

const [updatesArg, devicesArg, propsArg] = process.argv.slice(2);
const UPDATES = Number(updatesArg ?? 1_000_000);
const DEVICES = Number(devicesArg ?? 1000);
const PROPS = Number(propsArg ?? 10);
const OUTBOX = 200_000;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
const f = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-shadow-'));
  const file = join(dir, 'shadow.db');
  try {
    const store = openShadowStore(file, { batchMs: 50, outboxMax: OUTBOX * 2 });
    const flushMs: number[] = [];
    const flushRows: number[] = [];
    store.onFlush((i) => {
      flushMs.push(i.durationMs);
      flushRows.push(i.shadows.length);
    });
    const names = Array.from({ length: DEVICES }, (_, i) => `dev-${i}`);
    const keys = Array.from({ length: PROPS }, (_, k) => `p${k}`);

    // Report path: yield to the event loop every slice so that the batch timer runs as in the gateway.
    const calls = Math.ceil(UPDATES / PROPS);
    const slice = 2000;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let c = 0;
    while (c < calls) {
      const end = Math.min(calls, c + slice);
      for (; c < end; c++) {
        const props: Record<string, PropertyUpdate> = {};
        const ts = Date.now();
        for (let k = 0; k < PROPS; k++) props[keys[k]!] = { value: c + k * 0.5, ts, quality: 'good' };
        store.report(names[c % DEVICES]!, props);
      }
      await new Promise((r) => setImmediate(r));
    }
    store.flush();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const updates = calls * PROPS;
    console.log(`shadow report: ${f(updates, 0)} property updates (${f(calls, 0)} report calls, ${DEVICES} devices, ${PROPS} props each)`);
    console.log(`  wall ${f(wallMs)} ms -> ${f(updates / (wallMs / 1000), 0)} updates/s`);
    console.log(`  CPU ${f(cpuMs)} ms -> ${f((cpuMs / updates) * 1e6)} ms CPU per million updates`);
    console.log(
      `  batches: ${flushMs.length}, shadows per batch p50 ${pct(flushRows, 50)}, flush latency p50 ${f(pct(flushMs, 50), 2)} ms, p99 ${f(pct(flushMs, 99), 2)} ms, max ${f(Math.max(...flushMs), 2)} ms`,
    );

    // Durable desire (fsynced commit) latency.
    const desireMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      store.desire(names[i % DEVICES]!, { sp: i });
      desireMs.push(performance.now() - t);
    }
    console.log(`desire (fsynced): p50 ${f(pct(desireMs, 50), 2)} ms, p99 ${f(pct(desireMs, 99), 2)} ms`);

    // Outbox append and drain.
    const payload = JSON.stringify({ kind: 'deviceReport', content: { blink: { properties: { t: 21.5, h: 40 } } } });
    const a0 = performance.now();
    for (let i = 0; i < OUTBOX; i++) {
      store.append(`thing/p/dev-${i % DEVICES}/property/post`, payload, 1);
      if (i % slice === 0) await new Promise((r) => setImmediate(r));
    }
    store.flush();
    const appendMs = performance.now() - a0;
    console.log(`outbox append: ${f(OUTBOX, 0)} messages in ${f(appendMs)} ms -> ${f(OUTBOX / (appendMs / 1000), 0)} msg/s`);
    const d0 = performance.now();
    let drained = 0;
    for (;;) {
      const rows = store.peek(1000);
      if (rows.length === 0) break;
      drained += store.ackUpTo(rows.at(-1)!.seq);
    }
    const drainMs = performance.now() - d0;
    console.log(`outbox drain (peek 1000 + ackUpTo): ${f(drained, 0)} messages in ${f(drainMs)} ms -> ${f(drained / (drainMs / 1000), 0)} msg/s`);
    store.close();
    console.log(`database file: ${f(statSync(file).size / 1024, 0)} KiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
