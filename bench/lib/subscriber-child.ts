/**
 * Benchmark child: an MQTT subscriber on `thing/+/+/property/post` that counts the properties
 * (points) it receives and, from each report's `ts` property (the simulator's Date.now() when the
 * values changed), the latency to its arrival here.
 *
 *   node --import tsx bench/lib/subscriber-child.ts <brokerUrl>
 *
 * Requests: `start` (forget everything, count from now), `stats` (figures since `start`).
 */
import mqtt from 'mqtt';
import { runChild, serveParent } from './proc.ts';

const url = process.argv[2];

let counting = false;
let t0 = 0;
let messages = 0;
let points = 0;
let badJson = 0;
let latencies = new Float64Array(1 << 16);
let nLat = 0;
/** Points per whole second since `start`. */
let perSecond: number[] = [];
const devices = new Set<string>();

function record(latency: number): void {
  if (nLat === latencies.length) {
    const next = new Float64Array(latencies.length * 2);
    next.set(latencies);
    latencies = next;
  }
  latencies[nLat++] = latency;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  if (url === undefined) throw new Error('usage: subscriber-child.ts <brokerUrl>');
  const client = mqtt.connect(url, { clientId: `bench-sub-${process.pid}`, reconnectPeriod: 500, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('message', (topic, payload) => {
    if (!counting) return;
    const now = Date.now();
    let props: Record<string, unknown>;
    try {
      props = (JSON.parse(payload.toString('utf8')) as { content: { blink: { properties: Record<string, unknown> } } }).content.blink.properties;
    } catch {
      badJson++;
      return;
    }
    let n = 0;
    for (const _k in props) n++;
    messages++;
    points += n;
    const sec = Math.floor((now - t0) / 1000);
    perSecond[sec] = (perSecond[sec] ?? 0) + n;
    devices.add(topic);
    const ts = props.ts;
    if (typeof ts === 'number') record(now - ts);
  });
  await client.subscribeAsync('thing/+/+/property/post', { qos: 0 });
  serveParent({
    start: () => {
      counting = true;
      t0 = Date.now();
      messages = 0;
      points = 0;
      badJson = 0;
      nLat = 0;
      perSecond = [];
      devices.clear();
    },
    stats: () => {
      const elapsed = (Date.now() - t0) / 1000;
      const sorted = latencies.slice(0, nLat).sort();
      // Whole seconds only: the last one is still filling.
      const full = Array.from({ length: Math.floor(elapsed) }, (_, i) => perSecond[i] ?? 0);
      return {
        elapsed,
        messages,
        points,
        badJson,
        devices: devices.size,
        latencyCount: nLat,
        p50: pct(sorted, 50),
        p99: pct(sorted, 99),
        max: nLat > 0 ? sorted[nLat - 1] : Number.NaN,
        minPerSecond: full.length > 0 ? Math.min(...full) : 0,
        maxPerSecond: full.length > 0 ? Math.max(...full) : 0,
      };
    },
    stop: async () => {
      await client.endAsync(true);
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready' });
}

runChild(main);
