/**
 * Benchmark child: the upper bound. Plain modbus-serial clients read the same simulators at the
 * same rate with the same requests as the gateway (one client per endpoint, the same pipelining
 * window, each device's points planned into blocks by the driver's pure planner, ticks staggered
 * over the interval like the gateway's), and do nothing with the answers but count their points:
 * no decoding, no mapping, no report policy, no JSON, no MQTT.
 *
 *   node --import tsx bench/lib/bare-child.ts <confDir>
 *
 * Requests: `start` (reset the counters), `stats` (points read, requests, errors, overruns).
 */
import ModbusPkg from 'modbus-serial';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { formatIssues } from '../../src/gateway/config/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import { planReads } from '../../src/drivers/modbus/plan.ts';
import type { ReadBlock } from '../../src/drivers/modbus/plan.ts';
import type { Point } from '../../src/drivers/sdk/index.ts';
import { runChild, serveParent } from './proc.ts';

type ModbusClass = (typeof ModbusPkg)['default'];
type Client = InstanceType<ModbusClass>;
const ModbusRTU = ((ModbusPkg as unknown as { default?: ModbusClass }).default ?? ModbusPkg) as ModbusClass;

const counters = { points: 0, requests: 0, errors: 0, polls: 0, overruns: 0 };

/** One endpoint: a client and a window of requests in flight. */
class Endpoint {
  private busy = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    readonly client: Client,
    private readonly window: number,
  ) {}

  /** One FC3 request for `block` of unit `id`; resolves with its point count (0 on error). */
  async read(id: number, timeout: number, block: ReadBlock): Promise<number> {
    if (this.busy >= this.window) await new Promise<void>((r) => this.queue.push(r));
    else this.busy++;
    try {
      // Unit id and timeout are client state read synchronously when the frame is sent.
      this.client.setID(id);
      this.client.setTimeout(timeout);
      counters.requests++;
      await this.client.readHoldingRegisters(block.start, block.count);
      return block.points.length;
    } catch {
      counters.errors++;
      return 0;
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.busy--;
    }
  }
}

/** Fixed-rate ticks at `origin + k * interval`; a tick that finds the last poll running is skipped. */
function schedule(interval: number, offset: number, poll: () => Promise<void>, stopped: () => boolean): void {
  const origin = performance.now() + offset;
  let tick = 0;
  let running = false;
  const fire = () => {
    if (stopped()) return;
    const current = Math.max(tick, Math.floor((performance.now() - origin) / interval));
    counters.overruns += current - tick;
    tick = current + 1;
    if (running) counters.overruns++;
    else {
      running = true;
      counters.polls++;
      void poll().finally(() => {
        running = false;
      });
    }
    setTimeout(fire, Math.max(0, origin + tick * interval - performance.now()));
  };
  setTimeout(fire, Math.max(0, offset));
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: bare-child.ts <confDir>');
  const r = await loadConfig(dir, createRegistry());
  if (!r.ok) throw new Error(formatIssues(r.issues));
  const devices = r.instances.flatMap((i) => i.devices);
  const endpoints = new Map<string, Endpoint>();
  const plans: { ep: Endpoint; conn: ModbusConnection; blocks: ReadBlock[] }[] = [];
  for (const d of devices) {
    const conn = d.connection as unknown as ModbusConnection;
    const tcp = conn.tcp!;
    const key = `${tcp.address}:${tcp.port}`;
    let ep = endpoints.get(key);
    if (ep === undefined) {
      const client = new ModbusRTU();
      client.on('error', () => undefined);
      await client.connectTCP(tcp.address, { port: tcp.port });
      ep = new Endpoint(client, conn.window);
      endpoints.set(key, ep);
    }
    const points = d.points as unknown as Point<ModbusAddress>[];
    plans.push({ ep, conn, blocks: planReads(points, { maxGap: conn.maxGap, maxRegisters: conn.maxRegisters, maxBits: conn.maxBits }) });
  }
  let stopped = false;
  plans.forEach((p, i) => {
    // The gateway's stagger: devices of one interval spread evenly over it.
    const offset = plans.length <= 1 ? 0 : Math.floor((i * p.conn.interval) / plans.length) % p.conn.interval;
    schedule(
      p.conn.interval,
      offset,
      async () => {
        const n = await Promise.all(p.blocks.map((b) => p.ep.read(p.conn.id, p.conn.timeout, b)));
        for (const x of n) counters.points += x;
      },
      () => stopped,
    );
  });
  serveParent({
    start: () => {
      counters.points = 0;
      counters.requests = 0;
      counters.errors = 0;
      counters.polls = 0;
      counters.overruns = 0;
    },
    stats: () => ({ ...counters }),
    stop: async () => {
      stopped = true;
      await Promise.all([...endpoints.values()].map((e) => new Promise<void>((res) => e.client.close(() => res()))));
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', endpoints: endpoints.size, devices: devices.length, requestsPerPoll: plans[0]?.blocks.length ?? 0 });
}

runChild(main);
