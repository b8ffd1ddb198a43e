/**
 * A hosted driver's output streams: stderr is its log (Baetyl SDKs log only there), forwarded line
 * by line to ours with a level guessed from the line's prefix; stdout after the handshake line is
 * logged too, never parsed. The last few KB of stderr are kept for error messages.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../drivers/sdk/index.ts';

const LEVEL = /\b(ERROR|ERRO|FATAL|PANIC|WARN|WARNING|INFO|DEBUG|TRACE)\b/i;
const MAX_LINE = 8192;

/** The level a driver meant, from words like `[ERROR]`, `level=warn`, `WARNING:` near the start. */
export function levelOf(line: string): 'error' | 'warn' | 'info' | 'debug' {
  const m = LEVEL.exec(line.slice(0, 48));
  switch (m?.[1]?.toUpperCase()) {
    case 'ERROR':
    case 'ERRO':
    case 'FATAL':
    case 'PANIC':
      return 'error';
    case 'WARN':
    case 'WARNING':
      return 'warn';
    case 'DEBUG':
    case 'TRACE':
      return 'debug';
    default:
      return 'info';
  }
}

/** Forwards a stream's lines to the log; returns a function giving the recent text. */
export function forwardLines(stream: Readable, log: Logger, fields: Record<string, unknown>, initial = ''): () => string {
  let pending = '';
  let tail = '';
  const emit = (line: string) => {
    const text = line.replace(/\r$/, '');
    if (text.trim() === '') return;
    log[levelOf(text)]({ ...fields, line: text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}…` : text }, 'driver output');
  };
  const take = (chunk: string) => {
    tail = (tail + chunk).slice(-2048);
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > MAX_LINE) {
      emit(pending);
      pending = '';
    }
  };
  if (initial) take(initial);
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => take(c));
  stream.on('end', () => {
    if (pending) emit(pending);
    pending = '';
  });
  return () => tail;
}
