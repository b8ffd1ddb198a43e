/**
 * Cost of isolation: the same driver (the example KV/1 plugin) read in-process and isolated in a
 * worker thread, against its simulator in a child process. Prints points/s and CPU seconds per
 * million points (this process, worker threads included) for both, and their ratios, and writes
 * them into the `## Plugins` section of docs/performance.md. Bounded: about 10 s in all.
 *
 *   node --import tsx bench/plugins.ts [--seconds 3] [--points 100] [--no-write]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriverDescriptor, Point } from '../src/drivers/sdk/index.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const EXAMPLE = path.join(REPO, 'examples', 'driver-plugin');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

if (process.argv.includes('--sim')) {
  // Child: the instrument, so that its CPU is not counted against the gateway side.
  const { startKvSimulator } = await import('../examples/driver-plugin/simulator/kv-simulator.ts');
  const n = arg('points', 100);
  const keys: Record<string, { value: string }> = {};
  for (let i = 0; i < n; i++) keys[`k${i}`] = { value: String(i * 1.5) };
  const sim = await startKvSimulator({ keys });
  process.send?.({ port: sim.port });
  process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
} else {
  await main();
}

interface Run {
  readonly mode: 'inProcess' | 'isolated';
  readonly points: number;
  readonly seconds: number;
  readonly pointsPerSec: number;
  readonly cpuPerMillion: number;
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 3);
  const nPoints = arg('points', 100);
  const { linkFieldgate } = await import('../test/plugins/link.ts');
  linkFieldgate(EXAMPLE);
  const { loadPlugin } = await import('../src/gateway/plugins/loader.ts');
  const sim: ChildProcess = fork(fileURLToPath(import.meta.url), ['--sim', '--points', String(nPoints)], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => sim.once('message', (m: { port: number }) => resolve(m.port)));
  const runs: Run[] = [];
  try {
    for (const mode of ['inProcess', 'isolated'] as const) {
      const plugin = await loadPlugin({ path: EXAMPLE, mode }, REPO);
      runs.push(await measure(plugin.descriptor, mode, port, nPoints, seconds));
    }
  } finally {
    sim.disconnect();
  }
  const [a, b] = runs as [Run, Run];
  const table = [
    '| mode | points read | seconds | points/s | CPU s per million points |',
    '|---|---:|---:|---:|---:|',
    ...runs.map((r) => `| ${r.mode} | ${r.points} | ${r.seconds.toFixed(1)} | ${Math.round(r.pointsPerSec)} | ${r.cpuPerMillion.toFixed(2)} |`),
    `| isolated / inProcess | | | ${(b.pointsPerSec / a.pointsPerSec).toFixed(2)}× | ${(b.cpuPerMillion / a.cpuPerMillion).toFixed(2)}× |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (!process.argv.includes('--no-write')) writeSection(table, nPoints, seconds);
}

async function measure(d: DriverDescriptor, mode: Run['mode'], port: number, nPoints: number, seconds: number): Promise<Run> {
  const connection = d.connectionSchema.parse({ address: '127.0.0.1', port, interval: '1s', timeout: '2s' });
  const points: Point[] = Array.from({ length: nPoints }, (_, i) => ({ id: String(i), name: `k${i}`, type: 'float64', address: d.addressSchema.parse({ key: `k${i}` }) }));
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
  const stop = new AbortController();
  const driver = d.create({ log: silent, clock: { now: Date.now, monotonic: () => performance.now(), setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) }, metrics: { count: () => undefined }, signal: stop.signal, dataDir: os.tmpdir() });
  const session = await driver.connect(connection, { signal: stop.signal, onLost: () => undefined });
  const device = { name: 'bench', connection };
  const window = d.link(connection).window;
  let read = 0;
  const loop = async (until: number): Promise<void> => {
    while (performance.now() < until) {
      const r = await session.read(device, points, stop.signal);
      read += r.filter((x) => x.quality === 'good').length;
    }
  };
  await Promise.all(Array.from({ length: window }, () => loop(performance.now() + 500))); // warm up (JIT, worker start)
  read = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: window }, () => loop(t0 + seconds * 1000)));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await session.close();
  await driver.close?.();
  stop.abort();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { mode, points: read, seconds: wall, pointsPerSec: read / wall, cpuPerMillion: (cpuS / read) * 1e6 };
}

/** Replaces (or appends) the `## Plugins` section of docs/performance.md, keeping the rest. */
function writeSection(table: string, nPoints: number, seconds: number): void {
  const file = path.join(REPO, 'docs', 'performance.md');
  const section =
    `## Plugins\n\n` +
    `Cost of isolation (\`node --import tsx bench/plugins.ts\`): the example KV/1 plugin (examples/driver-plugin) reads ${nPoints} points per call ` +
    `over TCP from its simulator (a separate process), ${d(seconds)} s per mode, as many calls in flight as its link window (4). ` +
    `\`inProcess\` runs the driver in the gateway's thread; \`isolated\` runs it in a worker thread behind the same Driver/Session API ` +
    `(requests and results cross by structured clone). CPU is this process's user+system time, worker thread included. ` +
    `Measured on ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, on a machine shared with other work; ratios are steadier than absolute figures.\n\n` +
    `${table}\n`;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n';
  const start = old.search(/^## Plugins\s*$/m);
  let next: string;
  if (start < 0) next = `${old.trimEnd()}\n\n${section}`;
  else {
    const rest = old.slice(start + 1);
    const end = rest.search(/^## /m);
    next = old.slice(0, start) + section + (end < 0 ? '' : `\n${rest.slice(end)}`);
  }
  writeFileSync(file, next);
}

function d(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
