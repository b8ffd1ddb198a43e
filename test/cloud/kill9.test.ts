import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openShadowStore } from '../../src/shadow/store.ts';
import { startCloudSimulator } from '../../simulators/cloud/index.ts';
import { sleep, tempDir, waitUntil } from './helpers.ts';

const EDGE = fileURLToPath(new URL('./fixtures/edge.ts', import.meta.url));
const DEVICES = 5;
const NODE = 'node-k';

interface Line {
  start?: boolean;
  backlog: number;
  versions: Record<string, number>;
}

function runEdge(file: string, url: string, feedMs: number, maxMs: number): { child: ChildProcess; lines: Line[]; exited: Promise<NodeJS.Signals | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', EDGE, file, url, String(DEVICES), String(feedMs), String(maxMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Line);
      buf = buf.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  return { child, lines, exited, stderr: () => err };
}

test('kill -9 of the gateway during a cloud outage: after restart everything stored before the kill reaches the cloud', async () => {
  const tmp = tempDir('fg-cloud-kill9-');
  const file = tmp.file('shadow.db');
  const cloud = await startCloudSimulator({ port: 0, keepHistory: true });
  const children: ChildProcess[] = [];
  try {
    const a = runEdge(file, cloud.url, 60_000, 20_000);
    children.push(a.child);
    await cloud.waitFor(() => cloud.stats().reports >= 50, 10_000, `first reports (stderr: ${a.stderr()})`);
    await cloud.stop();
    const linesAtStop = a.lines.length;
    await sleep(1000);
    assert.ok(a.lines.length > linesAtStop + 5, 'the edge kept committing during the outage');
    a.child.kill('SIGKILL');
    assert.equal(await a.exited, 'SIGKILL');
    const stored = a.lines.at(-1)!.versions;
    const total = Object.values(stored).reduce((x, y) => x + y, 0);
    assert.equal(Object.keys(stored).length, DEVICES);
    assert.ok(total > cloud.stats().reports, `stored ${total} reports, cloud has ${cloud.stats().reports}`);

    await cloud.start();
    const b = runEdge(file, cloud.url, 0, 20_000);
    children.push(b.child);
    await waitUntil(() => b.lines.length > 0, 10_000, `restarted edge (stderr: ${b.stderr()})`);
    assert.ok(b.lines[0]!.start === true && b.lines[0]!.backlog > 0, `backlog after restart: ${b.lines[0]!.backlog}`);
    await cloud.waitFor(
      () => Object.entries(stored).every(([d, v]) => (cloud.device(NODE, d)?.reportVersion ?? 0) >= v),
      15_000,
      'every stored report at the cloud',
    );
    let duplicates = 0;
    for (const [d, v] of Object.entries(stored)) {
      const dev = cloud.device(NODE, d)!;
      const versions = dev.history.map((h) => h.reportVersion);
      // In order, each once (duplicates were dropped by seq), and none missing up to what was stored.
      for (let i = 1; i < versions.length; i++) assert.ok(versions[i]! > versions[i - 1]!, `${d} order at ${i}: ${versions[i - 1]} then ${versions[i]}`);
      const seen = new Set(versions);
      for (let k = 1; k <= v; k++) assert.ok(seen.has(k), `${d}: report version ${k} of ${v} missing`);
      assert.equal(dev.counters.gaps, 0, `${d} gaps`);
      duplicates += dev.counters.duplicates;
    }
    console.log(`# kill -9: ${total} stored reports delivered, ${duplicates} duplicates dropped by seq`);
    b.child.kill('SIGKILL');
    await b.exited;

    // The shadows survived both kills.
    const store = openShadowStore(file);
    try {
      for (const [d, v] of Object.entries(stored)) assert.ok(store.get(d)!.reportVersion >= v, `${d} shadow intact`);
    } finally {
      store.close();
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cloud.close();
    tmp.remove();
  }
});
