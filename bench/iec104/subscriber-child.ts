/**
 * Benchmark child: an MQTT subscriber on `thing/+/+/property/post` that counts the properties
 * (points) it receives and, for every numeric property, the end-to-end latency: its receive time
 * minus the value's generation time, which the value itself carries (epoch ms modulo TIME_MODULO,
 * see conf.ts).
 *
 *   node --import tsx bench/iec104/subscriber-child.ts <brokerUrl>
 *
 * Requests: `start` (forget everything, count from now), `stats` (figures since `start`).
 */
import mqtt from 'mqtt';
import { runChild, serveParent } from '../lib/proc.ts';
import { TIME_MODULO } from './conf.ts';

const url = process.argv[2];
let counting = false;
let t0 = 0;
let messages = 0;
let points = 0;
/** Latency histogram in whole ms (index = ms; the last bucket holds everything above). */
const MAX_MS = 120_000;
let hist = new Uint32Array(MAX_MS + 1);
let perSecond: number[] = [];

function percentile(p: number, total: number): number {
  if (total === 0) return Number.NaN;
  const want = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let ms = 0; ms < hist.length; ms++) {
    seen += hist[ms]!;
    if (seen >= want) return ms;
  }
  return MAX_MS;
}

async function main(): Promise<void> {
  if (url === undefined) throw new Error('usage: subscriber-child.ts <brokerUrl>');
  const client = mqtt.connect(url, { clientId: `bench104-sub-${process.pid}`, reconnectPeriod: 500, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  let samples = 0;
  let maxMs = 0;
  client.on('message', (_topic, payload) => {
    if (!counting) return;
    const now = Date.now();
    const props = (JSON.parse(payload.toString('utf8')) as { content: { blink: { properties: Record<string, unknown> } } }).content.blink.properties;
    const nowMod = now % TIME_MODULO;
    let n = 0;
    for (const k in props) {
      n++;
      const v = props[k];
      if (typeof v !== 'number') continue;
      const lat = (((nowMod - v) % TIME_MODULO) + TIME_MODULO) % TIME_MODULO;
      hist[Math.min(MAX_MS, Math.round(lat))]!++;
      samples++;
      if (lat > maxMs) maxMs = lat;
    }
    messages++;
    points += n;
    const sec = Math.floor((now - t0) / 1000);
    perSecond[sec] = (perSecond[sec] ?? 0) + n;
  });
  await client.subscribeAsync('thing/+/+/property/post', { qos: 0 });
  serveParent({
    start: () => {
      counting = true;
      t0 = Date.now();
      messages = 0;
      points = 0;
      samples = 0;
      maxMs = 0;
      hist = new Uint32Array(MAX_MS + 1);
      perSecond = [];
    },
    stats: () => {
      const elapsed = (Date.now() - t0) / 1000;
      const full = Array.from({ length: Math.floor(elapsed) }, (_, i) => perSecond[i] ?? 0);
      return {
        elapsed,
        messages,
        points,
        samples,
        p50: percentile(50, samples),
        p99: percentile(99, samples),
        max: maxMs,
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
