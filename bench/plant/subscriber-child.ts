/**
 * Plant benchmark child: an MQTT subscriber on `thing/+/+/property/post` that counts the points
 * (properties) it receives per protocol, told apart by the device-name prefix in the topic, with
 * each protocol's end-to-end latency; and, from mosquitto's `$SYS/broker/publish/messages/*`
 * counters (the bench sets `sys_interval 1`), the PUBLISH messages the broker received and sent.
 *
 *   node --import tsx bench/plant/subscriber-child.ts <brokerUrl> <parts-json>
 *
 * `parts-json` maps a device-name prefix to `{name, latency}`: `ts` = the report's `ts` property is
 * the simulator's Date.now() when the values changed; `value` = every numeric property is its own
 * generation time, epoch ms modulo TIME_MODULO (the IEC 104 bench); `none` = no latency.
 *
 * Requests: `start` (forget everything, count from now), `stats` (figures since `start`), `stop`.
 */
import mqtt from 'mqtt';
import { TIME_MODULO } from '../iec104/conf.ts';
import { runChild, serveParent } from '../lib/proc.ts';
import type { LatencyMode } from './conf.ts';

const [url, partsArg] = process.argv.slice(2);

/** Latency histogram bound (ms): the last bucket holds everything above. */
const MAX_MS = 60_000;

class Part {
  points = 0;
  messages = 0;
  samples = 0;
  maxMs = 0;
  hist = new Uint32Array(MAX_MS + 1);
  perSecond: number[] = [];
  constructor(
    readonly name: string,
    readonly latency: LatencyMode,
  ) {}

  record(ms: number): void {
    const b = Math.min(MAX_MS, Math.max(0, Math.round(ms)));
    this.hist[b]!++;
    this.samples++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  percentile(p: number): number {
    if (this.samples === 0) return Number.NaN;
    const want = Math.ceil((p / 100) * this.samples);
    let seen = 0;
    for (let i = 0; i < this.hist.length; i++) {
      seen += this.hist[i]!;
      if (seen >= want) return i;
    }
    return MAX_MS;
  }
}

/** A $SYS counter's first and last value seen since `start`, with their arrival times. */
interface SysSeries {
  first: { v: number; t: number };
  last: { v: number; t: number };
}

async function main(): Promise<void> {
  if (url === undefined || partsArg === undefined) throw new Error('usage: subscriber-child.ts <brokerUrl> <parts-json>');
  const spec = JSON.parse(partsArg) as Record<string, { name: string; latency: LatencyMode }>;
  let parts = new Map<string, Part>();
  const reset = () => {
    parts = new Map(Object.entries(spec).map(([prefix, s]) => [prefix, new Part(s.name, s.latency)]));
  };
  reset();
  let counting = false;
  let t0 = Date.now();
  let other = 0;
  let badJson = 0;
  let sys = new Map<string, SysSeries>();

  const client = mqtt.connect(url, { clientId: `plant-sub-${process.pid}`, reconnectPeriod: 500, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('message', (topic, payload) => {
    if (!counting) return;
    const now = Date.now();
    if (topic.startsWith('$SYS/')) {
      const v = Number(payload.toString('utf8'));
      if (!Number.isFinite(v)) return;
      const s = sys.get(topic);
      if (s === undefined) sys.set(topic, { first: { v, t: now }, last: { v, t: now } });
      else s.last = { v, t: now };
      return;
    }
    // thing/{product}/{device}/property/post
    const device = topic.split('/', 3)[2] ?? '';
    const part = parts.get(device.slice(0, device.indexOf('-') + 1));
    if (part === undefined) {
      other++;
      return;
    }
    let props: Record<string, unknown>;
    try {
      props = (JSON.parse(payload.toString('utf8')) as { content: { blink: { properties: Record<string, unknown> } } }).content.blink.properties;
    } catch {
      badJson++;
      return;
    }
    let n = 0;
    if (part.latency === 'value') {
      const nowMod = now % TIME_MODULO;
      for (const k in props) {
        n++;
        const v = props[k];
        if (typeof v === 'number') part.record((((nowMod - v) % TIME_MODULO) + TIME_MODULO) % TIME_MODULO);
      }
    } else {
      for (const _k in props) n++;
      if (part.latency === 'ts' && typeof props.ts === 'number') part.record(now - props.ts);
    }
    part.messages++;
    part.points += n;
    const sec = Math.floor((now - t0) / 1000);
    part.perSecond[sec] = (part.perSecond[sec] ?? 0) + n;
  });
  await client.subscribeAsync(['thing/+/+/property/post', '$SYS/broker/publish/messages/+'], { qos: 0 });
  serveParent({
    start: () => {
      counting = true;
      t0 = Date.now();
      other = 0;
      badJson = 0;
      sys = new Map();
      reset();
    },
    stats: () => {
      const elapsed = (Date.now() - t0) / 1000;
      const seconds = Math.floor(elapsed);
      const byPart: Record<string, Record<string, number>> = {};
      for (const p of parts.values()) {
        const full = Array.from({ length: seconds }, (_, i) => p.perSecond[i] ?? 0);
        byPart[p.name] = {
          points: p.points,
          messages: p.messages,
          samples: p.samples,
          p50: p.percentile(50),
          p99: p.percentile(99),
          max: p.samples > 0 ? p.maxMs : Number.NaN,
          minPerSecond: full.length > 0 ? Math.min(...full) : 0,
        };
      }
      // Rates of mosquitto's counters over the span between their first and last update.
      const rate = (topic: string) => {
        const s = sys.get(topic);
        return s === undefined || s.last.t - s.first.t < 1000 ? Number.NaN : ((s.last.v - s.first.v) * 1000) / (s.last.t - s.first.t);
      };
      return {
        elapsed,
        parts: byPart,
        other,
        badJson,
        brokerReceivedPerSec: rate('$SYS/broker/publish/messages/received'),
        brokerSentPerSec: rate('$SYS/broker/publish/messages/sent'),
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
