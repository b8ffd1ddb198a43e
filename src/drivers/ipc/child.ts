/**
 * Runs a short-lived tool (ffprobe, ffmpeg for one frame) through `child_process.spawn` with a
 * hard deadline: on timeout or abort the child is killed (SIGKILL: a stuck RTSP open ignores
 * nothing else reliably) and the promise rejects with a coded DriverError. Never a shell.
 */
import { spawn } from 'node:child_process';
import { DriverError } from '../sdk/index.ts';

/** What a finished tool left behind. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  /** The last few KB of stderr (ffmpeg is chatty; the tail has the error). */
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill after this many ms; rejects with `Timeout`. */
  readonly timeout: number;
  /** Kill when aborted; rejects with `Offline`. */
  readonly signal?: AbortSignal;
  /** Largest stdout kept, in bytes (default 16 MB); more kills the child. */
  readonly maxStdout?: number;
}

const STDERR_TAIL = 4096;

/** Runs `command args` and resolves when it exits (whatever the exit code). */
export function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new DriverError('Offline', `${command}: aborted before start`));
      return;
    }
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    let failure: DriverError | undefined;
    const max = opts.maxStdout ?? 16 * 1024 * 1024;
    const kill = (e: DriverError) => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(new DriverError('Timeout', `${command} did not finish within ${opts.timeout} ms`)), opts.timeout);
    const onAbort = () => kill(new DriverError('Offline', `${command}: aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > max) kill(new DriverError('Protocol', `${command} wrote more than ${max} bytes`));
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.once('error', (e) => {
      failure ??= new DriverError('Unsupported', `${command} could not be started: ${e.message}`, { cause: e });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) reject(failure);
      else resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** The last meaningful line of an ffmpeg/ffprobe stderr, for error messages. */
export function lastLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  // Decoder chatter ("[h264 @ 0x…] non-existing PPS") hides the line that says why it failed.
  const meaningful = lines.filter((l) => !/^\[[\w-]+ @ 0x[0-9a-f]+\]/.test(l) && !/^Last message repeated/.test(l));
  return meaningful.at(-1) ?? lines.at(-1) ?? '(no output)';
}
