/**
 * The camera's RTSP stream: Debian's rtsp-server-perl relays what one ffmpeg publishes (an
 * H.264 test pattern, `-f tee` to one path per profile, so a camera costs one encoder whatever
 * its profile count). rtsp-server-perl only does RTP over UDP (no interleaved TCP), which works
 * on loopback. The encoded size is the smallest profile's, capped at 640x480, to spare CPU:
 * every path carries that same stream whatever its profile says.
 */
import { connect } from 'node:net';
import { startSupervised } from './proc.ts';
import type { Supervised } from './proc.ts';

export interface RtspOptions {
  readonly host: string;
  /** Port clients (ffprobe, the driver) connect to. */
  readonly clientPort: number;
  /** Port ffmpeg publishes (ANNOUNCE/RECORD) to. */
  readonly sourcePort: number;
  /** First of the UDP ports rtsp-server-perl binds for RTP/RTCP (two per stream set up). */
  readonly rtpBase: number;
  /** Paths served, without leading slash (profile tokens). */
  readonly paths: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** How long start() waits for every path to answer DESCRIBE with 200. */
  readonly readyTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with the status line of an RTSP DESCRIBE (undefined when nothing answers). */
export function rtspDescribe(host: string, port: number, path: string, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    let buf = '';
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.once('connect', () => s.write(`DESCRIBE rtsp://${host}:${port}/${path} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n`));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) done(buf.slice(0, nl));
    });
    s.once('error', () => done(undefined));
    s.once('close', () => done(buf === '' ? undefined : buf));
  });
}

async function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** rtsp-server-perl + one ffmpeg publisher; start() and stop() may alternate. */
export class RtspStream {
  #server: Supervised | undefined;
  #encoder: Supervised | undefined;
  constructor(readonly opts: RtspOptions) {}

  /** `rtsp://host:clientPort/<path>`. */
  url(path: string): string {
    return `rtsp://${this.opts.host}:${this.opts.clientPort}/${path}`;
  }

  /** Pids of the running server and encoder (what must be gone after stop()). */
  pids(): number[] {
    return [this.#server, this.#encoder].flatMap((p) => (p === undefined ? [] : [p.pid, p.watchdogPid]));
  }

  running(): boolean {
    return this.#server?.running() === true && this.#encoder?.running() === true;
  }

  /** Starts both processes and resolves when every path answers DESCRIBE with 200. */
  async start(): Promise<void> {
    if (this.running()) return;
    await this.stop();
    const o = this.opts;
    const deadline = Date.now() + (o.readyTimeoutMs ?? 10_000);
    try {
      // rtsp-server-perl resets its next RTP port to the package global $RTP_START_PORT (20000),
      // not to --rtp_start_port, whenever a connection closes while nothing is mounted
      // (RTSP::Server::housekeeping); set the global too so parallel servers keep apart.
      this.#server = await startSupervised('rtsp-server-perl', '/usr/bin/perl', [
        '-e', 'use RTSP::Server; $RTSP::Server::RTP_START_PORT = shift @ARGV; do "/usr/bin/rtsp-server-perl"; die $@ if $@;', String(o.rtpBase),
        '-c', String(o.clientPort), '-s', String(o.sourcePort),
        '--client_listen_address', o.host, '--source_listen_address', o.host,
        '--rtp_start_port', String(o.rtpBase), '-l', '2',
      ]);
      while (!(await tcpOpen(o.host, o.sourcePort))) {
        if (!this.#server.running() || Date.now() > deadline) throw new Error(`rtsp-server-perl did not listen on ${o.host}:${o.sourcePort}: ${this.#server.stderr().trim().slice(-300)}`);
        await sleep(100);
      }
      const outputs = o.paths.map((p) => `[f=rtsp]rtsp://${o.host}:${o.sourcePort}/${p}`).join('|');
      this.#encoder = await startSupervised('ffmpeg', '/usr/bin/ffmpeg', [
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
        '-f', 'lavfi', '-i', `testsrc=size=${o.width}x${o.height}:rate=${o.fps}`,
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(Math.max(1, Math.round(o.fps))), '-pix_fmt', 'yuv420p', '-flags', '+global_header', '-x264-params', 'repeat-headers=1',
        '-map', '0:v', '-f', 'tee', outputs,
      ]);
      for (const p of o.paths) {
        for (;;) {
          const status = await rtspDescribe(o.host, o.clientPort, p);
          if (status?.startsWith('RTSP/1.0 200') === true) break;
          if (!this.running() || Date.now() > deadline) throw new Error(`RTSP path /${p} not ready (${status ?? 'no answer'}): ${this.#encoder.stderr().trim().slice(-300)}`);
          await sleep(150);
        }
      }
      // DESCRIBE answers once ffmpeg has ANNOUNCEd; RECORD (which binds the RTP listeners) comes
      // just after and can still fail, so make sure the encoder is still publishing.
      await sleep(300);
      if (!this.running()) throw new Error(`ffmpeg stopped publishing: ${this.#encoder.stderr().trim().slice(-300)}`);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops the encoder, then the server; resolves once both processes are gone. */
  async stop(): Promise<void> {
    const enc = this.#encoder;
    const srv = this.#server;
    this.#encoder = undefined;
    this.#server = undefined;
    await Promise.all([enc?.stop(), srv?.stop()]);
  }
}
