/**
 * Snapshot frames: a few JPEGs rendered once by ffmpeg (`testsrc2`, which draws a moving pattern
 * and a frame counter, so consecutive frames differ) and served in rotation.
 */
import { spawn } from 'node:child_process';

/**
 * Splits an MJPEG byte stream (`-f image2pipe -c:v mjpeg`) into JPEGs. Inside entropy-coded data
 * 0xFF is always followed by 0x00 or a restart marker (ITU T.81 §B.1.1.5), so FF D9 (EOI)
 * followed by FF D8 (SOI) or the end marks a frame boundary.
 */
export function splitJpegs(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 0xff && buf[i + 1] === 0xd9 && (i + 2 === buf.length || (buf[i + 2] === 0xff && buf[i + 3] === 0xd8))) {
      out.push(buf.subarray(start, i + 2));
      start = i + 2;
      i++;
    }
  }
  return out.filter((f) => f.length >= 4 && f[0] === 0xff && f[1] === 0xd8);
}

/** Renders `count` JPEG frames of `width`x`height` with ffmpeg; rejects after `timeoutMs`. */
export function renderJpegs(width: number, height: number, count: number, timeoutMs = 15_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const ff = spawn('/usr/bin/ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=10`,
      '-frames:v', String(count), '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => chunks.push(d));
    ff.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-2000);
    });
    const timer = setTimeout(() => ff.kill('SIGKILL'), timeoutMs);
    ff.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`ffmpeg: ${e.message}`));
    });
    ff.once('close', (code) => {
      clearTimeout(timer);
      const frames = splitJpegs(Buffer.concat(chunks));
      if (code !== 0 || frames.length === 0) reject(new Error(`ffmpeg rendered ${frames.length} frames (exit ${code}): ${err.trim()}`));
      else resolve(frames);
    });
  });
}
