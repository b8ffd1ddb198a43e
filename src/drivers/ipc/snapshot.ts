/**
 * Snapshots: a JPEG fetched from the camera's ONVIF snapshot URI or grabbed from its stream with
 * `ffmpeg -frames:v 1`, saved as `<dir>/<epoch-ms>.jpg`. The folder keeps the newest `keep`
 * files and none older than `cacheTime` (Baetyl's `service.cacheTime`, minutes).
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DriverError } from '../sdk/index.ts';
import { lastLine, runProcess } from './child.ts';
import { redact } from './ffprobe.ts';

/** True when `b` starts with the JPEG SOI marker and a marker byte (ITU T.81 B.1.1.3: FF D8 FF). */
export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** ffmpeg arguments that write one frame of `url` as JPEG to stdout. */
export function grabArgs(url: string, transport: 'udp' | 'tcp', timeoutMs: number): string[] {
  const rtsp = /^rtsps?:/i.test(url) ? ['-rtsp_transport', transport, '-timeout', String(Math.max(1, Math.round(timeoutMs * 1000)))] : [];
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', ...rtsp, '-i', url, '-map', '0:v:0', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'];
}

/** Grabs one frame of a stream as JPEG bytes. */
export async function grabFrame(url: string, opts: { transport: 'udp' | 'tcp'; timeoutMs: number; signal?: AbortSignal; command?: string }): Promise<Buffer> {
  const r = await runProcess(opts.command ?? 'ffmpeg', grabArgs(url, opts.transport, opts.timeoutMs), { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (r.code !== 0 || r.stdout.length === 0) throw new DriverError('Offline', `ffmpeg could not grab a frame of ${redact(url)}: ${lastLine(r.stderr)}`);
  if (!isJpeg(r.stdout)) throw new DriverError('Protocol', `ffmpeg wrote no JPEG for ${redact(url)}`);
  return r.stdout;
}

/** The last snapshot saved. */
export interface SnapshotInfo {
  readonly path: string;
  readonly size: number;
  /** When it was taken (epoch ms). */
  readonly ts: number;
}

const NAME = /^(\d{13})(?:-(\d+))?\.jpg$/;

/** The snapshot folder of one camera. */
export class SnapshotStore {
  #last: SnapshotInfo | undefined;
  #count = 0;

  constructor(
    readonly dir: string,
    private readonly keep: number,
    /** Oldest file kept, in ms. */
    private readonly maxAge: number,
  ) {}

  get last(): SnapshotInfo | undefined {
    return this.#last;
  }

  /** Snapshots saved by this store (since the driver started). */
  get count(): number {
    return this.#count;
  }

  /** Writes `jpeg` (atomically: temp file, then rename) and prunes; returns where. */
  async save(jpeg: Buffer, ts: number): Promise<SnapshotInfo> {
    if (!isJpeg(jpeg)) throw new DriverError('Protocol', `the snapshot is not a JPEG (starts ${jpeg.subarray(0, 4).toString('hex') || 'empty'})`);
    await mkdir(this.dir, { recursive: true });
    let file = path.join(this.dir, `${ts}.jpg`);
    // Two snapshots in one millisecond (a write racing the schedule) keep both.
    if (this.#last?.ts === ts) file = path.join(this.dir, `${ts}-${this.#count}.jpg`);
    const tmp = `${file}.part`;
    await writeFile(tmp, jpeg);
    await rename(tmp, file);
    this.#last = { path: file, size: jpeg.length, ts };
    this.#count++;
    await this.prune(ts);
    return this.#last;
  }

  /** Deletes files beyond the newest `keep` and those older than the maximum age. */
  async prune(now: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    const files = names
      .map((n) => ({ n, m: NAME.exec(n) }))
      .filter((f): f is { n: string; m: RegExpExecArray } => f.m !== null)
      .map((f) => ({ name: f.n, ts: Number(f.m[1]), seq: Number(f.m[2] ?? 0) }))
      .sort((a, b) => b.ts - a.ts || b.seq - a.seq);
    const drop = files.filter((f, i) => i >= this.keep || now - f.ts > this.maxAge);
    await Promise.all(drop.map((f) => rm(path.join(this.dir, f.name), { force: true })));
  }
}
