/**
 * The plant benchmark's command line: the issue's default load (issue 9), `--scale` to shrink or
 * grow every device count, per-protocol base counts, and the phases' durations.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/devicemodel/duration.ts';

/** The protocols of the plant, in table order. */
export const PROTOCOLS = ['modbus', 'opcua', 'bacnet', 'iec104', 'cameras'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Display names. */
export const TITLE: Readonly<Record<Protocol, string>> = { modbus: 'Modbus/TCP', opcua: 'OPC UA', bacnet: 'BACnet/IP', iec104: 'IEC 104', cameras: 'cameras (ONVIF)' };

/** The default device counts (at `--scale 1`). */
export const DEFAULT_COUNTS: Readonly<Record<Protocol, number>> = { modbus: 1000, opcua: 50, bacnet: 20, iec104: 10, cameras: 4 };

/** What each device carries; fixed by the issue, not by options. */
export const SHAPE = {
  modbusPoints: 100,
  modbusIntervalMs: 1000,
  opcuaItems: 200,
  opcuaMs: 200,
  bacnetObjects: 100,
  bacnetIntervalMs: 1000,
  iec104Points: 2000,
  cameraIntervalMs: 5000,
} as const;

/** Everything a run needs. */
export interface PlantSettings {
  /** Devices per protocol after scaling (0 = the protocol is left out). */
  readonly counts: Readonly<Record<Protocol, number>>;
  readonly scale: number;
  /** Spontaneous IEC 104 changes per second over all stations. */
  readonly iec104Rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly idleMs: number;
  readonly idle: boolean;
  readonly docs: boolean;
  /** Run the gateway's CPU profiler over this phase (the docs are then not written). */
  readonly profile: 'load' | 'idle' | undefined;
  /** True when the counts are the (scale 1, no overrides): only then do throughput targets apply. */
  readonly fullLoad: boolean;
  /** The arguments as given, for the record. */
  readonly argv: readonly string[];
}

export const USAGE =
  'usage: npm run bench:plant -- [--duration 5m] [--warmup 30s] [--scale 1] [--modbus 1000] [--opcua 50] [--bacnet 20] [--iec104 10] [--cameras 4]\n' +
  '         [--iec104-rate <changes/s, default: every point once a second>] [--idle-duration 60s] [--no-idle] [--no-docs] [--profile load|idle]\n' +
  'Counts are base counts that --scale multiplies (a protocol with a nonzero base keeps at least 1 device); 0 leaves the protocol out.';

function ms(name: string, v: string): number {
  const x = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : parseDuration(v);
  if (x === undefined || !(x > 0)) throw new Error(`--${name}: expected a duration such as 30s, 5m, 500ms (a bare number is seconds), got ${v}`);
  return x;
}

function count(name: string, v: string, max: number): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0 || x > max) throw new Error(`--${name}: expected an integer in 0..${max}, got ${v}`);
  return x;
}

/** Parses `argv` (without node and the script); throws with a message naming the option. */
export function parsePlantArgs(argv: readonly string[]): PlantSettings | 'help' {
  const { values: o } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '5m' },
      warmup: { type: 'string', default: '30s' },
      scale: { type: 'string', default: '1' },
      modbus: { type: 'string' },
      opcua: { type: 'string' },
      bacnet: { type: 'string' },
      iec104: { type: 'string' },
      cameras: { type: 'string' },
      'iec104-rate': { type: 'string' },
      'idle-duration': { type: 'string', default: '60s' },
      'no-idle': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (o.help) return 'help';
  const scale = Number(o.scale);
  if (!(scale > 0 && scale <= 10)) throw new Error(`--scale: expected a number in (0, 10], got ${o.scale}`);
  const max: Record<Protocol, number> = { modbus: 20_000, opcua: 1000, bacnet: 1000, iec104: 500, cameras: 100 };
  const counts = {} as Record<Protocol, number>;
  let overridden = false;
  for (const p of PROTOCOLS) {
    const given = o[p];
    if (given !== undefined) overridden = true;
    const base = given === undefined ? DEFAULT_COUNTS[p] : count(p, given, max[p]);
    counts[p] = base === 0 ? 0 : Math.min(max[p], Math.max(1, Math.round(base * scale)));
  }
  if (PROTOCOLS.every((p) => counts[p] === 0)) throw new Error('every protocol is at 0 devices: nothing to measure');
  const rateArg = o['iec104-rate'];
  const iec104Rate = rateArg === undefined ? counts.iec104 * SHAPE.iec104Points : Number(rateArg);
  if (!(iec104Rate >= 0 && iec104Rate <= 1_000_000)) throw new Error(`--iec104-rate: expected changes per second in 0..1000000, got ${rateArg}`);
  const profile = o.profile;
  if (profile !== undefined && profile !== 'load' && profile !== 'idle') throw new Error(`--profile: load or idle, got ${profile}`);
  if (profile === 'idle' && o['no-idle']) throw new Error('--profile idle needs the idle phase (drop --no-idle)');
  return {
    counts,
    scale,
    iec104Rate,
    durationMs: ms('duration', o.duration),
    warmupMs: ms('warmup', o.warmup),
    idleMs: ms('idle-duration', o['idle-duration']),
    idle: !o['no-idle'],
    docs: !o['no-docs'] && profile === undefined,
    profile,
    fullLoad: scale === 1 && !overridden && rateArg === undefined,
    argv,
  };
}

/** Points per second each protocol's simulators offer under load (what a lossless gateway would publish). */
export function offered(s: Pick<PlantSettings, 'counts' | 'iec104Rate'>): Record<Protocol, number> {
  const c = s.counts;
  return {
    modbus: (c.modbus * SHAPE.modbusPoints * 1000) / SHAPE.modbusIntervalMs,
    // Every item but the read-write setpoint `sp` changes every period (the `ts` item included).
    opcua: (c.opcua * (SHAPE.opcuaItems - 1) * 1000) / SHAPE.opcuaMs,
    // Every object and the `ts` object change at every poll.
    bacnet: (c.bacnet * (SHAPE.bacnetObjects + 1) * 1000) / SHAPE.bacnetIntervalMs,
    iec104: c.iec104 > 0 ? s.iec104Rate : 0,
    // Camera facts (model, profiles) do not change: reported once, then never under report by exception.
    cameras: 0,
  };
}
