/** Shared bits of the cloud tests: a recording logger, temp folders, waiting. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/drivers/sdk/types.ts';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

/** A logger that keeps every line (and prints errors when FG_TEST_LOG is set). */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const mk = (level: LogLine['level']) => (obj: object | string, msg?: string) => {
    const line = typeof obj === 'string' ? { level, msg: obj, obj: {} } : { level, msg: msg ?? '', obj };
    lines.push(line);
    if (process.env['FG_TEST_LOG']) console.error(level, line.msg, JSON.stringify(line.obj));
  };
  const log = {
    lines,
    debug: mk('debug'),
    info: mk('info'),
    warn: mk('warn'),
    error: mk('error'),
    child: () => log,
  };
  return log;
}

/** A fresh temp folder and its cleanup. */
export function tempDir(prefix: string): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `pred` every 20 ms; rejects after `ms`. */
export async function waitUntil(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
