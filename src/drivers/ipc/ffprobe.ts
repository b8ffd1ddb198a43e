/**
 * Stream health by ffprobe: open the stream, read a few packets (one per frame for H.264/H.265
 * over RTP) of the first video stream and report codec, size, frame rate and when a frame was last
 * seen. Packets, not decoded frames: a camera that sends SPS/PPS only with its key frames leaves
 * the first frames undecodable, yet the stream is healthy. Argument building and JSON
 * parsing are pure (tested with recorded output); {@link Prober} runs at most one ffprobe per
 * camera stream at a time and at most one per `interval`, because each run opens the stream.
 */
import { DriverError } from '../sdk/index.ts';
import type { Gate } from '../sdk/index.ts';
import { lastLine, runProcess } from './child.ts';

/** What one ffprobe run found. */
export interface StreamHealth {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second: measured from the frames read, else the stream's declared rate. */
  readonly fps: number;
  /** Video packets (frames) read in this run. */
  readonly frames: number;
}

/** Packets ffprobe reads per run (enough to measure a rate, few enough to finish quickly). */
export const PROBE_FRAMES = 8;

/** ffprobe arguments for `url` (RTSP options only for rtsp:// URLs). */
export function ffprobeArgs(url: string, opts: { transport: 'udp' | 'tcp'; timeoutMs: number; frames?: number }): string[] {
  const rtsp = /^rtsps?:/i.test(url)
    ? ['-rtsp_transport', opts.transport, '-timeout', String(Math.max(1, Math.round(opts.timeoutMs * 1000)))]
    : [];
  return [
    '-v', 'error',
    // Codec parameters come from the SDP; one second of analysis is plenty (default 5 s).
    '-analyzeduration', '1000000',
    ...rtsp,
    '-select_streams', 'v:0',
    '-read_intervals', `%+#${opts.frames ?? PROBE_FRAMES}`,
    '-show_entries', 'stream=codec_name,width,height,avg_frame_rate,r_frame_rate:packet=pts_time',
    '-of', 'json',
    url,
  ];
}

/** "30000/1001" → 29.97; "0/0" or junk → undefined. */
export function parseRate(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (m === null) return undefined;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!(den > 0) || !(num > 0)) return undefined;
  return num / den;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Parses `ffprobe -of json` output (see {@link ffprobeArgs}). */
export function parseFfprobe(json: string): { ok: true; value: StreamHealth } | { ok: false; error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return { ok: false, error: 'ffprobe printed no JSON' };
  }
  const o = (doc ?? {}) as { streams?: unknown; packets?: unknown };
  const stream = Array.isArray(o.streams) ? (o.streams[0] as Record<string, unknown> | undefined) : undefined;
  if (stream === undefined || typeof stream.codec_name !== 'string') return { ok: false, error: 'the stream has no video track' };
  const packets = Array.isArray(o.packets) ? o.packets : [];
  const times = packets
    .map((f) => Number((f as Record<string, unknown>).pts_time))
    .filter((t) => Number.isFinite(t));
  // The median gap between distinct frame times: robust to a frame missing at the start and
  // to B-frames arriving out of presentation order.
  let fps: number | undefined;
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!).sort((a, b) => a - b);
  // The lower median: lost packets only ever make gaps longer.
  const median = gaps[Math.floor((gaps.length - 1) / 2)];
  if (median !== undefined && median > 0) fps = 1 / median;
  fps ??= parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate) ?? 0;
  return {
    ok: true,
    value: {
      codec: stream.codec_name,
      width: typeof stream.width === 'number' ? stream.width : 0,
      height: typeof stream.height === 'number' ? stream.height : 0,
      fps: round2(fps),
      frames: packets.length,
    },
  };
}

/** Runs ffprobe once; rejects with `Timeout`, `Offline` (stream unreachable) or `Protocol`. */
export async function probeStream(url: string, opts: { transport: 'udp' | 'tcp'; timeoutMs: number; signal?: AbortSignal; command?: string }): Promise<StreamHealth> {
  const r = await runProcess(opts.command ?? 'ffprobe', ffprobeArgs(url, opts), { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (r.code !== 0) throw new DriverError('Offline', `ffprobe ${redact(url)}: ${lastLine(r.stderr)}`, { detail: { exitCode: r.code ?? -1 } });
  const p = parseFfprobe(r.stdout.toString('utf8'));
  if (!p.ok) throw new DriverError('Protocol', `ffprobe ${redact(url)}: ${p.error}`);
  if (p.value.frames === 0) throw new DriverError('Offline', `ffprobe ${redact(url)}: no video packet arrived`);
  return p.value;
}

/** The URL without its password (for logs and messages). */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** The latest probe of one stream: its result or error, and when. */
export type ProbeState =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly health: StreamHealth; readonly at: number }
  | { readonly kind: 'error'; readonly error: DriverError; readonly at: number; readonly lastOk?: { readonly health: StreamHealth; readonly at: number } };

/**
 * One stream's prober: `refresh()` starts ffprobe unless one is running or the last one started
 * less than `interval` ago; `state` is the latest outcome. Only one ffprobe runs at a time.
 */
export class Prober {
  #state: ProbeState = { kind: 'none' };
  #running: Promise<void> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #closed = new AbortController();
  /** How many ffprobe processes were started (tests check the rate limit). */
  runs = 0;

  constructor(
    private readonly url: string,
    private readonly opts: {
      interval: number;
      timeout: number;
      transport: 'udp' | 'tcp';
      now: () => number;
      command?: string;
      /** Shared by the streams of one camera: one ffprobe at a time per camera. */
      gate?: Gate;
    },
  ) {}

  get state(): ProbeState {
    return this.#state;
  }

  /** Starts a probe if allowed; resolves when the current (or started) probe ends. */
  refresh(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    if (this.#closed.signal.aborted || this.opts.now() - this.#lastStart < this.opts.interval) return Promise.resolve();
    this.#lastStart = this.opts.now();
    this.runs++;
    const run = () =>
      probeStream(this.url, {
        transport: this.opts.transport,
        timeoutMs: this.opts.timeout,
        signal: this.#closed.signal,
        ...(this.opts.command ? { command: this.opts.command } : {}),
      });
    const p = (this.opts.gate ? this.opts.gate.run(run) : run()).then(
      (health) => {
        this.#state = { kind: 'ok', health, at: this.opts.now() };
      },
      (e: unknown) => {
        const prev = this.#state;
        const lastOk = prev.kind === 'ok' ? { health: prev.health, at: prev.at } : prev.kind === 'error' ? prev.lastOk : undefined;
        const error = e instanceof DriverError ? e : new DriverError('Protocol', String(e));
        this.#state = { kind: 'error', error, at: this.opts.now(), ...(lastOk ? { lastOk } : {}) };
      },
    );
    this.#running = p.finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Kills a running ffprobe; no new one starts. */
  close(): void {
    this.#closed.abort();
  }
}
